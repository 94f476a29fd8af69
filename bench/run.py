#!/usr/bin/env python3
"""`make bench`: ragd side by side with its peers, each comparison in one run.

Runs, on ../shared/data/beir-scifact when present (a generated corpus
otherwise, and always with --smoke):
  1. ingest      ragd ingest  vs LangChain (splitter -> sentence-transformers -> FAISS)
  2. embeddings  ragd's embedder vs sentence-transformers, same batch and threads
  3. search      ragd search (bm25, dense, hybrid) in-process vs LangChain's
                 EnsembleRetriever (BM25Retriever + FAISS), with recall@10
  4. ANN         ragd's usearch index vs FAISS HNSW and hnswlib (bench/ann_compare)
  5. generation  ragd's local backend vs llama-bench (bench/generation.sh)
  6. recommend   ragd eval recommend vs implicit's item-kNN on goodbooks and
                 MovieLens-100K (bench/recommend_bench.py)
  7. stores      the SQLite store vs the PostgreSQL store (a real PostgreSQL
                 16 + pgvector started for the run): ingest, search q/s with
                 p50/p99, and search latency from 10k to 300k chunks
                 (bench/store_bench; --store-sizes)
  8. python      the Python package (the wheel, in the bench venv): its
                 overhead per search over the engine's own time of the same
                 call, beside engine_bench in C++; LangChain's RagdRetriever
                 vs its EnsembleRetriever (BM25 + FAISS), q/s and recall@10;
                 RetrievalQA end to end on each (bench/peers/python_bench.py)
  9. embedded    ragd beside the embedded engines a speed-minded user picks:
                 LanceDB (ingest, dense, full text, hybrid), Chroma (ingest,
                 dense), bm25s and tantivy (BM25) on ragd's own chunks and
                 vectors (bench/peers/embedded_peers.py); ragd's BM25 with its
                 block-max index and with FTS5 alone; ragd's embedder vs ONNX
                 Runtime on the same MiniLM exported to ONNX here
                 (bench/peers/onnx_embed.py)
Each ragd/peer pair alternates --rounds times; figures are medians with the
min-max spread. Writes bench/RESULTS.md (or --results) and --json.

  bench/run.py [--rounds 3] [--threads 2] [--smoke] [--peers auto|none]
               [--only ingest,embed,search,ann,generation,recommend,stores,python,embedded] [--json FILE] [--results FILE] [--merge]
               [--store-sizes 10000,30000,100000,300000]
"""
import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RAGD_BUILD_DIR", os.path.join(ROOT, "build"))
RAGD = os.path.join(BUILD, "ragd")
ENGINE_BENCH = os.path.join(BUILD, "bench", "engine_bench")
ANN_COMPARE = os.path.join(BUILD, "bench", "ann_compare")
STORE_BENCH = os.path.join(BUILD, "bench", "store_bench")
PG_SH = os.path.join(ROOT, "scripts", "pg.sh")
PEER_PY = os.path.join(BUILD, "bench-venv", "bin", "python")
PEERS = os.path.join(ROOT, "bench", "peers")
SCIFACT = os.path.join(ROOT, "..", "shared", "data", "beir-scifact")
CHUNK_SIZE, CHUNK_OVERLAP, BATCH = 1000, 150, 32
# The peers' model (sentence-transformers, FAISS, ONNX Runtime); ragd's default
# embedder is multilingual-e5-small, so every ragd side names this one.
EMBED_MODEL = "all-MiniLM-L6-v2"

GOALS = {  # the issue's goals, as ratio thresholds (ragd / peer unless noted)
    "ingest": ("ingest chunks/s ≥ 3× LangChain", 3.0),
    "ingest_docs": ("ingest ≥ 3× LangChain, as time for the same corpus (documents/s)", 3.0),
    "search": ("hybrid search q/s ≥ 20× LangChain's ensemble at equal recall", 20.0),
    "ann": ("ANN q/s ≥ 1.0× FAISS HNSW at equal recall", 1.0),
    "generation": ("generation ≥ 0.95× llama-bench", 0.95),
    "overhead": ("orchestration overhead < 1 ms per query", 1.0),
    "ttft": ("cached-prefix TTFT ≤ 0.5× uncached", 0.5),
    "recommend": ("a recommendation without the LLM re-rank, for a user with ~200 interactions, < 20 ms", 20.0),
    "python": ("Python overhead per search < 0.1 ms", 0.1),
    "embedded_hybrid": ("hybrid search q/s ≥ 2× LanceDB's hybrid at equal or better recall@10", 2.0),
    "embedded_embed": ("ragd's embedder ≥ 1.0× ONNX Runtime on the same model (sentences/s)", 1.0),
    "embedded_ingest": ("ingest documents/s ≥ 1.5× LanceDB with the same embedder work", 1.5),
}


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    """Runs cmd, returns (stdout, wall seconds, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{err[-2000:]}")
    return out, wall, err


def run_rss(cmd, env=None):
    """Runs cmd with os.wait4 to get its own peak RSS (MiB) and wall time."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return out.decode(), wall, usage.ru_maxrss / 1024.0


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def spread(xs):
    return (min(xs), max(xs)) if xs else (float("nan"), float("nan"))


def fmt(xs, digits=1):
    if not xs:
        return "—"
    lo, hi = spread(xs)
    if len(xs) == 1:
        return f"{med(xs):.{digits}f}"
    return f"{med(xs):.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}]"


