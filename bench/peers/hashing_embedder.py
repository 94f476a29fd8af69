"""An OpenAI-compatible /v1/embeddings endpoint that returns hashed
bag-of-words vectors (each lower-cased word adds ±1 to one of --dim
coordinates, then L2 normalised). No model, no quality worth measuring.

For BM25-only measurements, where the vectors are never read: building a
knowledge base of SciFact with a real embedder takes ~35 minutes on a
2-core machine of this kind, and BM25 rankings and latencies do not depend
on the vectors. Anything reported from a knowledge base built with it says
so; dense and hybrid figures always come from real embeddings.

    hashing_embedder.py --port 8099 [--dim 64]
    # ragd.toml: [embed] backend = "openai", base_url = "http://127.0.0.1:8099/v1", model = "hashing"
"""
import argparse
import hashlib
import json
import math
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORD = re.compile(r"\w+", re.UNICODE)


def vector(text, dim):
    v = [0.0] * dim
    for w in WORD.findall(text.lower()):
        h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
        v[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n else [1.0] + [0.0] * (dim - 1)  # no words: a fixed unit vector


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--dim", type=int, default=64)
    a = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            out = json.dumps({"object": "list", "model": body.get("model", "hashing"),
                              "data": [{"object": "embedding", "index": i, "embedding": vector(t, a.dim)}
                                       for i, t in enumerate(texts)]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
