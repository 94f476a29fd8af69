#!/usr/bin/env bash
# Smoke run of the benchmark harness (bench/run.py --smoke): a generated
# corpus, one round, ragd only. Checks that every comparison ran and that
# the figures are sane (the generated queries name unique words, so
# retrieval must find them); timings themselves are never asserted.
set -uo pipefail
SRC="$1"
BUILD_DIR="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
RAGD_BUILD_DIR="$BUILD_DIR" python3 "$SRC/bench/run.py" --smoke --peers none --work "$WORK" \
  --results "$WORK/RESULTS.md" --json "$WORK/results.json" || { echo "FAIL: bench/run.py --smoke"; exit 1; }
python3 - "$WORK" <<'PY' || exit 1
import json, sys
work = sys.argv[1]
r = json.load(open(f"{work}/results.json"))
assert r["ingest"]["chunks"] >= 120 and r["ingest"]["ragd"][0] > 0, r["ingest"]
assert r["embed"]["ragd"][0] > 0, r["embed"]
for mode in ("bm25", "dense", "hybrid"):
    s = r["search"][mode]["ragd"][0]
    assert s["queries"] == 40 and s["queries_per_second"] > 0 and s["p99_ms"] >= s["p50_ms"], s
    # The engine's own timings add up: orchestration is a part of the time outside model calls.
    assert 0 < s["orchestration_p50_ms"] <= s["outside_model_p50_ms"] <= s["p50_ms"] + 1e-9, s
assert r["search"]["bm25"]["ragd"][0]["recall_at_10"] >= 0.95, r["search"]["bm25"]
assert r["search"]["hybrid"]["ragd"][0]["recall_at_10"] >= 0.95, r["search"]["hybrid"]
assert r["search"]["bm25"]["ragd"][0]["embed_p50_ms"] == 0 and r["search"]["bm25"]["ragd"][0]["lexical_p50_ms"] > 0
assert r["search"]["dense"]["ragd"][0]["lexical_p50_ms"] == 0 and r["search"]["dense"]["ragd"][0]["embed_p50_ms"] > 0
if r.get("ann"):
    # f16 vectors for ragd's index, f32 for the others (plus the graph).
    for lib, vector_bytes in (("usearch", 384 * 2), ("usearch-f32", 384 * 4), ("faiss", 384 * 4), ("hnswlib", 384 * 4)):
        info = r["ann"]["libraries"][lib]
        assert vector_bytes < info["bytes_per_vector"] < vector_bytes + 1024, (lib, info)
        assert all(0 <= x["recall"] <= 1 for x in info["rows"]), (lib, info)
# The store comparison: both stores hold the same chunks and find the same documents.
st = r["stores"]
assert st["ingest"]["sqlite"]["chunks"] == st["ingest"]["postgres"]["chunks"] == st["copy"]["chunks"], st["ingest"]
for mode in ("bm25", "dense", "hybrid"):
    a, b = st["search"]["sqlite"][mode], st["search"]["postgres"][mode]
    assert abs(a["recall_at_10"] - b["recall_at_10"]) <= 0.03, (mode, a, b)
grown = sorted((g["store"], g["chunks"]) for g in st["growth"])
assert [x[0] for x in grown] == ["postgres", "postgres", "sqlite", "sqlite"], grown
assert all(g["chunks"] >= 400 and g["total_p99_ms"] >= g["total_p50_ms"] > 0 for g in st["growth"]), st["growth"]
md = open(f"{work}/RESULTS.md").read()
for heading in ("## 1. Ingest", "## 2. Embeddings alone", "## 3. Search", "orchestration", "## 4. ANN", "## 7. Stores"):
    assert heading in md, heading
print("bench smoke: ok")
PY