# --------------------------------------------------------------------------- data

def load_dataset(work, smoke):
    """Writes the corpus as one .txt per document; returns paths and counts."""
    corpus_dir = os.path.join(work, "corpus")
    if os.path.isdir(corpus_dir):
        shutil.rmtree(corpus_dir)
    os.makedirs(corpus_dir)
    if not smoke and os.path.exists(os.path.join(SCIFACT, "corpus.jsonl")):
        name = "BEIR SciFact (test queries)"
        docs = [json.loads(l) for l in open(os.path.join(SCIFACT, "corpus.jsonl"), encoding="utf-8")]
        queries_path = os.path.join(SCIFACT, "queries.jsonl")
        qrels_path = os.path.join(SCIFACT, "qrels", "test.tsv")
    else:
        name = "generated corpus (SciFact not present, or --smoke)"
        docs, queries, qrels = generate_corpus(120 if smoke else 3000)
        queries_path = os.path.join(work, "queries.jsonl")
        qrels_path = os.path.join(work, "qrels.tsv")
        with open(queries_path, "w", encoding="utf-8") as f:
            for q in queries:
                f.write(json.dumps(q) + "\n")
        with open(qrels_path, "w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for q, d in qrels:
                f.write(f"{q}\t{d}\t1\n")
    for d in docs:
        with open(os.path.join(corpus_dir, f"{d['_id']}.txt"), "w", encoding="utf-8") as f:
            f.write((d.get("title", "") + "\n\n" + d["text"]).strip() + "\n")
    texts = [((d.get("title", "") + " " + d["text"]).strip())[:CHUNK_SIZE] for d in docs[:1000 if not smoke else 64]]
    texts_path = os.path.join(work, "texts.jsonl")
    with open(texts_path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
    return {"name": name, "corpus": corpus_dir, "queries": queries_path, "qrels": qrels_path,
            "documents": len(docs), "texts": texts_path}


def generate_corpus(n):
    """Documents about numbered products with topic words; each query names
    one product's rare words, so its relevant document is known."""
    rng = random.Random(42)
    topics = ["card", "loan", "deposit", "transfer", "mortgage", "insurance", "fund", "pension", "tax", "fraud"]
    filler = ("the bank customer account service branch rate fee policy term online mobile payment limit "
              "statement interest period application review approval document").split()
    docs, queries, qrels = [], [], []
    for i in range(n):
        topic = topics[i % len(topics)]
        code = f"zq{i:05d}x"
        words = [rng.choice(filler) for _ in range(120)]
        words[rng.randrange(120)] = code
        docs.append({"_id": f"d{i}", "title": f"{topic} product {code}", "text": " ".join(words) + f" {topic}."})
        if i % max(1, n // 40) == 0:
            queries.append({"_id": f"q{i}", "text": f"what is the {topic} product {code}"})
            qrels.append((f"q{i}", f"d{i}"))
    return docs, queries, qrels


# --------------------------------------------------------------------------- comparisons

def bench_ingest(a, data, work, peers):
    res = {"ragd": [], "ragd_rss": [], "peer": [], "peer_rss": [], "chunks": None, "peer_chunks": None}
    for r in range(a.rounds):
        order = ["ragd", "peer"] if r % 2 == 0 else ["peer", "ragd"]
        for who in order:
            if who == "ragd":
                d = os.path.join(work, "ragd-data")
                shutil.rmtree(d, ignore_errors=True)
                log(f"ingest round {r + 1}/{a.rounds}: ragd")
                out, wall, rss = run_rss([RAGD, "-q", "--no-trace", "--threads", str(a.threads), "--data-dir", d,
                                          "--embed-model", EMBED_MODEL, "ingest", data["corpus"], "--kb", "bench", "--chunk-unit", "chars",
                                          "--chunk-size", str(CHUNK_SIZE), "--chunk-overlap", str(CHUNK_OVERLAP),
                                          "--no-tune", "--json"])  # tuning is its own step, not ingest time
                rep = json.loads(out)
                res["chunks"] = rep["chunks"]
                res["ragd"].append(rep["chunks"] / wall)
                res.setdefault("ragd_docs", []).append(data["documents"] / wall)
                res["ragd_rss"].append(rss)
            elif peers:
                idx = os.path.join(work, "langchain-index")
                shutil.rmtree(idx, ignore_errors=True)
                log(f"ingest round {r + 1}/{a.rounds}: LangChain")
                out, wall, rss = run_rss([PEER_PY, os.path.join(PEERS, "langchain_ingest.py"), data["corpus"], idx,
                                          "--chunk-size", str(CHUNK_SIZE), "--chunk-overlap", str(CHUNK_OVERLAP),
                                          "--threads", str(a.threads), "--batch", str(BATCH)])
                rep = json.loads(out.strip().splitlines()[-1])
                res["peer_chunks"] = rep["chunks"]
                res["peer"].append(rep["chunks"] / wall)
                res.setdefault("peer_docs", []).append(data["documents"] / wall)
                res["peer_rss"].append(rss)
    return res


def bench_embed(a, data, peers):
    res = {"ragd": [], "peer": []}
    for r in range(a.rounds):
        log(f"embeddings round {r + 1}/{a.rounds}")
        out, _, _ = run([ENGINE_BENCH, "embed", data["texts"], "--batch", str(BATCH), "--threads", str(a.threads),
                          "--model", EMBED_MODEL])
        res["ragd"].append(json.loads(out)["sentences_per_second"])
        if peers:
            out, _, _ = run([PEER_PY, os.path.join(PEERS, "st_embed.py"), data["texts"], "--batch", str(BATCH),
                             "--threads", str(a.threads)])
            res["peer"].append(json.loads(out.strip().splitlines()[-1])["sentences_per_second"])
    return res


def bench_search(a, data, work, peers):
    modes = ["bm25", "dense", "hybrid"]
    res = {m: {"ragd": [], "peer": []} for m in modes}
    for r in range(a.rounds):
        log(f"search round {r + 1}/{a.rounds}: ragd")
        for m in modes:
            out, _, _ = run([ENGINE_BENCH, "search", os.path.join(work, "ragd-data"), "bench", data["queries"],
                             data["qrels"], "--mode", m, "--threads", str(a.threads)])
            res[m]["ragd"].append(json.loads(out))
        if peers:
            log(f"search round {r + 1}/{a.rounds}: LangChain")
            out, _, _ = run([PEER_PY, os.path.join(PEERS, "langchain_search.py"), os.path.join(work, "langchain-index"),
                             data["queries"], data["qrels"], "--threads", str(a.threads)])
            for line in out.strip().splitlines():
                j = json.loads(line)
                res[j["mode"]]["peer"].append(j)
    return res


def bench_ann(a, data, work, peers):
    if not os.path.exists(ANN_COMPARE):
        return None
    log("ANN: usearch vs FAISS HNSW (Debian's libfaiss, PyPI's faiss-cpu) vs hnswlib")
    dump = os.path.join(work, "ann-vectors")
    out, _, _ = run([ANN_COMPARE, os.path.join(work, "ragd-data", "bench"), data["queries"], "--json", "--dump", dump])
    res = json.loads(out)
    if peers:
        out, _, _ = run([PEER_PY, os.path.join(PEERS, "faiss_ann.py"), dump, str(res["dim"]), str(res["k"])])
        extra = json.loads(out.strip().splitlines()[-1])
        extra.pop("version", None)
        res["libraries"].update(extra)
    return res


def bench_stores(a, data, work):
    """SQLite against PostgreSQL, side by side on one corpus: the same
    ingest into each, the same queries through the engine, then the growth
    run on the store interface."""
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    pg_dir = os.path.join("/tmp", f"ragd-bench-pg-{os.getpid()}")
    url = subprocess.run(["bash", PG_SH, "start", pg_dir, str(port)], capture_output=True, text=True,
                         check=True).stdout.strip()
    res = {"ingest": {}, "search": {}, "growth": []}
    try:
        d = os.path.join(work, "ragd-data")
        for name, store in (("sqlite", []), ("postgres", ["--store", url])):
            kb = "stores"
            log(f"stores: ingest into {name}")
            out, wall, _ = run_rss([RAGD, "-q", "--no-trace", "--threads", str(a.threads), "--data-dir", d, *store,
                                    "ingest", data["corpus"], "--kb", kb, "--chunk-unit", "chars",
                                    "--chunk-size", str(CHUNK_SIZE), "--chunk-overlap", str(CHUNK_OVERLAP), "--no-tune",
                                    "--json"])
            rep = json.loads(out)
            res["ingest"][name] = {"chunks": rep["chunks"], "chunks_per_s": rep["chunks"] / wall}
            res["search"][name] = {}
            for m in ("bm25", "dense", "hybrid"):
                out, _, _ = run([ENGINE_BENCH, "search", d, kb, data["queries"], data["qrels"], "--mode", m,
                                 "--threads", str(a.threads), *(["--store", url] if store else [])])
                res["search"][name][m] = json.loads(out)
        log("stores: kb copy sqlite -> postgres (no embedding)")
        out, wall, _ = run_rss([RAGD, "-q", "--data-dir", d, "kb", "copy", "stores", "--to", url, "--as", "copied",
                                "--json"])
        res["copy"] = json.loads(out)
        for name, store in (("sqlite", []), ("postgres", ["--store", url])):
            log(f"stores: growth on {name} ({a.store_sizes})")
            out, _, _ = run([STORE_BENCH, "--from", d, "--kb", "stores", "--queries", data["queries"],
                             "--sizes", a.store_sizes, "--to", os.path.join(work, "grow-data"), *store])
            res["growth"] += [json.loads(line) for line in out.splitlines() if line.strip()]
    finally:
        subprocess.run(["bash", PG_SH, "stop", pg_dir], capture_output=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
        shutil.rmtree(os.path.join(work, "grow-data"), ignore_errors=True)
    return res


def stores_report(st):
    L = ["## 7. Stores: SQLite vs PostgreSQL + pgvector (same machine, same corpus, one run)", "",
         "| | SQLite | PostgreSQL | ratio PG / SQLite |", "|---|---|---|---|"]
    ing = st["ingest"]
    L.append(f"| ingest chunks/s (embedding included) | {ing['sqlite']['chunks_per_s']:.1f} | "
             f"{ing['postgres']['chunks_per_s']:.1f} | {ing['postgres']['chunks_per_s'] / ing['sqlite']['chunks_per_s']:.2f} |")
    for m in ("bm25", "dense", "hybrid"):
        a, b = st["search"]["sqlite"][m], st["search"]["postgres"][m]
        L.append(f"| {m} search q/s (p50 / p99 ms) | {a['queries_per_second']:.1f} ({a['p50_ms']:.1f} / {a['p99_ms']:.1f}) | "
                 f"{b['queries_per_second']:.1f} ({b['p50_ms']:.1f} / {b['p99_ms']:.1f}) | {b['queries_per_second'] / a['queries_per_second']:.2f} |")
        L.append(f"| {m} recall@10 | {a['recall_at_10']:.3f} | {b['recall_at_10']:.3f} | |")
    c = st.get("copy")
    if c:
        L += ["", f"`ragd kb copy` SQLite → PostgreSQL: {c['chunks']} chunks with their embeddings in "
                  f"{c['seconds']:.1f} s ({c['chunks'] / c['seconds']:.0f} chunks/s, checked)."]
    L += ["", "Search latency as the corpus grows (`bench/store_bench`: the corpus's chunks and real embeddings "
              "repeated with distinct ids, vectors moved by noise σ 0.02; per query BM25 top 100, ANN top 100, "
              "fetching 10 chunks; ms):", "",
          "| store | chunks | write chunks/s | BM25 p50 / p99 | ANN p50 / p99 | fetch p50 / p99 | total p50 / p99 |",
          "|---|---|---|---|---|---|---|"]
    for g in st["growth"]:
        L.append(f"| {g['store']} | {g['chunks']:,} | {g['write_chunks_per_s']:.0f} | {g['bm25_p50_ms']:.1f} / "
                 f"{g['bm25_p99_ms']:.1f} | {g['ann_p50_ms']:.2f} / {g['ann_p99_ms']:.2f} | {g['fetch_p50_ms']:.2f} / "
                 f"{g['fetch_p99_ms']:.2f} | {g['total_p50_ms']:.1f} / {g['total_p99_ms']:.1f} |")
    return L + [""]


def bench_python(a, data, work):
    """The Python package in the bench venv on the search section's knowledge
    base, beside engine_bench's in-process C++ search of the same queries."""
    res = {"cpp": {}}
    for m in ("bm25", "dense", "hybrid"):
        out, _, _ = run([ENGINE_BENCH, "search", os.path.join(work, "ragd-data"), "bench", data["queries"],
                         data["qrels"], "--mode", m, "--threads", str(a.threads)])
        res["cpp"][m] = json.loads(out)
    log("python: the wheel's overhead, RagdRetriever vs EnsembleRetriever, RetrievalQA")
    out, _, _ = run([PEER_PY, os.path.join(PEERS, "python_bench.py"), os.path.join(work, "ragd-data"), "bench",
                     data["queries"], data["qrels"], os.path.join(work, "langchain-index"),
                     "--qa", "2" if a.smoke else "5", "--threads", str(a.threads)])
    res.update(json.loads(out.strip().splitlines()[-1]))
    return res


def python_report(py):
    L = ["## 8. Python: the wheel's overhead, and LangChain on ragd vs LangChain's own retrieval (one run)", "",
         "Each search timed from Python and by the engine inside the same call (`Hits.seconds`); engine_bench is "
         "the same search from C++ in its own process:", "",
         "| mode | Python q/s | engine_bench (C++) q/s | Python wall ms | engine ms | overhead µs mean / p50 / p99 |",
         "|---|---|---|---|---|---|"]
    for m in ("bm25", "dense", "hybrid"):
        o, c = py["overhead"][m], py["cpp"][m]
        L.append(f"| {m} | {o['queries_per_second']:.1f} | {c['queries_per_second']:.1f} | {o['wall_ms_mean']:.2f} | "
                 f"{o['engine_ms_mean']:.2f} | {o['overhead_us_mean']:.0f} / {o['overhead_us_p50']:.0f} / "
                 f"{o['overhead_us_p99']:.0f} |")
    r = py["retrievers"]
    L += ["", "LangChain's retriever interface (`retriever.invoke`, 10 documents), on the same queries:", "",
          "| retriever | q/s | p50 ms | p99 ms | recall@10 |", "|---|---|---|---|---|",
          f"| RagdRetriever (hybrid) | {r['ragd']['queries_per_second']:.1f} | {r['ragd']['p50_ms']:.1f} | "
          f"{r['ragd']['p99_ms']:.1f} | {r['ragd']['recall_at_10']:.3f} |",
          f"| EnsembleRetriever (BM25Retriever + FAISS, MiniLM) | {r['ensemble']['queries_per_second']:.1f} | "
          f"{r['ensemble']['p50_ms']:.1f} | {r['ensemble']['p99_ms']:.1f} | {r['ensemble']['recall_at_10']:.3f} |",
          f"| ratio ragd / LangChain | {ratio(r['ragd']['queries_per_second'], r['ensemble']['queries_per_second']):.1f}× | | | |"]
    q = py["retrievalqa"]
    L += ["", f"RetrievalQA end to end (4 sources, ChatRagd with the packaged 0.5B model, 64 tokens; "
              f"{q['ragd']['queries']} queries): RagdRetriever {q['ragd']['queries_per_second']:.3f} q/s "
              f"(p50 {q['ragd']['p50_ms'] / 1e3:.1f} s), EnsembleRetriever {q['ensemble']['queries_per_second']:.3f} q/s "
              f"(p50 {q['ensemble']['p50_ms'] / 1e3:.1f} s): generation dominates.", ""]
    return L


def bench_embedded(a, data, work):
    """Section 9 on the search section's knowledge base: engine_bench (query
    embedding included) beside the embedded peers (query vectors given)."""
    kb = os.path.join(work, "ragd-data")
    res = {"ragd": {}, "embed": {"ragd": [], "onnx": []}}
    fts5 = dict(os.environ, RAGD_LEXICAL_INDEX="fts5")
    for label, mode, env in (("bm25", "bm25", None), ("bm25-fts5", "bm25", fts5), ("dense", "dense", None),
                             ("hybrid", "hybrid", None)):
        out, _, _ = run([ENGINE_BENCH, "search", kb, "bench", data["queries"], data["qrels"], "--mode", mode,
                         "--threads", str(a.threads)], env=env)
        res["ragd"][label] = json.loads(out)
    log("embedded peers: LanceDB, Chroma, bm25s, tantivy on ragd's chunks and vectors")
    out, _, _ = run([PEER_PY, os.path.join(PEERS, "embedded_peers.py"), os.path.join(kb, "bench"), data["queries"],
                     data["qrels"], os.path.join(work, "embedded-peers"), "--threads", str(a.threads),
                     "--embed-chunks"])
    res["peers"] = [json.loads(line) for line in out.strip().splitlines()]
    for r in range(a.rounds):
        log(f"embeddings vs ONNX Runtime, round {r + 1}/{a.rounds}")
        out, _, _ = run([ENGINE_BENCH, "embed", data["texts"], "--batch", str(BATCH), "--threads", str(a.threads),
                          "--model", EMBED_MODEL])
        res["embed"]["ragd"].append(json.loads(out)["sentences_per_second"])
        out, _, _ = run([PEER_PY, os.path.join(PEERS, "onnx_embed.py"), data["texts"], os.path.join(work, "onnx"),
                         "--batch", str(BATCH), "--threads", str(a.threads)])
        j = json.loads(out.strip().splitlines()[-1])
        res["embed"]["onnx"].append(j["sentences_per_second"])
        res["embed"]["onnx_cosine"] = j["min_cosine_to_sentence_transformers"]
    return res


def embedded_report(em, ingest, documents):
    """Section 9's tables and its goals as (key, value, met)."""
    L = ["## 9. Embedded peers: LanceDB, Chroma, bm25s, tantivy, ONNX Runtime (same chunks, same vectors, one run)", "",
         "ragd is `engine_bench` in-process and **includes the query embedding** in every dense and hybrid time, "
         "except the rows \"query vector given\" (ragd through its wheel, on the peers' footing); "
         "the peers get the query vectors (ragd's, computed before their timed loop). Each query once after a "
         "warm-up; 30 chunks fetched, recall@10 over the first 10 distinct documents.", "",
         "| mode | engine | q/s | p50 ms | p99 ms | recall@10 |", "|---|---|---|---|---|---|"]
    names = {"bm25": "ragd (block-max index)", "bm25-fts5": "ragd (FTS5 bm25(), RAGD_LEXICAL_INDEX=fts5)",
             "dense": "ragd", "hybrid": "ragd"}
    rows = [(label.split("-")[0], names[label], r) for label, r in em["ragd"].items()]
    wheel_names = {"hybrid": "ragd (wheel, query vector given, RRF)",
                   "hybrid-zscore": "ragd (wheel, query vector given, z-score)"}
    rows += [(p["mode"].split("-")[0], p["peer"] if p["peer"] != "ragd" else
              wheel_names.get(p["mode"], "ragd (wheel, query vector given)"), p)
             for p in em["peers"] if "queries_per_second" in p]
    for mode in ("bm25", "dense", "hybrid"):
        for m, who, r in rows:
            if m == mode:
                L.append(f"| {mode} | {who} | {r['queries_per_second']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['recall_at_10']:.3f} |")
    L += ["", "ragd's query embedding alone (p50 ms): " + ", ".join(
        f"{label} {r['embed_p50_ms']:.2f}" for label, r in em["ragd"].items() if "embed_p50_ms" in r) + "."]
    goals = []
    lance = {p["mode"]: p for p in em["peers"] if p["peer"] == "lancedb"}
    # On the peers' footing (query vectors given, RRF as LanceDB) when ragd ran
    # through the wheel; else engine_bench's, which also embeds the query.
    wheel = {p["mode"]: p for p in em["peers"] if p["peer"] == "ragd"}
    if "hybrid" in lance:
        ours, theirs = wheel.get("hybrid", em["ragd"]["hybrid"]), lance["hybrid"]
        r = ours["queries_per_second"] / theirs["queries_per_second"]
        goals.append(("embedded_hybrid", r, r >= GOALS["embedded_hybrid"][1] and
                      ours["recall_at_10"] >= theirs["recall_at_10"]))
    e = em["embed"]
    if e["onnx"]:
        r = med(e["ragd"]) / med(e["onnx"])
        L += ["", f"Embeddings alone (all-MiniLM-L6-v2, batch {BATCH}): ragd {fmt(e['ragd'])} sentences/s, ONNX Runtime "
                  f"{fmt(e['onnx'])} (the export agrees with sentence-transformers at cosine ≥ "
                  f"{e['onnx_cosine']:.4f}): **{r:.2f}×**."]
        goals.append(("embedded_embed", r, r >= GOALS["embedded_embed"][1]))
    builds = {p["peer"]: p for p in em["peers"] if p["mode"] == "ingest"}
    chunks_embed = next((p for p in em["peers"] if p["mode"] == "embed-chunks"), None)
    L += ["", "Ingest. Peers' build rates load ready chunks and vectors; \"LanceDB with the embedder\" adds ragd's "
              "embedding of the same chunks (timed in the same run), the work ragd's ingest does besides reading "
              "and splitting the files:", "", "| engine | chunks/s | documents/s |", "|---|---|---|"]
    for name, p in builds.items():
        L.append(f"| {name} (build only) | {p['chunks_per_second']:.0f} | |")
    if ingest and ingest.get("ragd_docs"):
        L.append(f"| ragd ingest (files → chunks → embeddings → both indexes) | {med(ingest['ragd']):.1f} | "
                 f"{med(ingest['ragd_docs']):.1f} |")
    if chunks_embed and "lancedb" in builds and ingest and ingest.get("ragd_docs"):
        secs = chunks_embed["seconds"] + builds["lancedb"]["seconds"]
        docs = documents / secs
        L.append(f"| LanceDB with the embedder (embedding {chunks_embed['seconds']:.0f} s + build "
                 f"{builds['lancedb']['seconds']:.1f} s) | {chunks_embed['chunks'] / secs:.1f} | {docs:.1f} |")
        r = med(ingest["ragd_docs"]) / docs
        goals.append(("embedded_ingest", r, r >= GOALS["embedded_ingest"][1]))
    return L + [""], goals


def bench_generation(a):
    log("generation: ragd vs llama-bench")
    out, _, _ = run(["bash", os.path.join(ROOT, "bench", "generation.sh"), str(a.threads), str(a.rounds), "--json"])
    return json.loads(out.strip().splitlines()[-1])


def bench_recommend(a):
    log("recommend: ragd eval recommend vs implicit's item-kNN")
    out, _, _ = run([PEER_PY if os.path.exists(PEER_PY) else sys.executable,
                     os.path.join(ROOT, "bench", "recommend_bench.py"), "--json", os.path.join(a.work, "recommend.json")])
    with open(os.path.join(a.work, "recommend.json"), encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------- report

def qps_at_recall(rows, target):
    """Highest q/s among a library's settings whose recall@10 ≥ target."""
    ok = [r["qps"] for r in rows if r["recall"] >= target]
    return max(ok) if ok else None


def versions():
    v = {"ragd": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()}
    stamp = os.path.join(ROOT, "scripts", "setup", "common.sh")
    for line in open(stamp, encoding="utf-8"):
        if line.startswith("LLAMA_CPP_PYTHON_VERSION=") or line.startswith("LLAMA_VERSION="):
            v["llama.cpp (llama-cpp-python sdist)"] = line.split("=", 1)[1].strip()
    if os.path.exists(PEER_PY):
        code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
                "['langchain-core','langchain-classic','langchain-community','langchain-text-splitters',"
                "'langchain-huggingface','sentence-transformers','torch','faiss-cpu','rank-bm25']}))")
        out = subprocess.run([PEER_PY, "-c", code], capture_output=True, text=True).stdout
        if out:
            v.update(json.loads(out))
    return v


def machine():
    cpu = ""
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    if os.path.exists("/proc/meminfo"):
        kb = int(open("/proc/meminfo").readline().split()[1])
        mem = f"{kb / 1048576:.0f} GiB"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform()}


def ratio(a, b):
    return a / b if a and b else None


def write_report(a, data, results, path):
    L = []
    m = results["machine"]
    L += ["# ragd benchmarks", "",
          "Regenerated by `make bench` (`bench/run.py`); do not edit by hand. Each ragd/peer pair alternates "
          f"{a.rounds} round(s) in one run; figures are medians with [min–max] over rounds.", "",
          f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}",
          f"- threads: {a.threads} for every program; data: {data['name']}, {data['documents']} documents",
          f"- chunking on both sides: {CHUNK_SIZE} characters, {CHUNK_OVERLAP} overlap; embeddings: "
          f"all-MiniLM-L6-v2 (ragd: GGUF f16 via llama.cpp; peers: the same safetensors via sentence-transformers); "
          f"batch {BATCH}",
          "- versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()), ""]
    goals = []

    ing = results.get("ingest")
    if ing:
        r = ratio(med(ing["ragd"]), med(ing["peer"]))
        L += ["## 1. Ingest (files → chunks → embeddings → index)", "",
              "| | chunks | chunks/s | documents/s (the whole corpus) | peak RSS MiB |", "|---|---|---|---|---|",
              f"| ragd `ingest` | {ing['chunks']} | {fmt(ing['ragd'])} | {fmt(ing.get('ragd_docs', []))} | "
              f"{fmt(ing['ragd_rss'], 0)} |"]
        if ing["peer"]:
            rd = ratio(med(ing["ragd_docs"]), med(ing["peer_docs"]))
            rr = ratio(med(ing["peer_rss"]), med(ing["ragd_rss"]))
            L += [f"| LangChain (RecursiveCharacterTextSplitter → sentence-transformers → FAISS) | {ing['peer_chunks']} | "
                  f"{fmt(ing['peer'])} | {fmt(ing['peer_docs'])} | {fmt(ing['peer_rss'], 0)} |", "",
                  f"- ratio ragd / LangChain: **{r:.2f}×** chunks/s, **{rd:.2f}×** documents/s; LangChain's peak RSS "
                  f"is **{rr:.1f}×** ragd's",
                  "- The two splitters cut the same corpus differently at the same size and overlap (ragd packs "
                  "sentences up to the size, RecursiveCharacterTextSplitter cuts at paragraph breaks first), so "
                  "documents/s — the time to ingest the same corpus — is the like-for-like figure."]
            goals.append(("ingest", r, r >= GOALS["ingest"][1]))
            goals.append(("ingest_docs", rd, rd >= GOALS["ingest"][1]))
        L += [""]

    emb = results.get("embed")
    if emb:
        L += ["## 2. Embeddings alone", "", "| | sentences/s |", "|---|---|",
              f"| ragd embedder (llama.cpp) | {fmt(emb['ragd'])} |"]
        if emb["peer"]:
            r = ratio(med(emb["ragd"]), med(emb["peer"]))
            L += [f"| sentence-transformers (torch CPU) | {fmt(emb['peer'])} |", "", f"ratio: **{r:.2f}×**"]
        L += [""]

    se = results.get("search")
    if se:
        L += ["## 3. Search (in-process, each query once after a warm-up)", "",
              "| mode | program | queries/s | p50 ms | p99 ms | recall@10 |", "|---|---|---|---|---|---|"]
        for mode, v in se.items():
            for who, label in (("ragd", "ragd"), ("peer", "LangChain")):
                rows = v[who]
                if not rows:
                    continue
                L.append(f"| {mode} | {label} | {fmt([x['queries_per_second'] for x in rows])} | "
                         f"{fmt([x['p50_ms'] for x in rows], 2)} | {fmt([x['p99_ms'] for x in rows], 2)} | "
                         f"{med([x['recall_at_10'] for x in rows]):.4f} |")
        L += [""]
        for mode, v in se.items():
            if v["peer"]:
                r = ratio(med([x["queries_per_second"] for x in v["ragd"]]),
                          med([x["queries_per_second"] for x in v["peer"]]))
                L.append(f"- {mode}: ragd / LangChain **{r:.1f}×** q/s")
                if mode == "hybrid":
                    goals.append(("search", r, r >= GOALS["search"][1]))
        L += ["", "Where ragd's time goes (p50 ms per query, from `SearchResponse::timings`):", "",
              "| mode | query embedding (model) | BM25 (FTS5) | ANN (usearch) | outside model calls | "
              "orchestration (checks, fusion, fetching hits) |", "|---|---|---|---|---|---|"]
        for mode, v in se.items():
            rows = v["ragd"]
            if rows and "orchestration_p50_ms" in rows[0]:
                L.append(f"| {mode} | " + " | ".join(fmt([x[k] for x in rows], 2) for k in (
                    "embed_p50_ms", "lexical_p50_ms", "vector_p50_ms", "outside_model_p50_ms", "orchestration_p50_ms"))
                         + " |")
        hy = se.get("hybrid", {}).get("ragd", [])
        if hy and "orchestration_p50_ms" in hy[0]:
            over = med([x["orchestration_p50_ms"] for x in hy])
            goals.append(("overhead", over, over < GOALS["overhead"][1]))
        L += [""]

    ann = results.get("ann")
    if ann:
        L += ["## 4. ANN (single thread, M=16, ef_construction=128, same vectors)", "",
              f"{ann['vectors']} vectors of {ann['dim']} dimensions, {ann['queries']} queries, exact top-10 as truth; "
              "one pass per library (not alternated: re-runs move single figures by up to ±20%).", "",
              "| library | build s | bytes/vector | q/s at recall@10 ≥ 0.95 | q/s at ≥ 0.99 | ef sweep, part (recall / q/s) |",
              "|---|---|---|---|---|---|"]
        for lib, info in ann["libraries"].items():
            sweep = ", ".join(f"ef {r['ef']}: {r['recall']:.3f} / {r['qps']:.0f}" for r in info["rows"]
                              if r["ef"] in (16, 32, 64, 128, 256))  # the whole grid is in the JSON
            q95, q99 = qps_at_recall(info["rows"], 0.95), qps_at_recall(info["rows"], 0.99)
            L.append(f"| {lib} | {info['build_seconds']:.2f} | {info['bytes_per_vector']:.0f} | "
                     f"{q95 and f'{q95:.0f}' or 'not reached'} | {q99 and f'{q99:.0f}' or 'not reached'} | {sweep} |")
        L += ["", "usearch is ragd's index as it runs (f16 vectors, inner product, NumKong's SIMD kernels); usearch-f32 "
              "the same at full precision. faiss is Debian's libfaiss 1.7.3 (a generic SSE build); faiss-cpu is "
              "PyPI's wheel (AVX2/AVX-512), one query per call as ragd's are served, and batched (every query in one "
              "call: no per-call cost, FAISS's best case). Ratios are against the fastest FAISS at each recall.", ""]
        u = ann["libraries"].get("usearch")
        fs = [v for k, v in ann["libraries"].items() if k.startswith("faiss")]
        if u and fs:
            for t in (0.95, 0.99):
                best = max((qps_at_recall(f["rows"], t) or 0) for f in fs)
                r = ratio(qps_at_recall(u["rows"], t), best)
                if r:
                    L.append(f"- usearch / fastest FAISS at recall@10 ≥ {t}: **{r:.2f}×**")
                    goals.append((f"ann@{t}", r, r >= GOALS["ann"][1]))
        L += [""]

    gen = results.get("generation")
    if gen:
        L += ["## 5. Generation (same pinned llama.cpp, same GGUF, same threads)", "",
              "| | ragd | llama-bench | ratio |", "|---|---|---|---|",
              f"| prompt tokens/s ({gen['prompt_tokens']}-token RAG prompt) | {gen['ragd_pp']:.1f} | {gen['bench_pp']:.1f} | "
              f"{gen['ragd_pp'] / gen['bench_pp']:.3f} |",
              f"| generated tokens/s | {gen['ragd_tg']:.1f} | {gen['bench_tg']:.1f} | {gen['ragd_tg'] / gen['bench_tg']:.3f} |",
              "", f"time to first token: {gen['ttft'] * 1e3:.0f} ms uncached, {gen['ttft_cached'] * 1e3:.0f} ms with the "
              f"cached prompt prefix ({gen['ttft_cached'] / gen['ttft']:.3f}×)", ""]
        worst = min(gen["ragd_pp"] / gen["bench_pp"], gen["ragd_tg"] / gen["bench_tg"])
        goals.append(("generation", worst, worst >= GOALS["generation"][1]))
        c = gen["ttft_cached"] / gen["ttft"]
        goals.append(("ttft", c, c <= GOALS["ttft"][1]))

    rec = results.get("recommend")
    if rec:
        L += [rec["markdown"], ""]
        for name, r in rec["results"].items():
            p50 = r["latency"]["fused_ms_p50_history_180"]
            if p50 is not None:
                goals.append((f"recommend@{name}", p50, p50 < GOALS["recommend"][1]))

    if results.get("stores"):
        L += stores_report(results["stores"])

    if results.get("python"):
        L += python_report(results["python"])
        over = max(results["python"]["overhead"][m]["overhead_us_mean"] for m in ("bm25", "dense", "hybrid")) / 1e3
        goals.append(("python", over, over < GOALS["python"][1]))

    if results.get("embedded"):
        em_lines, em_goals = embedded_report(results["embedded"], results.get("ingest"), data["documents"])
        L += em_lines
        goals += em_goals

    if goals:
        L += ["## Goals", "", "| goal | measured | met |", "|---|---|---|"]
        for key, value, ok in goals:
            what = "set" if key.startswith("recommend@") else "recall"
            text = GOALS[key.split("@")[0]][0] + (f" ({what} {key.split('@')[1]})" if "@" in key else "")
            unit = " ms" if key in ("overhead", "python") or key.startswith("recommend@") else "×"
            L.append(f"| {text} | {value:.2f}{unit} | {'yes' if ok else '**no**'} |")
        L += [""]
    L += ["Commands: `make bench` (all; `make bench BENCH_ARGS=\"--rounds 3\"`), or a part re-run into the last "
          "results: `build/bench-venv/bin/python bench/run.py --only ann --merge --json build/bench-results.json`. "
          "Where the goals are missed and why: docs/DECISIONS.md, \"Speed\".", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="tiny generated corpus, one round (for make test)")
    ap.add_argument("--peers", choices=["auto", "none"], default="auto")
    ap.add_argument("--only", default="ingest,embed,search,ann,generation,recommend,stores,python,embedded")
    ap.add_argument("--store-sizes", default="10000,30000,100000,300000",
                    help="corpus sizes (chunks) of the store growth run")
    ap.add_argument("--json", default=None)
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--work", default=os.path.join(BUILD, "bench-work"))
    ap.add_argument("--merge", action="store_true",
                    help="start from the --json file of an earlier run and replace only the parts run now "
                         "(search/ann reuse the indexes that run built)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds = 1
    only = set(a.only.split(","))
    peers = a.peers == "auto" and os.path.exists(PEER_PY)
    if a.peers == "auto" and not peers:
        log(f"no peer venv at {PEER_PY}: ragd only (make bench installs the peers)")
    for tool in (RAGD, ENGINE_BENCH):
        if not os.path.exists(tool):
            sys.exit(f"bench: {tool} is missing; run make build")
    os.makedirs(a.work, exist_ok=True)
    data = load_dataset(a.work, a.smoke)
    results = {}
    if a.merge and a.json and os.path.exists(a.json):
        with open(a.json, encoding="utf-8") as f:
            results = json.load(f)  # sections not run now keep their earlier figures
        if results.get("data") != data["name"]:
            sys.exit(f"bench: --merge: {a.json} holds a run on {results.get('data')}, not {data['name']}")
    results.update({"machine": machine(), "versions": versions(), "data": data["name"], "rounds": a.rounds,
                    "threads": a.threads})
    have_indexes = os.path.isdir(os.path.join(a.work, "ragd-data", "bench")) and (
        not peers or os.path.isdir(os.path.join(a.work, "langchain-index")))
    if "ingest" in only or (only & {"search", "ann", "python", "embedded"} and not (a.merge and have_indexes)):
        results["ingest"] = bench_ingest(a, data, a.work, peers)
    if "embed" in only:
        results["embed"] = bench_embed(a, data, peers)
    if "search" in only:
        results["search"] = bench_search(a, data, a.work, peers)
    if "ann" in only:
        results["ann"] = bench_ann(a, data, a.work, peers)
    if "generation" in only and not a.smoke:
        results["generation"] = bench_generation(a)
    if "recommend" in only and not a.smoke:
        results["recommend"] = bench_recommend(a)
    if "stores" in only:
        if a.smoke:
            a.store_sizes = "400,800"
        results["stores"] = bench_stores(a, data, a.work)
    if "python" in only and peers:
        results["python"] = bench_python(a, data, a.work)
    if "embedded" in only and peers:
        results["embedded"] = bench_embedded(a, data, a.work)
    write_report(a, data, results, a.results)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    log(f"wrote {a.results}")


if __name__ == "__main__":
    main()
