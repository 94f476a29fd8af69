#!/usr/bin/env python3
"""The peer of `ragd eval recommend`: item-kNN by `implicit` (pinned in
bench/requirements.txt) and popularity, on the same leave-last-out split
(each user's last interaction by time, ties in file order, is the target;
users with one interaction left out) and the same users.

implicit's CosineRecommender with K neighbours over the binary user×item
matrix is the cosine of the items' user sets, as ragd's item-kNN is.

  implicit_itemknn.py INTERACTIONS.csv USERS.txt [--k 50] [--json OUT]

USERS.txt: the users to score, one per line (ragd's sample, from its
--out records). Prints HR@10, nDCG@10, MRR (lists of 100) for item-kNN and
popularity, and item-kNN's recommend() latency per user.
"""
import argparse
import csv
import json
import math
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.nearest_neighbours import CosineRecommender  # noqa: E402


def leave_last_out(path):
    by_user = {}
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        time_key = next((k for k in ("time", "timestamp", "order", "ts") if k in r.fieldnames), None)
        for n, row in enumerate(r):
            t = float(row[time_key]) if time_key and row[time_key] != "" else 0.0
            by_user.setdefault(row["user"], []).append((t, n, row["item"]))
    train, target = [], {}
    for user, rows in by_user.items():
        if len(rows) < 2:
            continue
        rows.sort(key=lambda x: (x[0], x[1]))
        target[user] = rows[-1][2]
        train.extend((user, item) for _, _, item in rows[:-1])
    return train, target


def scores(ranks):
    hr = [1.0 if 1 <= r <= 10 else 0.0 for r in ranks]
    ndcg = [1 / math.log2(r + 1) if 1 <= r <= 10 else 0.0 for r in ranks]
    rr = [1 / r if r >= 1 else 0.0 for r in ranks]
    ci = lambda v: 1.96 * statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else 0.0  # noqa: E731
    return {"users": len(ranks), "hr_at_10": statistics.fmean(hr), "hr_ci": ci(hr),
            "ndcg_at_10": statistics.fmean(ndcg), "ndcg_ci": ci(ndcg), "mrr": statistics.fmean(rr), "mrr_ci": ci(rr)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("interactions")
    ap.add_argument("users")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--list", type=int, default=100)
    ap.add_argument("--json")
    a = ap.parse_args()
    train, target = leave_last_out(a.interactions)
    users = [u.strip() for u in open(a.users, encoding="utf-8") if u.strip()]
    uid = {u: i for i, u in enumerate(sorted({u for u, _ in train}))}
    iid = {it: i for i, it in enumerate(sorted({it for _, it in train} | set(target.values())))}
    items = {i: it for it, i in iid.items()}
    pairs = sorted({(uid[u], iid[it]) for u, it in train})
    rows, cols = zip(*pairs)
    m = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (rows, cols)), shape=(len(uid), len(iid)))
    t0 = time.perf_counter()
    model = CosineRecommender(K=a.k)
    model.fit(m, show_progress=False)
    fit_seconds = time.perf_counter() - t0
    popularity = np.asarray(m.sum(axis=0)).ravel()
    knn_ranks, pop_ranks, latency, history = [], [], [], []
    for u in users:
        row = uid[u]
        seen = set(m[row].indices)
        t1 = time.perf_counter()
        ids, _ = model.recommend(row, m[row], N=a.list, filter_already_liked_items=True)
        latency.append(time.perf_counter() - t1)
        history.append(len(seen))
        want = iid[target[u]]
        got = [int(i) for i in ids]
        knn_ranks.append(got.index(want) + 1 if want in got else 0)
        order = [i for i in np.argsort(-popularity, kind="stable") if i not in seen][: a.list]
        pop_ranks.append(order.index(want) + 1 if want in order else 0)
    long = [t for t, h in zip(latency, history) if h >= 180] or latency
    out = {"peer": "implicit CosineRecommender", "k": a.k, "fit_seconds": fit_seconds,
           "item-knn": scores(knn_ranks), "popularity": scores(pop_ranks),
           "latency_ms_p50": 1000 * statistics.median(latency),
           "latency_ms_p50_history_180": 1000 * statistics.median(long), "users_history_180": len(long),
           "items": len(items)}
    print(json.dumps(out, indent=2))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
