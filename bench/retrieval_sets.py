#!/usr/bin/env python3
"""Builds BEIR-layout retrieval sets that are not BEIR sets (docs/RETRIEVAL.md).

  bank-faq     the example bank's FAQ rows (examples/bank-kb/faq.csv) as the
               corpus; eval/bank-faq holds hand-written paraphrased questions
               (Chinese and English) and their qrels.
  vcsum-seg    summ-zh-vcsum's meeting segments as the corpus, each segment's
               reference summary as its query (written in other words than
               the spoken transcript: a set where dense beats BM25).
  scisummnet   summ-en-scisummnet's papers as the corpus, each paper's
               reference summary as its query.

usage: retrieval_sets.py SHARED_DATA_DIR OUT_DIR
"""
import csv
import json
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def summary_set(out, docs_file, summaries_file):
    os.makedirs(os.path.join(out, "qrels"), exist_ok=True)
    docs = read_jsonl(docs_file)
    write_jsonl(os.path.join(out, "corpus.jsonl"),
                [{"_id": d["_id"], "title": d.get("title", ""), "text": d["text"]} for d in docs])
    queries = [{"_id": "q-" + s["_id"], "text": s["summary"]} for s in read_jsonl(summaries_file)]
    write_jsonl(os.path.join(out, "queries.jsonl"), queries)
    with open(os.path.join(out, "qrels", "test.tsv"), "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            f.write(f"{q['_id']}\t{q['_id'][2:]}\t1\n")


def bank_faq(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(REPO, "examples", "bank-kb", "faq.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    write_jsonl(os.path.join(out, "corpus.jsonl"),
                [{"_id": f"faq-{i}", "title": r["question"], "text": r["question"] + "\n" + r["answer"]}
                 for i, r in enumerate(rows, 1)])
    src = os.path.join(REPO, "eval", "bank-faq")
    shutil.copy(os.path.join(src, "queries.jsonl"), out)
    shutil.copytree(os.path.join(src, "qrels"), os.path.join(out, "qrels"), dirs_exist_ok=True)


def main():
    shared, out = sys.argv[1], sys.argv[2]
    bank_faq(os.path.join(out, "bank-faq"))
    zh = os.path.join(shared, "summ-zh-vcsum")
    summary_set(os.path.join(out, "vcsum-seg"), os.path.join(zh, "seg_docs.jsonl"), os.path.join(zh, "seg_summaries.jsonl"))
    en = os.path.join(shared, "summ-en-scisummnet")
    summary_set(os.path.join(out, "scisummnet"), os.path.join(en, "docs.jsonl"), os.path.join(en, "summaries.jsonl"))


if __name__ == "__main__":
    main()
