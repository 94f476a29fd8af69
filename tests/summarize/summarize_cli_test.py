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
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

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
        traces = [json.loads(l) for l in open(os.path.join(DATA, "traces.jsonl"), encoding="utf-8")]
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
