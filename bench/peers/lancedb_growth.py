"""LanceDB's search latency as the corpus grows, on the chunks and vectors of
a knowledge base grown by `bench/store_bench` (SciFact repeated with
distinct ids), to set beside store_bench's own lines for ragd.

At each size the first N chunks (in the order store_bench wrote them) go
into a fresh LanceDB table with its native full-text index; then, for each
of the first --queries-max queries (after a warm-up pass), full-text top k,
vector top k and hybrid (its default RRF reranker) top k, each timed alone,
with the query vectors given (computed once by ragd's embedder, the wheel,
with the knowledge base's model). One JSON line per size, in store_bench's
field names (bm25_*, ann_*, plus hybrid_*), so plot_growth.py draws both.

Vectors are searched flat (no ANN index) unless --vector-index names one of
LanceDB's (e.g. IVF_HNSW_SQ), built after the data and timed as ingest.

    lancedb_growth.py KB_DIR QUERIES.jsonl WORK --sizes 10000,100000,1000000
        [--queries-max 200] [--k 100] [--threads 2] [--vector-index IVF_HNSW_SQ]
"""
import argparse
import json
import os
import shutil
import time

import common
import embedded_peers
import numpy as np


def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kb_dir")
    ap.add_argument("queries")
    ap.add_argument("work")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries-max", type=int, default=200)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vector-index", default="")
    a = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "LANCE_CPU_THREADS"):
        os.environ[var] = str(a.threads)
    import lancedb
    import pyarrow as pa

    model, dim, ids, docs, texts, vecs = embedded_peers.load_chunks(a.kb_dir)
    queries = [json.loads(l)["text"] for l in open(a.queries, encoding="utf-8")][:a.queries_max]
    qv = np.asarray(embedded_peers.embedder(a.kb_dir, model).embed(queries, query=True), dtype=np.float32)
    for n in (int(s) for s in a.sizes.split(",")):
        if n > len(ids):
            raise SystemExit(f"the knowledge base holds {len(ids)} chunks, fewer than {n}")
        path = os.path.join(a.work, f"lancedb-{n}")
        shutil.rmtree(path, ignore_errors=True)
        t0 = time.perf_counter()
        tbl = lancedb.connect(path).create_table("chunks", data=pa.table({
            "row": pa.array(range(n), pa.int64()), "text": pa.array(texts[:n]),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs[:n].reshape(-1)), dim)}))
        tbl.create_fts_index("text", use_tantivy=False)
        if a.vector_index:
            tbl.create_index(metric="dot", vector_column_name="vector", index_type=a.vector_index)
        took = time.perf_counter() - t0
        searches = {
            "bm25": lambda i: tbl.search(queries[i], query_type="fts").limit(a.k).select(["row"]).to_list(),
            "ann": lambda i: tbl.search(qv[i]).limit(a.k).select(["row"]).to_list(),
            "hybrid": lambda i: tbl.search(query_type="hybrid").vector(qv[i]).text(queries[i])
                                   .limit(a.k).select(["row"]).to_list(),
        }
        row = {"engine": "lancedb", "chunks": n, "k": a.k, "queries": len(queries),
               "vector_index": a.vector_index or "flat", "write_chunks_per_s": n / took, "disk_bytes": du(path)}
        for name, fn in searches.items():
            for i in range(len(queries)):
                fn(i)  # warm-up pass
            lat = []
            for i in range(len(queries)):
                s = time.perf_counter()
                fn(i)
                lat.append(time.perf_counter() - s)
            row[f"{name}_p50_ms"] = common.percentile(lat, 0.5) * 1e3
            row[f"{name}_p99_ms"] = common.percentile(lat, 0.99) * 1e3
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
