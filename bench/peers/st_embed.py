"""sentence-transformers alone: sentences/s of MiniLM-L6 at a batch size.

    st_embed.py TEXTS.jsonl --batch 32 --threads 2 --rounds 1
"""
import argparse
import json
import statistics
import time

import common


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("texts")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    common.set_threads(a.threads)
    from sentence_transformers import SentenceTransformer

    with open(a.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    model = SentenceTransformer(common.minilm_dir(), device="cpu")
    model.encode(texts[: a.batch], batch_size=a.batch)  # warm-up
    rates = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        model.encode(texts, batch_size=a.batch, normalize_embeddings=True)
        rates.append(len(texts) / (time.perf_counter() - t0))
    print(json.dumps({"texts": len(texts), "batch": a.batch, "sentences_per_second": statistics.median(rates),
                      "rounds": rates}))


if __name__ == "__main__":
    main()
