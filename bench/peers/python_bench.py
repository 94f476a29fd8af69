"""ragd from Python (the wheel installed into the bench venv), on the
knowledge base and queries of make bench's search section:

  overhead     each search timed from Python and, inside the same call, by
               the C++ engine (SearchResponse.seconds); the difference is what
               the binding and the Python wrapper cost per search.
  retrievers   LangChain's retriever interface: RagdRetriever (hybrid, k 10)
               against LangChain's EnsembleRetriever (BM25Retriever + the
               FAISS index langchain_ingest.py saved), q/s and recall@10.
  retrievalqa  RetrievalQA on each retriever with the same LLM (ragd's
               packaged chat model through ChatRagd), end to end, on the
               first --qa queries.

    python_bench.py RAGD_DATA KB QUERIES.jsonl QRELS.tsv LC_INDEX [--qa 5] [--threads 2]

Prints one JSON object.
"""
import argparse
import json
import os
import statistics
import time

import common


def doc_of(source):
    base = os.path.basename(source)
    return base[:-len(".txt")] if base.endswith(".txt") else base


def recall_at_10(docs, relevant):
    seen = []
    for d in docs:
        if d not in seen:
            seen.append(d)
    return len(set(seen[:10]) & relevant) / len(relevant)


def timed(fn, queries):
    fn(queries[0]["text"])  # warm-up
    lat, out = [], []
    t0 = time.perf_counter()
    for q in queries:
        s = time.perf_counter()
        out.append(fn(q["text"]))
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    return out, {"queries": len(queries), "queries_per_second": len(queries) / total,
                 "p50_ms": common.percentile(lat, 0.5) * 1e3, "p99_ms": common.percentile(lat, 0.99) * 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("kb")
    ap.add_argument("queries")
    ap.add_argument("qrels")
    ap.add_argument("lc_index")
    ap.add_argument("--qa", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    common.set_threads(a.threads)
    import ragd
    from ragd.langchain import ChatRagd, RagdRetriever

    rel = common.load_qrels(a.qrels)
    queries = common.load_queries(a.queries, rel)
    engine = ragd.Engine(a.data_dir, threads=a.threads)
    kb = engine.open(a.kb, create=False)
    result = {"queries": len(queries), "overhead": {}}

    # Python wall time against the engine's own time of the same call.
    for mode in ("bm25", "dense", "hybrid"):
        kb.search(queries[0]["text"], mode=mode, k=10, one_per_document=True)
        wall, inner = [], []
        t0 = time.perf_counter()
        for q in queries:
            s = time.perf_counter()
            hits = kb.search(q["text"], mode=mode, k=10, one_per_document=True)
            wall.append(time.perf_counter() - s)
            inner.append(hits.seconds)
        total = time.perf_counter() - t0
        over = [w - i for w, i in zip(wall, inner)]
        result["overhead"][mode] = {"queries_per_second": len(queries) / total,
                                    "wall_ms_mean": statistics.mean(wall) * 1e3,
                                    "engine_ms_mean": statistics.mean(inner) * 1e3,
                                    "overhead_us_mean": statistics.mean(over) * 1e6,
                                    "overhead_us_p50": common.percentile(over, 0.5) * 1e6,
                                    "overhead_us_p99": common.percentile(over, 0.99) * 1e6}

    # LangChain's retriever interface, both retrievers in this process.
    from langchain_classic.chains import RetrievalQA
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    emb = HuggingFaceEmbeddings(model_name=common.minilm_dir(), model_kwargs={"device": "cpu"},
                                encode_kwargs={"normalize_embeddings": True})
    db = FAISS.load_local(a.lc_index, emb, allow_dangerous_deserialization=True)
    bm25 = BM25Retriever.from_documents(list(db.docstore._dict.values()), k=30)
    ensemble = EnsembleRetriever(retrievers=[bm25, db.as_retriever(search_kwargs={"k": 30})], weights=[0.5, 0.5])
    ragd_retriever = RagdRetriever(knowledge_base=kb, k=10, search_kwargs={"one_per_document": True})
    retrievers = {"ragd": ragd_retriever, "ensemble": ensemble}
    result["retrievers"] = {}
    for name, r in retrievers.items():
        docs, row = timed(r.invoke, queries)
        row["recall_at_10"] = statistics.mean(
            recall_at_10([doc_of(d.metadata.get("source", "")) for d in ds], rel[q["_id"]])
            for ds, q in zip(docs, queries))
        result["retrievers"][name] = row

    # RetrievalQA end to end with the same LLM: generation dominates.
    llm = ChatRagd(engine=engine, max_tokens=64)
    result["retrievalqa"] = {}
    qa_queries = queries[:a.qa]
    for name, r in retrievers.items():
        if name == "ragd":
            r = RagdRetriever(knowledge_base=kb, k=4, search_kwargs={"one_per_document": True})
        else:
            bm25.k = 4
            r = EnsembleRetriever(retrievers=[bm25, db.as_retriever(search_kwargs={"k": 4})], weights=[0.5, 0.5])
        qa = RetrievalQA.from_chain_type(llm=llm, chain_type="stuff", retriever=r)
        _, row = timed(lambda t: qa.invoke({"query": t}), qa_queries)
        result["retrievalqa"][name] = row
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
