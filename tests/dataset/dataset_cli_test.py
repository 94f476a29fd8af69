"""`ragd dataset synth` and `ragd dataset export` end to end with the real
packaged chat model, and documents as people have them through the CLI:
the deck, workbook and scans of examples/documents ingested, the OCR mark
in search results and citations, --no-ocr.

What the model writes is not compared with recorded text: the checks are
that the files parse in their format, that the counts agree with the files,
that every kept answer is supported by the knowledge base, and that a
conversation held through `ragd chat` and `ragd ask` comes back out of the
sessions and traces.

Usage: dataset_cli_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import json
import re
import os
import subprocess
import sys
import tempfile
import unittest

RAGD, SOURCE = sys.argv[1], sys.argv[2]
DATA = tempfile.mkdtemp(prefix="ragd-dataset-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)
DOCS = os.path.join(SOURCE, "examples", "documents")


def ragd(*args, check=True, stdin=None):
    r = subprocess.run([RAGD, *args], env=ENV, capture_output=True, text=True, timeout=900, input=stdin)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class DatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ragd("-q", "ingest", "--kb", "bank", os.path.join(SOURCE, "examples", "bank-kb", "faq.csv"))

    def test_synth_writes_parsable_supported_pairs_split_in_two_files(self):
        out = os.path.join(DATA, "faq.jsonl")
        rejected = os.path.join(DATA, "rejected.jsonl")
        r = ragd("dataset", "synth", "--kb", "bank", "--out", out, "--max-chunks", "3", "--per-chunk", "2",
                 "--format", "sharegpt", "--validation", "0.5", "--rejected", rejected, "--json")
        rep = json.loads(r.stdout)
        self.assertEqual(rep["chunks"], 3)
        train, val = lines(rep["train_file"]), lines(rep["validation_file"])
        self.assertEqual(rep["train_file"], os.path.join(DATA, "faq.train.jsonl"))
        self.assertEqual(len(train), rep["train"])
        self.assertEqual(len(val), rep["validation"])
        self.assertEqual(rep["kept"], len(train) + len(val))
        dropped = rep["dropped"]
        self.assertLessEqual(rep["kept"] + dropped["unsupported"] + dropped["duplicates"] + dropped["not_questions"],
                             rep["generated"])
        # Each dropped pair is in the rejected file with its reason.
        reasons = [r["reason"] for r in lines(rejected)]
        self.assertEqual(reasons.count("unsupported"), dropped["unsupported"])
        self.assertEqual(reasons.count("duplicate"), dropped["duplicates"])
        self.assertEqual(reasons.count("not a question"), dropped["not_questions"])
        self.assertGreaterEqual(rep["kept"], 1, rep)
        with open(os.path.join(SOURCE, "examples", "bank-kb", "faq.csv"), encoding="utf-8") as f:
            faq = f.read()
        for example in train + val:
            turns = example["conversations"]
            self.assertEqual([t["from"] for t in turns], ["human", "gpt"])
            self.assertTrue(turns[0]["value"].strip() and turns[1]["value"].strip())
            # Supported: most of the answer's words (Chinese: characters)
            # are the knowledge base's (the filter asks this per sentence,
            # of analyzer terms and bigrams, which is stricter).
            words = re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", turns[1]["value"].lower())
            known = set(re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", faq.lower()))
            self.assertGreaterEqual(sum(w in known for w in words), len(words) / 2, turns[1]["value"])

    def test_sessions_and_traces_come_back_as_conversations(self):
        ragd("chat", "--kb", "bank", "--max-tokens", "60", "--json", stdin="How do I report a lost card?\n")
        ragd("ask", "--kb", "bank", "How do I reset my online banking password?", "--max-tokens", "40")
        out = os.path.join(DATA, "sessions.jsonl")
        rep = json.loads(ragd("dataset", "export", "--kb", "bank", "--sessions", "--out", out, "--json").stdout)
        self.assertEqual(rep["conversations"], 1)
        session = lines(out)[0]["messages"]
        self.assertEqual(session[0], {"role": "user", "content": "How do I report a lost card?"})
        self.assertEqual(session[1]["role"], "assistant")
        out = os.path.join(DATA, "traces.jsonl")
        rep = json.loads(ragd("dataset", "export", "--kb", "bank", "--traces", "--out", out, "--format", "alpaca",
                              "--json").stdout)
        examples = lines(out)
        self.assertEqual(rep["conversations"], len(examples))
        self.assertGreaterEqual(len(examples), 2)
        self.assertTrue(any("How do I reset my online banking password?" in e["instruction"] for e in examples))
        self.assertTrue(all(e["output"] for e in examples))

    def test_export_errors_are_clear(self):
        r = ragd("dataset", "export", "--kb", "bank", "--out", os.path.join(DATA, "x.jsonl"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("give one of --sessions and --traces", r.stderr)
        r = ragd("dataset", "export", "--kb", "bank", "--sessions", "--format", "csv", "--out", "x", check=False)
        self.assertIn("unknown dataset format 'csv'", r.stderr)
        r = ragd("dataset", "synth", "--kb", "nope", "--out", os.path.join(DATA, "y.jsonl"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope", r.stderr)


class DocumentsTest(unittest.TestCase):
    """The example deck, workbook and scans through ingest and search."""

    @classmethod
    def setUpClass(cls):
        cls.report = json.loads(ragd("ingest", "--kb", "docs", DOCS, "--json").stdout)

    def search(self, query, *extra):
        return json.loads(ragd("search", "--kb", "docs", query, "--json", "-k", "3", *extra).stdout)["results"]

    def test_every_document_is_read(self):
        self.assertEqual(self.report["added"], 4, self.report)
        self.assertEqual(self.report["failed"], [])

    def test_a_cell_question_finds_its_row(self):
        hit = self.search("annual fee of the Gold card")[0]
        self.assertTrue(hit["source"].endswith("fee-schedule.xlsx"))
        self.assertIn("Card: Gold", hit["text"])
        self.assertIn("Annual fee (CNY): 380", hit["text"])
        self.assertEqual(hit["heading_path"], "Card fees > 2027 card fee schedule")

    def test_slides_cite_their_number_and_keep_notes(self):
        hit = self.search("withdrawing a time deposit early demand deposit rate")[0]
        self.assertTrue(hit["source"].endswith("deposit-briefing.pptx"))
        self.assertEqual(hit["page"], 2)
        self.assertIn("Speaker notes:", hit["text"])

    def test_ocr_text_is_marked_and_cited_as_such(self):
        hit = self.search("Saturday cash services opening hours")[0]
        self.assertTrue(hit["source"].endswith("branch-notice.pdf"))
        self.assertEqual(hit["page"], 2)
        self.assertTrue(hit["ocr"])
        self.assertGreater(hit["ocr_confidence"], 0.5)
        self.assertIn("(OCR ", hit["label"])
        text_page = self.search("Riverside branch changes its opening hours", "--mode", "bm25")[0]
        self.assertEqual(text_page["page"], 1)
        self.assertFalse(text_page["ocr"])
        self.assertIsNone(text_page["ocr_confidence"])

    def test_no_ocr_skips_scans_and_refuses_images(self):
        r = ragd("ingest", "--kb", "docs-no-ocr", DOCS, "--no-ocr", "--json", check=False)
        self.assertEqual(r.returncode, 3)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["added"], 3)
        self.assertEqual(len(rep["failed"]), 1)
        self.assertIn("rate-card.png is an image and OCR is switched off", rep["failed"][0]["error"])
        r = ragd("ingest", "--kb", "docs-bad", DOCS, "--ocr-lang", "eng;rm", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("are not Tesseract language names", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
