"""A knowledge base's embedder through the CLI: `kb info` reports the
scripts of its documents and warns when an English-only embedder holds
Chinese ones; `kb reembed` switches the embedder in place, and a run killed
part way leaves the knowledge base searchable with its old vectors,
consistent, and resumable; `kb tune` runs end to end with the real packaged
chat model (what it chooses is not asserted: a real model's questions
differ between CPUs; that the choice is kept and followed is).

Usage: kb_embedder_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

RAGD, SOURCE = sys.argv[1], sys.argv[2]
DATA = tempfile.mkdtemp(prefix="ragd-embedder-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA, RAGD_AUTO_TUNE="0")
BANK = os.path.join(SOURCE, "examples", "bank-kb")

ZH = ["信用卡年费为每年380元，消费满12次免次年年费。", "定期存款提前支取的部分按活期利率计息。",
      "手机银行转账单笔限额为5万元，每日限额20万元。", "外币兑换每人每年额度为等值5万美元。"]


def ragd(*args, check=True):
    r = subprocess.run([RAGD, *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def info(kb):
    return json.loads(ragd("kb", "info", kb, "--json").stdout)


def write_corpus(folder, n):
    """n small documents, Chinese and English, each a few chunks' worth."""
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"d{i:03d}.txt"), "w", encoding="utf-8") as f:
            if i % 2:
                f.write("\n\n".join(f"第{i}号通知第{j}段：" + ZH[(i + j) % 4] * 6 for j in range(4)))
            else:
                f.write("\n\n".join(f"Notice {i} part {j}: the branch at street {i * 7 + j} opens at nine and "
                                    f"closes at {5 + j % 3} in the afternoon; cards are replaced within {j + 2} days. " * 3
                                    for j in range(4)))


class EmbedderTest(unittest.TestCase):
    def test_scripts_and_the_english_only_warning(self):
        zh = os.path.join(DATA, "zh")
        os.makedirs(zh)
        for i, t in enumerate(ZH):
            with open(os.path.join(zh, f"z{i}.txt"), "w", encoding="utf-8") as f:
                f.write(t)
        with open(os.path.join(zh, "en.txt"), "w", encoding="utf-8") as f:
            f.write("The Gold card's annual fee is 380 yuan.")
        ragd("-q", "ingest", zh, "--kb", "zh-minilm", "--embed-model", "all-MiniLM-L6-v2")
        i = info("zh-minilm")
        self.assertAlmostEqual(i["scripts"]["cjk"], 0.8)
        self.assertAlmostEqual(i["scripts"]["latin"], 0.2)
        self.assertIn("80% of the documents are Chinese", i["language_warning"])
        self.assertIn("ragd kb reembed zh-minilm --embed-model multilingual-e5-small", i["language_warning"])
        human = ragd("kb", "info", "zh-minilm").stdout
        self.assertIn("scripts:      cjk 80%, latin 20%", human)
        self.assertIn("warning:", human)
        # A multilingual embedder reads them: no warning.
        ragd("-q", "ingest", zh, "--kb", "zh-e5", "--embed-model", "multilingual-e5-small")
        self.assertNotIn("language_warning", info("zh-e5"))
        # Listings stay cheap: no scripts there.
        listed = json.loads(ragd("kb", "list", "--json").stdout)["knowledge_bases"]
        self.assertTrue(all("scripts" not in k for k in listed))

    def test_reembed_killed_midway_stays_searchable_and_resumes(self):
        corpus = os.path.join(DATA, "corpus")
        write_corpus(corpus, 120)
        ragd("-q", "ingest", corpus, "--kb", "re", "--embed-model", "all-MiniLM-L6-v2", "--chunk-size", "60")
        before = info("re")
        self.assertTrue(before["embed_model"].startswith("all-MiniLM-L6-v2/"))
        self.assertGreater(before["chunks"], 400)
        q = ["search", "when does the branch at street 84 open", "--kb", "re", "--json", "-k", "3"]
        hits_before = json.loads(ragd(*q).stdout)["results"]
        self.assertTrue(hits_before)

        db = os.path.join(DATA, "re", "kb.sqlite")
        p = subprocess.Popen([RAGD, "-q", "kb", "reembed", "re", "--embed-model", "multilingual-e5-small"], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        staged, deadline = 0, time.time() + 300
        while staged < 128 and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
            with sqlite3.connect(db, timeout=10) as c:
                staged = c.execute("SELECT count(*) FROM staged_vectors").fetchone()[0]
        self.assertIsNone(p.poll(), "reembed finished before it could be killed")
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertGreaterEqual(staged, 128)

        # Killed: the old embedder and vectors serve, and all of it agrees.
        mid = info("re")
        self.assertEqual(mid["embed_model"], before["embed_model"])
        self.assertEqual(mid["chunks"], before["chunks"])
        self.assertEqual(json.loads(ragd(*q).stdout)["results"], hits_before)
        dense = json.loads(ragd(*q, "--mode", "dense").stdout)["results"]
        self.assertTrue(dense)
        self.assertEqual(json.loads(ragd("kb", "check", "re", "--json").stdout)["consistent"], True)

        # Run again: what was staged is kept, the rest embedded, then swapped in.
        r = json.loads(ragd("kb", "reembed", "re", "--embed-model", "multilingual-e5-small", "--json").stdout)
        self.assertGreaterEqual(r["resumed"], 128)
        self.assertEqual(r["resumed"] + r["embedded"], before["chunks"])
        self.assertTrue(r["to"].startswith("multilingual-e5-small/"))
        after = info("re")
        self.assertEqual(after["embed_model"], r["to"])
        self.assertEqual(json.loads(ragd("kb", "check", "re", "--json").stdout)["consistent"], True)
        # Searched without naming a model: the knowledge base's own is used.
        dense = json.loads(ragd(*q, "--mode", "dense").stdout)["results"]
        self.assertIn("street 84", dense[0]["text"])
        with sqlite3.connect(db) as c:
            self.assertEqual(c.execute("SELECT count(*) FROM staged_vectors").fetchone()[0], 0)
        # The same model again is refused with a clear message.
        again = ragd("kb", "reembed", "re", "--embed-model", "multilingual-e5-small", check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("already uses the embedding model", again.stderr)
        missing = ragd("kb", "reembed", "re", check=False)
        self.assertIn("--embed-model", missing.stderr)

    def test_tune_with_the_real_chat_model_keeps_a_choice_that_searches_follow(self):
        ragd("-q", "ingest", BANK, "--kb", "bank")
        r = ragd("kb", "tune", "bank", "--sample", "8", "--json", check=False)
        if r.returncode != 0:
            # Too few usable questions from a small model is a clear error, not a crash.
            self.assertIn("usable questions", r.stderr)
            return
        rep = json.loads(r.stdout)
        self.assertEqual(rep["chunks"], 8)
        self.assertGreaterEqual(rep["used"], 6)
        settings = ragd("kb", "info", "bank").stdout
        self.assertIn("search.fusion", settings)
        self.assertIn("tune.ndcg_held_out", settings)
        self.assertIn(rep["chosen"]["fusion"], settings)
        hits = json.loads(ragd("search", "annual fee of the Gold card", "--kb", "bank", "--json").stdout)["results"]
        self.assertTrue(hits)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
