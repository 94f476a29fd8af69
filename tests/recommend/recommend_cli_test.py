"""`ragd ingest --records`, `ragd interactions import`, `ragd recommend` and
`ragd eval recommend` end to end, on a catalogue made here: 24 books in
three genres, and users who each read one genre in their own order. The
expected recommendations follow from that structure (a reader of one genre
gets that genre; the one book of it left unread is item-kNN's first pick),
not from recorded output. The model's re-rank and reasons are checked for
shape: a permutation of the fused candidates, reasons tied to a liked book.

Usage: recommend_cli_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

RAGD = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from server_test import Server  # noqa: E402  (one way to start ragd serve)
DATA = tempfile.mkdtemp(prefix="ragd-recommend-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)
FOLDER = os.path.join(DATA, "catalogue")
KB = "books"

GENRES = {
    "sf": ("Star", "A science fiction novel about spaceships, distant planets and alien contact.", "science-fiction"),
    "cook": ("Kitchen", "A cookbook of bread, soup and pastry recipes for the home kitchen.", "cooking"),
    "hist": ("Empire", "A history of ancient empires, their wars, kings and trade routes.", "history"),
}


def ragd(*args, check=True):
    r = subprocess.run([RAGD, *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def genre(item):
    return item.rstrip("0123456789")


def make_catalogue():
    os.makedirs(FOLDER, exist_ok=True)
    with open(os.path.join(FOLDER, "items.jsonl"), "w", encoding="utf-8") as f:
        for g, (word, text, tag) in GENRES.items():
            for i in range(8):
                f.write(json.dumps({"_id": f"{g}{i}", "title": f"{word} Book {i}", "text": f"{word} Book {i}. {text}",
                                    "year": 2000 + 3 * i, "tags": [tag]}) + "\n")
    # Four readers per genre, each through all eight books of it from a
    # different start: the last one read is the one left out.
    with open(os.path.join(FOLDER, "interactions.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "rating", "order"])
        order = 0
        for g in GENRES:
            for u in range(4):
                for step in range(8):
                    w.writerow([f"{g}-reader{u}", f"{g}{(2 * u + step) % 8}", 5 if step % 2 else 4, order])
                    order += 1


class Recommend(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        make_catalogue()
        cls.ingest = json.loads(ragd("-q", "ingest", "--kb", KB, "--records",
                                     os.path.join(FOLDER, "items.jsonl"), "--json").stdout)
        # The interactions, minus each sf reader's last book, plus a row for an item the catalogue lacks.
        with open(os.path.join(FOLDER, "interactions.csv"), encoding="utf-8") as f:
            rows = list(csv.reader(f))
        cls.partial = os.path.join(DATA, "partial.csv")
        with open(cls.partial, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(rows[0])
            w.writerows(r for r in rows[1:] if not (r[0].startswith("sf-") and r[0] != "sf-reader0"))
            w.writerow(["sf-reader1", "sf0", "5", "1000"])
            w.writerow(["sf-reader1", "no-such-book", "5", "1001"])
        cls.imported = json.loads(ragd("-q", "interactions", "import", KB, cls.partial, "--json").stdout)

    def recommend(self, *args):
        return json.loads(ragd("-q", "recommend", "--kb", KB, *args, "--json").stdout)

    def test_records_become_documents_with_their_fields_as_metadata(self):
        self.assertEqual(self.ingest["added"], 24)
        hits = json.loads(ragd("-q", "search", "--kb", KB, "bread recipes", "--filter", "year>=2015", "--json").stdout)
        self.assertTrue(hits["results"])
        for h in hits["results"]:
            self.assertGreaterEqual(int(h["doc_id"][-1]) * 3 + 2000, 2015, h["doc_id"])

    def test_import_reports_unknown_items_and_keeps_the_rest(self):
        self.assertEqual(self.imported["unknown_items"], 1)
        self.assertEqual(self.imported["unknown_examples"], ["no-such-book"])
        self.assertEqual(self.imported["added"], self.imported["read"] - 1)
        self.assertEqual(self.imported["users"], 10)  # 4 + 4 readers, sf-reader0 and sf-reader1

    def test_a_reader_gets_the_unread_books_of_their_genre_first(self):
        r = self.recommend("--user", "cook-reader1", "-k", "3")
        # cook-reader1 read all eight cookbooks: nothing of the genre is left, nothing read comes back.
        self.assertEqual(r["history"], 8)
        self.assertFalse(r["cold_start"])
        self.assertTrue(all(genre(i["item"]) != "cook" for i in r["items"]), r["items"])
        # sf-reader1 read one sf book: the other seven come first.
        r = self.recommend("--user", "sf-reader1", "-k", "7")
        self.assertEqual(r["history"], 1)
        self.assertEqual([genre(i["item"]) for i in r["items"]], ["sf"] * 7, r["items"])
        self.assertNotIn("sf0", [i["item"] for i in r["items"]])
        for i in r["items"]:
            self.assertEqual(i["because"]["item"], "sf0")
            self.assertIn("item_knn", i["sources"])

    def test_a_cold_start_from_liked_items_or_a_query(self):
        r = self.recommend("--like", "hist3", "-k", "5")
        self.assertTrue(r["cold_start"])
        self.assertEqual([genre(i["item"]) for i in r["items"]], ["hist"] * 5, r["items"])
        r = self.recommend("--query", "bread and pastry recipes", "-k", "3", "--weight", "popularity=0")
        self.assertEqual([genre(i["item"]) for i in r["items"]], ["cook"] * 3, r["items"])
        self.assertTrue(all("query" in i["sources"] for i in r["items"]))

    def test_filters_and_seen_items(self):
        r = self.recommend("--like", "sf1", "-k", "24", "--filter", "year>=2012")
        self.assertTrue(r["items"])
        self.assertTrue(all(int(i["item"][-1]) >= 4 for i in r["items"]), r["items"])
        with_seen = self.recommend("--like", "sf1", "-k", "24", "--include-seen")
        self.assertIn("sf1", [i["item"] for i in with_seen["items"]])
        self.assertNotIn("sf1", [i["item"] for i in self.recommend("--like", "sf1", "-k", "24")["items"]])

    def test_an_import_is_seen_by_the_next_request(self):
        extra = os.path.join(DATA, "extra.jsonl")
        with open(extra, "w", encoding="utf-8") as f:
            f.write(json.dumps({"user": "newcomer", "item": "hist0", "rating": 5}) + "\n")
        self.assertEqual(ragd("recommend", "--kb", KB, "--user", "newcomer", check=False).returncode, 1)
        before = self.imported["total"]
        got = json.loads(ragd("-q", "interactions", "import", KB, extra, "--json").stdout)
        self.assertEqual(got["total"], before + 1)
        r = self.recommend("--user", "newcomer", "-k", "3")
        self.assertEqual(r["history"], 1)
        self.assertEqual([genre(i["item"]) for i in r["items"]], ["hist"] * 3)

    def test_errors_say_what_to_do(self):
        cases = [
            (["recommend", "--kb", KB, "--like", "nope"], "has no item 'nope'"),
            (["recommend", "--kb", KB, "--user", "stranger"], "has no interactions"),
            (["recommend", "--kb", KB], "needs a user, liked items or a query"),
            (["recommend", "--kb", KB, "--like", "sf1", "--weight", "fame=2"], "sources are profile"),
            (["recommend", "--kb", KB, "--like", "sf1", "-k", "0"], "k must be between"),
            (["recommend", "--kb", KB, "--like", "sf1", "--rerank", "magic"], "--rerank is llm or none"),
            (["recommend", "--kb", "no-such-kb", "--like", "sf1"], "no-such-kb"),
        ]
        for args, message in cases:
            r = ragd(*args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(message, r.stderr, args)
        bad = os.path.join(DATA, "bad.csv")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("user,item,rating\nu,sf1,5\nu,sf2,lots\n")
        r = ragd("interactions", "import", KB, bad, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("record 2: rating 'lots' is not a number", r.stderr)
        # Nothing of the bad file was stored, not even its good first row.
        r = ragd("recommend", "--kb", KB, "--user", "u", check=False)
        self.assertIn("user 'u' has no interactions", r.stderr)

    def test_eval_leave_last_out(self):
        out = os.path.join(DATA, "eval.jsonl")
        r = json.loads(ragd("-q", "eval", "recommend", FOLDER, "--out", out, "--json").stdout)
        self.assertEqual(r["users"], 12)
        m = {x["method"]: x for x in r["methods"]}
        self.assertEqual(set(m), {"popularity", "item-knn", "profile", "fused"})
        # Each reader's one unread book of the genre is the only unseen item that co-occurs with their history.
        self.assertEqual(m["item-knn"]["hr_at_10"], 1.0)
        self.assertEqual(m["item-knn"]["mrr"], 1.0)
        self.assertEqual(m["item-knn"]["mrr_ci"], 0.0)
        self.assertLess(m["popularity"]["mrr"], m["item-knn"]["mrr"])
        with open(out, encoding="utf-8") as f:
            records = [json.loads(l) for l in f]
        self.assertEqual(len(records), 12 * 4)
        for rec in records:
            self.assertEqual(rec["history"], 7)
            if rec["method"] == "item-knn":
                self.assertEqual(rec["top"][0], rec["target"])

    def test_model_rerank_is_a_permutation_and_reasons_name_a_liked_book(self):
        fused = self.recommend("--user", "sf-reader1", "-k", "6")
        r = self.recommend("--user", "sf-reader1", "-k", "6", "--rerank", "llm", "--rerank-top", "6", "--repeats", "2",
                           "--explain", "--max-tokens", "200")
        self.assertEqual(r["rerank"]["calls"], 2)
        self.assertEqual(sorted(i["item"] for i in r["items"]), sorted(i["item"] for i in fused["items"]))
        if r["rerank"]["invalid"] < 2:
            self.assertTrue(all("llm" in i["sources"] for i in r["items"]))
        self.assertEqual(r["explain"]["calls"], 6)
        explained = [i for i in r["items"] if "reason" in i]
        self.assertEqual(len(explained) + r["explain"]["missing"], 6)
        for i in explained:
            self.assertTrue(i["reason"].strip())
            self.assertEqual(i["because"]["item"], "sf0")
        self.assertGreater(r["usage"]["completion_tokens"], 0)


class Serve(unittest.TestCase):
    """POST /api/kbs/{kb}/recommend answers what `ragd recommend --json` prints."""

    @classmethod
    def setUpClass(cls):
        make_catalogue()
        cls.s = Server("--max-tokens", "120")
        env = dict(ENV, RAGD_DATA_DIR=cls.s.data)  # written beside the running server, as another process would
        for args in (["ingest", "--kb", KB, "--records", os.path.join(FOLDER, "items.jsonl")],
                     ["interactions", "import", KB, os.path.join(FOLDER, "interactions.csv")]):
            subprocess.run([RAGD, "-q", *args], env=env, check=True, capture_output=True, timeout=600)
        cls.env = env

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_the_route_and_the_cli_agree(self):
        status, body = self.s.json("POST", f"/api/kbs/{KB}/recommend",
                                   {"user": "hist-reader2", "k": 4, "weights": {"popularity": 0}, "filters": ["year>=2003"]})
        self.assertEqual(status, 200, body)
        cli = json.loads(subprocess.run([RAGD, "-q", "recommend", "--kb", KB, "--user", "hist-reader2", "-k", "4",
                                         "--weight", "popularity=0", "--filter", "year>=2003", "--json"],
                                        env=self.env, check=True, capture_output=True, text=True).stdout)
        self.assertEqual([i["item"] for i in body["items"]], [i["item"] for i in cli["items"]])
        self.assertEqual(set(body), set(cli))
        self.assertEqual(body["history"], 8)

    def test_the_model_reranks_on_the_worker(self):
        status, body = self.s.json("POST", f"/api/kbs/{KB}/recommend",
                                   {"like": ["sf2"], "k": 3, "rerank": "llm", "rerank_top": 4, "repeats": 1})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["rerank"]["calls"], 1)
        self.assertEqual(len(body["items"]), 3)

    def test_bad_requests(self):
        for req, code, message in [
            ({"user": 7}, 422, "'user' must be a string"),
            ({"like": ["sf1"], "rerank": "yes"}, 422, "'rerank' must be"),
            ({"like": ["sf1"], "weights": {"fame": 1}}, 422, "no source 'fame'"),
            ({}, 422, "needs a user, liked items or a query"),
            ({"like": ["nope"]}, 404, "has no item 'nope'"),
        ]:
            status, body = self.s.json("POST", f"/api/kbs/{KB}/recommend", req)
            self.assertEqual(status, code, (req, body))
            self.assertIn(message, body["error"]["message"], req)
        status, body = self.s.json("POST", "/api/kbs/no-such-kb/recommend", {"like": ["sf1"]})
        self.assertEqual(status, 404, body)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
