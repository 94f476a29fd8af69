"""The embedded engines a speed-minded user picks instead of ragd, on ragd's
own chunks, and ragd itself on the same footing: LanceDB (dense, its native full-text index, hybrid with its
default RRF reranker), Chroma (dense, HNSW), bm25s and tantivy (BM25).

Every peer gets the same chunk texts and the same vectors, read from the
ragd knowledge base's SQLite file, and the query vectors come from ragd's
embedder (the wheel), computed before the timed loop: no peer pays for
embedding and none gets other vectors. ragd's engine_bench, by contrast,
includes the query embedding in its search times. Each query once after a
warm-up pass; 30 chunks fetched and the first 10 distinct documents scored
(ragd returns one hit per document). One JSON line per peer and mode, and
one per peer's ingest (chunks/s of loading the texts and vectors and
building its indexes). With --embed-chunks, the chunk texts are also embedded
once by ragd's embedder (the wheel) and that time reported, so that an
ingest "with the same embedder work" is the embedding plus a peer's build.

    embedded_peers.py KB_DIR QUERIES.jsonl QRELS.tsv WORK_DIR
        [--peers ragd,lancedb,chroma,bm25s,tantivy] [--threads 2] [--fetch 30] [--embed-chunks]
        [--lexical-only]

--lexical-only runs the BM25 searches alone and embeds no query, for a
knowledge base whose vectors are a stand-in (bench/peers/hashing_embedder.py).
"""
import argparse
import json
import os
import shutil
import sqlite3
import sys
import time

import common
import numpy as np


