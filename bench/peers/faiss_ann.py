"""FAISS HNSW from PyPI's faiss-cpu (its AVX2/AVX-512 build), on the vectors
bench/ann_compare --dump wrote: IndexHNSWFlat, M=16, ef_construction=128,
inner product, one thread, the same ef sweep. Queries go one call each, as
ragd's are served; the batched call (all queries at once, no per-call Python
cost) is reported too, as FAISS's best case.

  python faiss_ann.py DUMP_DIR DIM K   -> one JSON object on stdout
"""
import json
import os
import sys
import tempfile
import time

import faiss
import numpy as np


def recall(labels: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(l.tolist()) & set(t.tolist())) for l, t in zip(labels, truth))
    return hits / truth.size


def main() -> None:
    dump, dim, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base = np.fromfile(os.path.join(dump, "base.f32"), dtype=np.float32).reshape(-1, dim)
    queries = np.fromfile(os.path.join(dump, "queries.f32"), dtype=np.float32).reshape(-1, dim)
    truth = np.fromfile(os.path.join(dump, "truth.i64"), dtype=np.int64).reshape(-1, k)
    faiss.omp_set_num_threads(1)
    t0 = time.perf_counter()
    index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 128
    index.add(base)
    build = time.perf_counter() - t0
    rows, batched = [], []
    for ef in (16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 256):  # ann_compare's grid
        index.hnsw.efSearch = ef
        labels = np.empty((len(queries), k), dtype=np.int64)
        s0 = time.perf_counter()
        for i in range(len(queries)):
            _, labels[i:i + 1] = index.search(queries[i:i + 1], k)
        s1 = time.perf_counter()
        rows.append({"ef": ef, "recall": recall(labels, truth), "qps": len(queries) / (s1 - s0)})
        s0 = time.perf_counter()
        _, all_labels = index.search(queries, k)
        s1 = time.perf_counter()
        batched.append({"ef": ef, "recall": recall(all_labels, truth), "qps": len(queries) / (s1 - s0)})
    with tempfile.NamedTemporaryFile() as f:
        faiss.write_index(index, f.name)
        bytes_per_vector = os.path.getsize(f.name) / len(base)
    print(json.dumps({"faiss-cpu": {"build_seconds": build, "bytes_per_vector": bytes_per_vector, "rows": rows},
                      "faiss-cpu batched": {"build_seconds": build, "bytes_per_vector": bytes_per_vector,
                                            "rows": batched},
                      "version": faiss.__version__}))


if __name__ == "__main__":
    main()
