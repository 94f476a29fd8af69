#!/usr/bin/env python3
"""Convert a sentence-transformers BERT checkpoint (safetensors) to GGUF.

ragd's own small converter: it needs only the `gguf`, `safetensors` and
`numpy` packages, so the set-up does not pull torch (and its CUDA wheels) the
way llama.cpp's convert_hf_to_gguf.py would. It handles plain BERT encoders
with WordPiece vocabularies (all-MiniLM-L6-v2 and its relatives); anything
else is refused with a message rather than converted wrongly.

Cross-encoders (BertForSequenceClassification with one output, e.g.
ms-marco-MiniLM-L-6-v2) become llama.cpp rerank models: the BERT pooler is
llama.cpp's `cls` head and the classifier its `cls.output`, with RANK pooling.

--test-rerank-head SEED makes a rerank GGUF out of an encoder that has no
classifier, with a seeded random output vector. Its scores are deterministic
but carry no relevance: it exists so the rerank code path can be tested
against the real llama.cpp API when no trained reranker is packaged.

Usage: convert_bert_to_gguf.py MODEL_DIR OUT.gguf [--name NAME] [--test-rerank-head SEED]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import gguf
from safetensors.numpy import load_file


def fail(msg: str) -> None:
    print(f"convert_bert_to_gguf: {msg}", file=sys.stderr)
    sys.exit(1)


def load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    return {}


def pooling_type(model_dir: Path) -> gguf.PoolingType:
    cfg_path = model_dir / "1_Pooling" / "config.json"
    if not cfg_path.exists():
        return gguf.PoolingType.MEAN
    cfg = load_json(cfg_path)
    if cfg.get("pooling_mode_mean_tokens"):
        return gguf.PoolingType.MEAN
    if cfg.get("pooling_mode_cls_token"):
        return gguf.PoolingType.CLS
    fail(f"unsupported pooling in {cfg_path}")
    return gguf.PoolingType.NONE


def vocab(model_dir: Path) -> tuple[list[str], list[int]]:
    tok = load_json(model_dir / "tokenizer.json")
    model = tok.get("model", {})
    if model.get("type") != "WordPiece":
        fail(f"tokenizer is {model.get('type')!r}, only WordPiece is supported")
    by_id = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        fail("tokenizer vocabulary ids are not contiguous")
    special = {t["content"] for t in tok.get("added_tokens", []) if t.get("special")}
    tokens, types = [], []
    for text, _ in by_id:
        if text in special:
            tokens.append(text)
            types.append(gguf.TokenType.CONTROL)
        elif text.startswith("##"):
            # llama.cpp's WPM tokenizer uses "phantom space" pieces: a word
            # start carries U+2581, a continuation does not.
            tokens.append(text[2:])
            types.append(gguf.TokenType.NORMAL)
        else:
            tokens.append("\u2581" + text)
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--name", default=None)
    ap.add_argument("--test-rerank-head", type=int, default=None, metavar="SEED")
    args = ap.parse_args()

    cfg = load_json(args.model_dir / "config.json")
    if cfg.get("model_type") != "bert":
        fail(f"model_type is {cfg.get('model_type')!r}, only 'bert' is supported")
    n_layer = int(cfg["num_hidden_layers"])
    arch = gguf.MODEL_ARCH.BERT
    name_map = gguf.get_tensor_name_map(arch, n_layer)

    tensors = {k[5:] if k.startswith("bert.") else k: v
               for k, v in load_file(str(args.model_dir / "model.safetensors")).items()}
    rerank = "classifier.weight" in tensors or args.test_rerank_head is not None
    if "classifier.weight" in tensors:
        if tensors["classifier.weight"].shape[0] != 1:
            fail("the classifier has %d outputs; a reranker has one" % tensors["classifier.weight"].shape[0])
    elif args.test_rerank_head is not None:
        hidden = int(cfg["hidden_size"])
        rng = np.random.default_rng(args.test_rerank_head)
        tensors["classifier.weight"] = (rng.standard_normal((1, hidden)) / np.sqrt(hidden)).astype(np.float32)
        tensors["classifier.bias"] = np.zeros(1, dtype=np.float32)
    if rerank and "pooler.dense.weight" not in tensors:
        fail("a reranker needs the BERT pooler (pooler.dense), which this checkpoint lacks")
    tokens, types = vocab(args.model_dir)
    st_cfg_path = args.model_dir / "sentence_bert_config.json"
    max_seq = int(load_json(st_cfg_path).get("max_seq_length", cfg["max_position_embeddings"])) \
        if st_cfg_path.exists() else int(cfg["max_position_embeddings"])

    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    w = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[arch])
    w.add_name(args.name or args.model_dir.name)
    # The trained window (sentence-transformers' max_seq_length), not the
    # position table size: longer inputs degrade the embedding.
    w.add_context_length(max_seq)
    w.add_embedding_length(int(cfg["hidden_size"]))
    w.add_feed_forward_length(int(cfg["intermediate_size"]))
    w.add_block_count(n_layer)
    w.add_head_count(int(cfg["num_attention_heads"]))
    w.add_layer_norm_eps(float(cfg["layer_norm_eps"]))
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.RANK if rerank else pooling_type(args.model_dir))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_type_count(int(cfg.get("type_vocab_size", 2)))
    special = gguf.SpecialVocab(args.model_dir, n_vocab=len(tokens))
    special.add_to_gguf(w)

    skipped = {"embeddings.position_ids"}
    if not rerank:
        skipped |= {"pooler.dense.weight", "pooler.dense.bias"}
    # A sequence-classification head as llama.cpp's rank pooling reads it:
    # tanh(cls · h[CLS] + b) is BERT's pooler, cls.output the classifier.
    head = {"pooler.dense.weight": "cls.weight", "pooler.dense.bias": "cls.bias",
            "classifier.weight": "cls.output.weight", "classifier.bias": "cls.output.bias"}
    for name, data in tensors.items():
        if name in skipped:
            continue
        new_name = head.get(name) if rerank else None
        new_name = new_name or name_map.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            fail(f"cannot map tensor {name!r}")
        data = data.astype(np.float32)
        if new_name == "position_embd.weight" and data.shape[0] > max_seq:
            # llama.cpp takes the context length from this table; keep the
            # rows of the trained window so inputs are cut where ST cuts them.
            data = data[:max_seq]
        # All weights stay f32: on AVX2 CPUs llama.cpp's f32 matmuls embed
        # 1.45x (passages) to 1.7x (queries) faster than f16 ones, which pay
        # a conversion per block (docs/DECISIONS.md, issue 22); the file is
        # 90 MB instead of 45.
        w.add_tensor(new_name, data)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
