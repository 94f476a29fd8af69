"""LangChain's hybrid retrieval: EnsembleRetriever (weighted RRF) of
BM25Retriever (rank-bm25) and the FAISS store langchain_ingest.py saved,
in one process, each query once after a warm-up. Retrievers fetch 30
chunks, and the first 10 distinct documents are scored (ragd returns one
hit per document). Prints one JSON object per mode.

    langchain_search.py INDEX_DIR QUERIES.jsonl QRELS.tsv --modes bm25,dense,hybrid
"""
import argparse
import json
import os
import time

import common


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    common.add_search_args(ap)
    ap.add_argument("--modes", default="bm25,dense,hybrid")
    a = ap.parse_args()
    common.set_threads(a.threads)
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    rel = common.load_qrels(a.qrels)
    queries = common.load_queries(a.queries, rel)
    emb = HuggingFaceEmbeddings(model_name=common.minilm_dir(), model_kwargs={"device": "cpu"},
                                encode_kwargs={"normalize_embeddings": True})
    db = FAISS.load_local(a.index, emb, allow_dangerous_deserialization=True)
    docs = list(db.docstore._dict.values())
    bm25 = BM25Retriever.from_documents(docs, k=a.fetch)
    dense = db.as_retriever(search_kwargs={"k": a.fetch})
    retrievers = {"bm25": bm25, "dense": dense,
                  "hybrid": EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])}
    for mode in a.modes.split(","):
        r = retrievers[mode]
        r.invoke(queries[0]["text"])  # warm-up
        lat, recall = [], 0.0
        t0 = time.perf_counter()
        for q in queries:
            s0 = time.perf_counter()
            hits = r.invoke(q["text"])
            lat.append(time.perf_counter() - s0)
            seen = []
            for h in hits:
                doc = os.path.basename(h.metadata.get("source", ""))[: -len(".txt")]
                if doc not in seen:
                    seen.append(doc)
            recall += len(set(seen[:10]) & rel[q["_id"]]) / len(rel[q["_id"]])
        total = time.perf_counter() - t0
        print(json.dumps({"mode": mode, "queries": len(queries), "queries_per_second": len(queries) / total,
                          "p50_ms": common.percentile(lat, 0.5) * 1e3, "p99_ms": common.percentile(lat, 0.99) * 1e3,
                          "recall_at_10": recall / len(queries)}), flush=True)


if __name__ == "__main__":
    main()
