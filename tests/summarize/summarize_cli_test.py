"""`ragd summarize` end to end with the packaged instruct model. Nothing
compares generated text with a recorded string: the checks are the
structure (strategy, parts and their labels, how many model calls each
strategy makes), citations within the parts, the language, that a
knowledge base's document comes back whole (its chunks' overlaps removed),
the traces, and the errors people get.

Usage: summarize_cli_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

RAGD, SOURCE = sys.argv[1], sys.argv[2]
DATA = tempfile.mkdtemp(prefix="ragd-summarize-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)
HANDBOOK = os.path.join(SOURCE, "examples", "bank-kb", "handbook.md")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from server_test import Server  # noqa: E402  (one way to start ragd serve)


def ragd(*args, check=True):
    r = subprocess.run([RAGD, *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def summary(*args):
    return json.loads(ragd("-q", "summarize", *args, "--json", "--max-tokens", "160").stdout)


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def squash(s):
    return re.sub(r"\s+", "", s)


def check_citations(test, s):
    numbers = [int(n) for group in re.findall(r"\[(\d+(?:\s*,\s*\d+)*)\]", s["text"]) for n in group.split(",")]
    test.assertTrue(all(1 <= n <= len(s["parts"]) for n in numbers), (numbers, len(s["parts"])))
    test.assertEqual(sorted(s["cited"]), sorted(set(numbers)))
    test.assertEqual([p["n"] for p in s["parts"] if p["cited"]], sorted(set(numbers)))


class Summarize(unittest.TestCase):
    def test_a_short_document_is_stuffed_into_one_call_with_parts_by_heading(self):
        s = summary(HANDBOOK, "--words", "60", "--lang", "en")
        self.assertEqual(s["strategy"], "stuff")
        self.assertEqual(s["usage"]["model_calls"], 1)
        self.assertEqual(s["language"], "en")
        self.assertGreater(len(s["parts"]), 2)
        self.assertTrue(any("Wire transfers" in p["label"] for p in s["parts"]), [p["label"] for p in s["parts"]])
        self.assertTrue(s["text"].strip())
        check_citations(self, s)
        # Every character once: the parts hold the document's text, no more.
        self.assertEqual(squash("".join(p["text"] for p in s["parts"])).count("SWIFT"),
                         open(HANDBOOK, encoding="utf-8").read().count("SWIFT"))

    def test_map_reduce_summarizes_each_part_then_combines_them(self):
        r = ragd("summarize", HANDBOOK, "--strategy", "map-reduce", "--part-tokens", "150", "--words", "60",
                 "--lang", "en", "--max-tokens", "120")
        self.assertRegex(r.stderr, r"map \d+/\d+")
        self.assertIn("Parts (map-reduce,", r.stdout)
        s = summary(HANDBOOK, "--strategy", "map-reduce", "--part-tokens", "150", "--words", "60", "--lang", "en")
        n = len(s["parts"])
        self.assertGreater(n, 3)
        self.assertTrue(all(p["tokens"] <= 150 for p in s["parts"]), [p["tokens"] for p in s["parts"]])
        self.assertEqual(s["reduce_levels"], 1)
        self.assertEqual(s["usage"]["model_calls"], n + 1)
        check_citations(self, s)

    def test_refine_makes_one_call_per_part(self):
        s = summary(HANDBOOK, "--strategy", "refine", "--part-tokens", "250", "--words", "50", "--lang", "en")
        self.assertEqual(s["strategy"], "refine")
        self.assertEqual(s["usage"]["model_calls"], len(s["parts"]))
        self.assertGreater(len(s["parts"]), 1)
        check_citations(self, s)

    def test_a_chinese_document_is_summarized_in_chinese_unless_asked(self):
        path = os.path.join(DATA, "fees.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("信用卡逾期还款的，自记账日起按日利率万分之五计收利息，并按最低还款额未还部分的5%收取违约金，"
                    "最低10元、最高500元。\n\n白金信用卡主卡年费1200元，附属卡年费600元。一个卡片年度内刷卡消费满12次，可免次年年费。\n")
        s = summary(path, "--words", "40")
        self.assertEqual(s["language"], "zh")
        self.assertRegex(s["text"], r"[\u4e00-\u9fff]")
        s = summary(path, "--words", "40", "--lang", "en", "--focus", "annual fees only")
        self.assertEqual(s["language"], "en")
        traces = jsonl(os.path.join(DATA, "traces.jsonl"))
        last = [t for t in traces if t["kind"] == "chat"][-1]
        self.assertEqual(last["question"], "summarize: " + path)
        self.assertIn("Cover only this: annual fees only.", json.dumps(last["input"], ensure_ascii=False))

    def test_a_knowledge_base_document_comes_back_whole(self):
        ragd("-q", "ingest", "--kb", "bank", "--chunk-size", "120", "--chunk-overlap", "30", HANDBOOK)
        doc_id = os.path.realpath(HANDBOOK)  # a file's id is its canonical path
        from_kb = summary("--kb", "bank", "--doc", doc_id, "--words", "40", "--lang", "en")
        from_file = summary(HANDBOOK, "--words", "40", "--lang", "en")
        self.assertEqual(squash("".join(p["text"] for p in from_kb["parts"])),
                         squash("".join(p["text"] for p in from_file["parts"])))
        check_citations(self, from_kb)
        # Kept with the document, shown without the model, dropped when it changes.
        kept = json.loads(ragd("-q", "summarize", "--kb", "bank", "--doc", doc_id, "--kept", "--json").stdout)
        self.assertEqual(kept, from_kb)
        changed = os.path.join(DATA, "handbook-copy.md")
        with open(changed, "w", encoding="utf-8") as f:
            f.write(open(HANDBOOK, encoding="utf-8").read())
        ragd("-q", "ingest", "--kb", "bank", changed)
        summary("--kb", "bank", "--doc", os.path.realpath(changed), "--words", "20", "--lang", "en")
        with open(changed, "a", encoding="utf-8") as f:
            f.write("\n\n## New section\n\nA line added later.\n")
        ragd("-q", "ingest", "--kb", "bank", changed)
        r = ragd("-q", "summarize", "--kb", "bank", "--doc", os.path.realpath(changed), "--kept", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no summary is kept", r.stderr)

    def test_errors_people_get(self):
        def fails(*args):
            r = ragd("-q", "summarize", *args, check=False)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            return r.stderr
        self.assertIn("give a file, or --kb K --doc ID", fails())
        self.assertIn("--doc needs --kb", fails("--doc", "x"))
        self.assertIn("not both", fails(HANDBOOK, "--kb", "bank", "--doc", "x"))
        self.assertIn("unknown summary strategy 'mapreduce'", fails(HANDBOOK, "--strategy", "mapreduce"))
        self.assertIn("--words must be between 10 and 2000, got 5", fails(HANDBOOK, "--words", "5"))
        self.assertIn("--lang must be auto, en or zh, not 'fr'", fails(HANDBOOK, "--lang", "fr"))
        self.assertIn("no-such-file.pdf", fails(os.path.join(DATA, "no-such-file.pdf")))
        long_doc = os.path.join(DATA, "long.md")
        with open(long_doc, "w") as f:
            f.write("\n\n".join(f"## Section {i}\n\n" + "The fee is charged monthly on the account. " * 40 for i in range(20)))
        self.assertIn("use --strategy map-reduce or refine", fails(long_doc, "--strategy", "stuff", "--ctx", "1024"))


# A tiny summary set whose first reference is the document's first two
# sentences: lead-N at that length must score ROUGE 1 and BERTScore 1.
DOC_EN = ("Savings accounts pay interest monthly. The annual rate is 1.5 percent for balances under 50,000 yuan. "
          "Larger balances earn 1.8 percent. Withdrawals are free at any branch. "
          "Early closure within six months costs a fee of 20 yuan. Statements arrive by email each quarter.")
REF_EN = "Savings accounts pay interest monthly. The annual rate is 1.5 percent for balances under 50,000 yuan."
DOC_ZH = "储蓄账户每月支付利息。五万元以下余额的年利率为百分之一点五。更高的余额年利率为百分之一点八。任何网点均可免费取款。提前销户需支付二十元手续费。"
REF_ZH = "储蓄账户每月支付利息。五万元以下余额的年利率为百分之一点五。"


def summary_set(folder, refs=None):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "docs.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "en-1", "title": "Savings", "text": DOC_EN}) + "\n")
        f.write(json.dumps({"_id": "zh-1", "title": "储蓄", "text": DOC_ZH}, ensure_ascii=False) + "\n")
    with open(os.path.join(folder, "summaries.jsonl"), "w", encoding="utf-8") as f:
        for line in refs or [{"_id": "en-1", "summaries": [REF_EN, "Interest is paid every month."]},
                             {"_id": "zh-1", "summary": REF_ZH}]:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return folder


class CharTokenizer:
    """rouge-score's own lowercasing and [a-z0-9] words, with each CJK
    character a token, as ragd scores Chinese."""

    def tokenize(self, text):
        text = re.sub(r"\[\d+(?:\s*,\s*\d+)*\]", " ", text.lower())
        text = re.sub(r"([\u4e00-\u9fff])", r" \1 ", text)
        return [t for t in re.split(r"[^a-z0-9\u4e00-\u9fff]+", text) if t]


class EvalSummaries(unittest.TestCase):
    def run_eval(self, folder, *args, check=True):
        return ragd("-q", "eval", "summaries", folder, *args, check=check)

    def test_baselines_score_a_known_answer_and_agree_with_rouge_score(self):
        folder = summary_set(os.path.join(DATA, "set-baselines"))
        out = os.path.join(folder, "records.jsonl")
        report = json.loads(self.run_eval(folder, "--methods", "lead,central", "--out", out, "--json").stdout)
        rows = {r["method"]: r for r in report["methods"]}
        self.assertEqual(report["reference_in_text"], 2)  # each reference is its document's opening
        self.assertEqual(rows["lead"]["docs"], 2)
        self.assertAlmostEqual(rows["lead"]["rouge1"], 1.0, places=9)
        self.assertAlmostEqual(rows["lead"]["rougeL"], 1.0, places=9)
        self.assertGreater(rows["lead"]["bert_f1"], 0.999)
        self.assertAlmostEqual(rows["lead"]["length_ratio"], 1.0, places=9)
        self.assertGreater(rows["central"]["rouge1"], 0)
        self.assertEqual(sorted(report["bertscore_models"]),
                         ["all-MiniLM-L6-v2/384, layer 6 of 6", "multilingual-e5-small/384, layer 12 of 12"])
        records = jsonl(out)
        self.assertEqual(len(records), 4)
        # ragd's ROUGE against the reference implementation, record by record.
        from rouge_score import rouge_scorer
        for r in records:
            tok = CharTokenizer() if r["language"] == "zh" else None
            scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=tok)
            ref = scorer.score_multi(r["references"], re.sub(r"\[\d+(?:\s*,\s*\d+)*\]", " ", r["summary"]))
            for key in ("rouge1", "rouge2", "rougeL"):
                self.assertAlmostEqual(r[key], ref[key].fmeasure, places=9, msg=(r["id"], r["method"], key))
        # A second run reuses every record and writes none.
        again = json.loads(self.run_eval(folder, "--methods", "lead,central", "--out", out, "--json").stdout)
        self.assertEqual(again["reused"], 4)
        self.assertEqual(len(jsonl(out)), 4)
        self.assertEqual(again["methods"], report["methods"])

    def test_a_model_summary_is_scored_and_judged_sentence_by_sentence(self):
        folder = summary_set(os.path.join(DATA, "set-model"))
        out = os.path.join(folder, "records.jsonl")
        report = json.loads(self.run_eval(folder, "--methods", "lead,stuff", "--limit", "1", "--words", "30",
                                          "--max-tokens", "120", "--out", out, "--json").stdout)
        rows = {r["method"]: r for r in report["methods"]}
        self.assertEqual(rows["stuff"]["docs"], 1, rows)
        self.assertEqual(rows["stuff"]["paired_with_lead"], 1)
        self.assertGreater(rows["stuff"]["tokens_per_doc"], 0)
        r = jsonl(out)[-1]
        self.assertEqual((r["method"], r["strategy"], r["id"]), ("stuff", "stuff", "en-1"))
        self.assertTrue(r["model"])
        self.assertGreater(r["model_calls"], 0)
        self.assertTrue(r["judged"], r)
        self.assertTrue(all(p >= 1 and p <= r["parts"] for j in r["judged"] for p in j["parts"]), r["judged"])
        self.assertAlmostEqual(r["faithfulness"], sum(j["supported"] for j in r["judged"]) / len(r["judged"]), places=9)
        self.assertGreater(r["bert_f1"], 0.3)
        self.assertIn("eval summaries: stuff en-1", [t.get("question") for t in jsonl(os.path.join(DATA, "traces.jsonl"))])

    def test_errors_people_get(self):
        def fails(folder, *args):
            r = self.run_eval(folder, *args, check=False)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            return r.stderr
        self.assertIn("no such folder", fails(os.path.join(DATA, "no-such-set")))
        folder = summary_set(os.path.join(DATA, "set-errors"), refs=[{"_id": "en-1", "summary": "x"},
                                                                     {"_id": "nope", "summary": "y"}])
        self.assertIn("summaries.jsonl:2: _id 'nope' is not in docs.jsonl", fails(folder))
        summary_set(folder)
        self.assertIn("--methods: 'abstractive' is not lead, central", fails(folder, "--methods", "lead,abstractive"))
        self.assertIn("--words must be between 10 and 2000, got 3", fails(folder, "--words", "3"))


class ParallelMapCalls(unittest.TestCase):
    """A remote backend gets the map calls at once: a real llama-server with
    two slots, the calls' traced latencies adding up to more than the
    summary's wall time (one after another they could not)."""

    def test_map_calls_overlap_on_a_server_with_two_slots(self):
        server_bin = os.path.join(SOURCE, ".deps", "llama", "bin", "llama-server")
        model = os.path.join(SOURCE, ".deps", "models", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([server_bin, "-m", model, "--host", "127.0.0.1", "--port", str(port), "-t", "2",
                                 "-c", "8192", "-np", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                self.assertLess(time.time(), deadline, "llama-server did not start")
                time.sleep(0.5)
            data = tempfile.mkdtemp(prefix="ragd-parallel-")
            r = subprocess.run([RAGD, "-q", "summarize", HANDBOOK, "--backend", "openai", "--base-url",
                                f"http://127.0.0.1:{port}/v1", "--ctx", "4096", "--strategy", "map-reduce",
                                "--part-tokens", "150", "--words", "40", "--lang", "en", "--max-tokens", "48", "--json"],
                               env=dict(ENV, RAGD_DATA_DIR=data), capture_output=True, text=True, timeout=900)
            self.assertEqual(r.returncode, 0, r.stderr)
            s = json.loads(r.stdout)
            self.assertGreater(len(s["parts"]), 3)
            self.assertEqual(s["usage"]["model_calls"], len(s["parts"]) + 1)
            calls = [c for c in jsonl(os.path.join(data, "traces.jsonl")) if c["kind"] == "chat"]
            self.assertEqual(len(calls), len(s["parts"]) + 1)
            self.assertGreater(sum(c["latency_seconds"] for c in calls), s["seconds"] * 1.05, (calls, s["seconds"]))
            check_citations(self, s)
            seen = len(jsonl(os.path.join(data, "traces.jsonl")))
            # --parallel 1 puts them back in a row.
            r = subprocess.run([RAGD, "-q", "summarize", HANDBOOK, "--backend", "openai", "--base-url",
                                f"http://127.0.0.1:{port}/v1", "--ctx", "4096", "--strategy", "map-reduce",
                                "--part-tokens", "150", "--words", "40", "--lang", "en", "--max-tokens", "48", "--json",
                                "--parallel", "1"], env=dict(ENV, RAGD_DATA_DIR=data), capture_output=True, text=True,
                               timeout=900)
            self.assertEqual(r.returncode, 0, r.stderr)
            s1 = json.loads(r.stdout)
            calls = jsonl(os.path.join(data, "traces.jsonl"))[seen:]
            self.assertLessEqual(sum(c["latency_seconds"] for c in calls if c["kind"] == "chat"), s1["seconds"])
        finally:
            proc.terminate()
            proc.wait(timeout=30)


class SummaryOverHttp(unittest.TestCase):
    """POST /api/kbs/{kb}/documents/{id}/summary on ragd serve."""

    @classmethod
    def setUpClass(cls):
        cls.s = Server("--max-tokens", "160")
        cls.s.json("POST", "/api/kbs", {"name": "bank"})
        with open(HANDBOOK, "rb") as f:
            status, body = cls.s.upload("bank", [("handbook.md", f.read())])
        assert status == 201, body
        _, docs = cls.s.json("GET", "/api/kbs/bank/documents")
        cls.path = "/api/kbs/bank/documents/" + urllib.parse.quote(docs["documents"][0]["doc_id"], safe="") + "/summary"

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_a_summary_as_json_and_streamed(self):
        status, s = self.s.json("POST", self.path, {"words": 40, "lang": "en"})
        self.assertEqual(status, 200, s)
        self.assertEqual(s["strategy"], "stuff")
        check_citations(self, s)
        status, doc = self.s.json("GET", self.path[: -len("/summary")])
        self.assertEqual(doc["summary"], s)
        status, raw = self.s.request("POST", self.path, {"words": 40, "lang": "en", "stream": True})
        self.assertEqual(status, 200)
        events = [json.loads(l[5:]) for l in raw.decode().splitlines() if l.startswith("data:") and l != "data: [DONE]"]
        self.assertTrue(raw.decode().rstrip().endswith("data: [DONE]"))
        self.assertIn("progress", events[0])
        self.assertTrue(any("delta" in e for e in events))
        self.assertEqual(list(events[-1]), ["summary"])
        check_citations(self, events[-1]["summary"])

    def test_errors(self):
        status, body = self.s.json("POST", "/api/kbs/bank/documents/no-such-doc/summary", {})
        self.assertEqual(status, 404, body)
        self.assertIn("no-such-doc", body["error"]["message"])
        status, body = self.s.json("POST", self.path, {"words": 3})
        self.assertEqual((status, body["error"]["message"]), (422, "--words must be between 10 and 2000, got 3"))
        status, body = self.s.json("POST", self.path, {"words": "many"})
        self.assertEqual(status, 422)
        status, _ = self.s.json("POST", self.path, {}, key=None)
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