def load_chunks(kb_dir):
    """Chunk texts, their documents' BEIR ids and their vectors, by chunk id."""
    db = sqlite3.connect(f"file:{os.path.join(kb_dir, 'kb.sqlite')}?mode=ro", uri=True)
    model = db.execute("SELECT value FROM meta WHERE key = 'embed_model'").fetchone()[0]
    dim = int(db.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
    ids, docs, texts, vecs = [], [], [], []
    for cid, doc_id, text, blob in db.execute("SELECT id, doc_id, text, embedding FROM chunks ORDER BY id"):
        base = os.path.basename(doc_id)
        ids.append(cid)
        docs.append(base[:-4] if base.endswith(".txt") else base)
        texts.append(text)
        vecs.append(np.frombuffer(blob, dtype=np.float32))
    db.close()
    return model, dim, ids, docs, texts, np.vstack(vecs)


def embedder(kb_dir, model):
    """ragd's embedder (the wheel) with the model the knowledge base was built
    with (its meta names it as "<name>/<dimension>")."""
    import ragd
    engine = ragd.Engine(os.path.dirname(kb_dir), embed_model=model.split("/")[0])
    if engine.embed_model != model:
        sys.exit(f"the knowledge base holds {model} vectors, ragd loaded {engine.embed_model}")
    return engine


class Scorer:
    def __init__(self, queries, rel, docs):
        self.queries, self.rel, self.docs = queries, rel, docs

    def recall(self, qi, rows):
        """recall@10 over the first 10 distinct documents of the chunk rows."""
        seen = []
        for r in rows:
            d = self.docs[r]
            if d not in seen:
                seen.append(d)
            if len(seen) == 10:
                break
        rel = self.rel[self.queries[qi]["_id"]]
        return len(rel.intersection(seen)) / len(rel)


def timed(name, mode, scorer, search, n):
    search(0)  # warm-up
    lat, recall = [], 0.0
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        rows = search(i)
        lat.append(time.perf_counter() - s)
        recall += scorer.recall(i, rows)
    total = time.perf_counter() - t0
    return {"peer": name, "mode": mode, "queries": n, "queries_per_second": n / total,
            "p50_ms": common.percentile(lat, 0.5) * 1e3, "p99_ms": common.percentile(lat, 0.99) * 1e3,
            "recall_at_10": recall / n}


def emit(row):
    print(json.dumps(row), flush=True)


def run_ragd(a, data, scorer, qv, work, engine):
    """ragd itself through the wheel, on the peers' footing: the same query
    vectors given (no embedding in the timed loop), the knowledge base the
    chunks came from, no reranker. engine_bench's figures include the query
    embedding; these are the ones to set beside LanceDB's and Chroma's."""
    ids, docs, texts, vecs = data
    row_of = {cid: r for r, cid in enumerate(ids)}
    kb = engine.open(os.path.basename(a.kb_dir), create=False)  # a wrong path fails, not an empty KB
    qs = scorer.queries

    def fn(mode, fusion=None):
        return lambda i: [row_of[h.chunk_id] for h in kb.search(
            "" if mode == "dense" else qs[i]["text"], mode=mode, k=a.fetch, rerank=False, fusion=fusion,
            query_vector=None if mode == "bm25" else qv[i])]
    # "hybrid" fuses by RRF, as LanceDB's default reranker does; "hybrid-zscore"
    # is ragd's own default fusion.
    runs = {"dense": fn("dense"), "bm25": fn("bm25"), "hybrid": fn("hybrid", "rrf"),
            "hybrid-zscore": fn("hybrid", "zscore")}
    for mode, search in runs.items():
        emit(timed("ragd", mode, scorer, search, len(qs)))


def run_lancedb(a, data, scorer, qv, work):
    import lancedb
    import pyarrow as pa
    ids, docs, texts, vecs = data
    path = os.path.join(work, "lancedb")
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    db = lancedb.connect(path)
    table = pa.table({"row": pa.array(range(len(ids)), pa.int64()), "text": pa.array(texts),
                      "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1)), vecs.shape[1])})
    tbl = db.create_table("chunks", data=table)
    tbl.create_fts_index("text", use_tantivy=False)  # the native index (BM25, English stemming and stop words)
    took = time.perf_counter() - t0
    emit({"peer": "lancedb", "mode": "ingest", "chunks": len(ids), "seconds": took, "chunks_per_second": len(ids) / took})
    qs = scorer.queries
    rows = lambda res: [r["row"] for r in res]
    searches = {
        "dense": lambda i: rows(tbl.search(qv[i]).limit(a.fetch).select(["row"]).to_list()),
        "bm25": lambda i: rows(tbl.search(qs[i]["text"], query_type="fts").limit(a.fetch).select(["row"]).to_list()),
        "hybrid": lambda i: rows(tbl.search(query_type="hybrid").vector(qv[i]).text(qs[i]["text"])
                                 .limit(a.fetch).select(["row"]).to_list()),
    }
    for mode, fn in searches.items():
        if qv is not None or mode == "bm25":
            emit(timed("lancedb", mode, scorer, fn, len(qs)))


def run_chroma(a, data, scorer, qv, work):
    import chromadb
    ids, docs, texts, vecs = data
    path = os.path.join(work, "chroma")
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    client = chromadb.PersistentClient(path=path)
    col = client.create_collection("chunks", metadata={"hnsw:space": "ip"})
    step = 4000  # under Chroma's maximum batch
    for s in range(0, len(ids), step):
        col.add(ids=[str(r) for r in range(s, min(s + step, len(ids)))], documents=texts[s:s + step],
                embeddings=vecs[s:s + step])
    emit({"peer": "chroma", "mode": "ingest", "chunks": len(ids),
          "chunks_per_second": len(ids) / (time.perf_counter() - t0)})
    fn = lambda i: [int(r) for r in col.query(query_embeddings=[qv[i]], n_results=a.fetch, include=[])["ids"][0]]
    emit(timed("chroma", "dense", scorer, fn, len(scorer.queries)))


def run_bm25s(a, data, scorer, qv, work):
    import bm25s
    import Stemmer
    ids, docs, texts, vecs = data
    stemmer = Stemmer.Stemmer("english")
    t0 = time.perf_counter()
    retriever = bm25s.BM25()  # Lucene's BM25 variant, k1 1.5, b 0.75 (its defaults)
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    emit({"peer": "bm25s", "mode": "ingest", "chunks": len(ids),
          "chunks_per_second": len(ids) / (time.perf_counter() - t0)})
    qs = scorer.queries

    def fn(i):
        tokens = bm25s.tokenize([qs[i]["text"]], stopwords="en", stemmer=stemmer, show_progress=False)
        found, _ = retriever.retrieve(tokens, k=min(a.fetch, len(ids)), show_progress=False, n_threads=1)
        return [int(r) for r in found[0]]
    emit(timed("bm25s", "bm25", scorer, fn, len(qs)))


def run_tantivy(a, data, scorer, qv, work):
    import tantivy
    ids, docs, texts, vecs = data
    path = os.path.join(work, "tantivy")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    t0 = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row", stored=True, indexed=False, fast=True)
    sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
    schema = sb.build()
    index = tantivy.Index(schema, path=path)
    writer = index.writer(heap_size=256_000_000, num_threads=a.threads)
    for r, t in enumerate(texts):
        writer.add_document(tantivy.Document(row=r, text=t))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    emit({"peer": "tantivy", "mode": "ingest", "chunks": len(ids),
          "chunks_per_second": len(ids) / (time.perf_counter() - t0)})
    searcher = index.searcher()
    qs = scorer.queries

    def fn(i):
        # Terms OR-ed, as ragd's BM25; the query parser's syntax characters are
        # dropped so that a question mark or a colon is not an error.
        text = "".join(c if c.isalnum() or c.isspace() else " " for c in qs[i]["text"])
        q = index.parse_query(text, ["text"]) if text.strip() else None
        if q is None:
            return []
        return [searcher.doc(addr)["row"][0] for _, addr in searcher.search(q, a.fetch).hits]
    emit(timed("tantivy", "bm25", scorer, fn, len(qs)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kb_dir")
    common.add_search_args(ap)
    ap.add_argument("work")
    ap.add_argument("--peers", default="ragd,lancedb,chroma,bm25s,tantivy")
    ap.add_argument("--embed-chunks", action="store_true")
    ap.add_argument("--lexical-only", action="store_true")
    a = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "LANCE_CPU_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    rel = common.load_qrels(a.qrels)
    queries = common.load_queries(a.queries, rel)
    model, dim, ids, docs, texts, vecs = load_chunks(a.kb_dir)
    qv = engine = None
    if not a.lexical_only:
        engine = embedder(a.kb_dir, model)
        qv = np.asarray(engine.embed([q["text"] for q in queries], query=True), dtype=np.float32)
    if a.embed_chunks and not a.lexical_only:
        t0 = time.perf_counter()
        engine.embed(texts)
        emit({"peer": "ragd-embedder", "mode": "embed-chunks", "chunks": len(texts),
              "seconds": time.perf_counter() - t0})
    scorer = Scorer(queries, rel, docs)
    runners = {"ragd": lambda *args: run_ragd(*args, engine), "lancedb": run_lancedb, "chroma": run_chroma,
               "bm25s": run_bm25s, "tantivy": run_tantivy}
    os.makedirs(a.work, exist_ok=True)
    for name in a.peers.split(","):
        if qv is None and name in ("chroma", "ragd"):
            continue  # dense only; ragd's BM25 without embedding is engine_bench's
        runners[name](a, (ids, docs, texts, vecs), scorer, qv, a.work)


if __name__ == "__main__":
    main()
