"""Backend faults seen through `ragd serve`: the chat model or the embedding
model is an OpenAI-compatible server that is down, slow, answers 500 or
429, or cuts a stream. Each time the caller gets a clear error (503,
naming the backend and what went wrong) after bounded retries, /health stays 200 while the fault lasts, requests that do
not need the broken backend keep working, and the same route works again
once the backend recovers.

The backend is FaultyBackend, a named fake: a real server will not fail on
demand. Usage: backend_faults_test.py RAGD SOURCE_DIR
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import ragd_process
from ragd_process import clean_env

RAGD, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])


class FaultyBackend:
    """OpenAI-style /v1/chat/completions and /v1/embeddings whose behaviour
    is switched by .mode: ok, 500, 429, slow, cut (a stream cut after one
    chunk) or down (the socket is closed)."""

    def __init__(self):
        self.mode = "ok"
        self.hits = 0
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                backend.hits += 1
                mode = backend.mode
                if mode == "500":
                    return self.send_json(500, {"error": {"message": "backend exploded"}})
                if mode == "429":
                    return self.send_json(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
                if mode == "slow":
                    time.sleep(6)
                if self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"index": i, "embedding": [1.0 / (1 + i + j) for j in range(8)]} for i in range(len(inputs))]
                    return self.send_json(200, {"data": data, "model": "faulty-embed"})
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    chunk = {"choices": [{"index": 0, "delta": {"content": "Partial "}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if mode == "cut":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    chunk = {"choices": [{"index": 0, "delta": {"content": "answer."}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())
                    return
                if mode == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "500")
                    self.end_headers()
                    self.wfile.write(b'{"choices": [')
                    self.close_connection = True
                    return
                self.send_json(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Fine."},
                                                  "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 5, "completion_tokens": 1}})

            def send_json(self, status, obj, headers=None):
                raw = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # ragd hung up on a slow answer: expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def start_serve(data, config):
    cfg = os.path.join(data, "ragd.toml")
    with open(cfg, "w") as f:
        f.write(config)
    return ragd_process.start_serve([RAGD, "--config", cfg, "serve", "--port", "0"], clean_env(data), data)


def request(url, method="GET", body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


CHAT = {"messages": [{"role": "user", "content": "Say something."}], "max_tokens": 8}
STREAM = dict(CHAT, stream=True)


def while_in_flight(url, call, checks):
    """Runs call() in a thread and, while it is running, the other checks."""
    result = {}
    t = threading.Thread(target=lambda: result.update(answer=call()))
    t0 = time.monotonic()
    t.start()
    time.sleep(0.3)
    side = [c() for c in checks]
    t.join()
    return result["answer"], side, time.monotonic() - t0


def main():
    work = tempfile.mkdtemp(prefix="ragd-faults-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    env = clean_env(data)
    notes = os.path.join(work, "notes.md")
    with open(notes, "w") as f:
        f.write("# Cards\n\nA lost card is replaced within five days.\n")
    subprocess.run([RAGD, "-q", "ingest", notes, "--kb", "local"], env=env, check=True)

    failures = []
    backend = FaultyBackend()
    # Chat through the faulty backend; embeddings stay local, so search must
    # keep working whatever the chat backend does.
    retries = "timeout_seconds = 3\nmax_retries = 2\nretry_backoff_seconds = 0.1\n"
    proc, url = start_serve(data, f'[chat]\nbackend = "openai"\nbase_url = "{backend.url}"\nmodel = "m"\n{retries}')

    def health():
        return request(url + "/health", timeout=2)[0]

    def search():
        return request(url + "/api/kbs/local/search", "POST", {"query": "lost card", "k": 1}, timeout=10)[0]

    cases = [  # mode, body, status expected, error text, most seconds allowed
        ("500", CHAT, 503, "failed (500): backend exploded", 10),
        ("429", CHAT, 503, "is rate-limiting requests", 10),
        ("slow", CHAT, 503, "did not answer", 20),
        ("cut", CHAT, 503, "", 10),
        ("cut", STREAM, 200, "ended before the answer was complete", 10),
    ]
    try:
        for mode, body, want, text, limit in cases:
            backend.mode = mode
            hits0 = backend.hits
            answer, side, secs = while_in_flight(
                url, lambda: request(url + "/v1/chat/completions", "POST", body, timeout=60), [health, search])
            status, reply = answer
            problems = []
            if status != want:
                problems.append(f"status {status}, expected {want}")
            if text and text not in reply:
                problems.append(f"no '{text}' in {reply[:300]!r}")
            if secs > limit:
                problems.append(f"took {secs:.1f} s (retries must be bounded: at most {limit} s)")
            if side != [200, 200]:
                problems.append(f"/health and search answered {side} during the fault")
            tries = backend.hits - hits0
            if mode in ("500", "429") and tries != 3:
                problems.append(f"{tries} attempts reached the backend, expected 1 + 2 retries")
            backend.mode = "ok"
            status, reply = request(url + "/v1/chat/completions", "POST", CHAT)
            if status != 200:
                problems.append(f"after recovery the chat answered {status}: {reply[:200]}")
            label = f"chat {mode}{' stream' if body.get('stream') else ''}"
            print(f"{label:22s} {'ok' if not problems else 'FAIL: ' + '; '.join(problems)} ({secs:.1f} s, {tries} attempts)",
                  flush=True)
            failures += [f"{label}: {p}" for p in problems]

        # Down: nothing listens any more.
        backend.down()
        answer, side, secs = while_in_flight(
            url, lambda: request(url + "/v1/chat/completions", "POST", CHAT, timeout=60), [health, search])
        problems = []
        if answer[0] != 503:
            problems.append(f"status {answer[0]}, expected 503")
        if "no server listening" not in answer[1]:
            problems.append(f"the error does not say nothing listens: {answer[1][:300]!r}")
        if side != [200, 200]:
            problems.append(f"/health and search answered {side} while the backend was down")
        print(f"{'chat down':22s} {'ok' if not problems else 'FAIL: ' + '; '.join(problems)} ({secs:.1f} s)", flush=True)
        failures += [f"chat down: {p}" for p in problems]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # Embeddings through a faulty backend: /v1/embeddings reports it, the
    # rest of the server stays up.
    backend = FaultyBackend()
    proc, url = start_serve(data, f'[embed]\nbackend = "openai"\nbase_url = "{backend.url}"\nmodel = "e"\n'
                                  f'timeout_seconds = 3\nmax_retries = 2\n')
    try:
        for mode, want, text in (("500", 503, "failed (500)"), ("429", 503, "rate-limiting"), ("slow", 503, "did not answer"),
                                 ("ok", 200, "")):
            backend.mode = mode
            answer, side, secs = while_in_flight(
                url, lambda: request(url + "/v1/embeddings", "POST", {"input": ["a", "b"]}, timeout=60),
                [health, lambda: request(url + "/api/kbs", timeout=5)[0]])
            problems = []
            if answer[0] != want:
                problems.append(f"status {answer[0]}, expected {want}: {answer[1][:200]}")
            if text and text not in answer[1]:
                problems.append(f"no '{text}' in {answer[1][:300]!r}")
            if side != [200, 200]:
                problems.append(f"/health and /api/kbs answered {side} during the fault")
            print(f"{'embed ' + mode:22s} {'ok' if not problems else 'FAIL: ' + '; '.join(problems)} ({secs:.1f} s)",
                  flush=True)
            failures += [f"embed {mode}: {p}" for p in problems]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    if failures:
        print("\n".join(failures))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
