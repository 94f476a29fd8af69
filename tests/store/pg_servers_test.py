"""Several ragd processes on one PostgreSQL database, with a real
PostgreSQL 16 + pgvector (the pinned wheel) that this test starts for
itself, since it restarts it:

  * a knowledge base created and a file uploaded through server A is found
    by a search through server B on its next request;
  * uploads through both servers into one knowledge base at once all land,
    and `ragd kb check` passes;
  * a chat session started by one `ragd chat` is continued by another
    with a data directory of its own (sessions live in the database);
  * `kb copy` to a SQLite data directory and back keeps the embeddings
    (the same dense ranking and scores on all three) and passes `kb check`;
  * the database stopped under load: searches answer 503 naming
    PostgreSQL (never 500, never a hang); once it is back, the same server
    answers again without a restart.

Prints the exchange as a transcript (docs/SCALE.md quotes it).

Usage: pg_servers_test.py RAGD SOURCE_DIR
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reliability"))
from ragd_process import clean_env, multipart_file, start_serve  # noqa: E402

RAGD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PG = [os.path.join(SOURCE, "scripts", "pg.sh")]


def say(line):
    print(line, flush=True)


def call(url, method="GET", body=None, headers=None, timeout=60):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    h = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except json.JSONDecodeError:
            return e.code, {"raw": raw.decode(errors="replace")}


def upload(base, kb, name, text):
    body, ctype = multipart_file(name, text)
    return call(f"{base}/api/kbs/{kb}/documents", "POST", body, {"Content-Type": ctype}, timeout=300)


def search(base, kb, query, mode="hybrid"):
    return call(f"{base}/api/kbs/{kb}/search", "POST", {"query": query, "mode": mode, "k": 3})


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    work = tempfile.mkdtemp(prefix="ragd-pg-servers-")
    os.chmod(work, 0o755)
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    pg_port = port.getsockname()[1]
    port.close()
    pg_dir = os.path.join(work, "pg")
    url = subprocess.run(PG + ["start", pg_dir, str(pg_port)], capture_output=True, text=True,
                         check=True).stdout.strip()
    say(f"$ scripts/pg.sh start {pg_dir} {pg_port}\n{url}")
    env = clean_env(os.path.join(work, "data"))
    env["RAGD_STORE_URL"] = url
    servers = []
    try:
        a, url_a = start_serve([RAGD, "serve", "--port", "0"], env, work)
        b, url_b = start_serve([RAGD, "serve", "--port", "0"], env, work)
        servers += [a, b]
        say(f"$ RAGD_STORE_URL={url} ragd serve --port 0   # twice: A at {url_a}, B at {url_b}")

        status, kb = call(f"{url_a}/api/kbs", "POST", {"name": "shared"})
        say(f"A: POST /api/kbs {{\"name\": \"shared\"}} -> {status}, embed_model {kb.get('embed_model')}")
        check(status == 201, f"create through A answered {status}: {kb}")
        status, listed = call(f"{url_b}/api/kbs")
        names = [k["name"] for k in listed["knowledge_bases"]]
        say(f"B: GET /api/kbs -> {status}, {names}")
        check("shared" in names, "B does not list the knowledge base A created")

        text = ("Lost card hotline. To report a lost or stolen bank card, call 95588 at any hour; "
                "the card is frozen at once and a new one is mailed within 7 days.\n")
        status, rep = upload(url_a, "shared", "lost-card.txt", text)
        say(f"A: POST /api/kbs/shared/documents lost-card.txt -> {status}, {rep.get('chunks')} chunks")
        check(status == 201, f"upload through A answered {status}: {rep}")
        status, res = search(url_b, "shared", "which number do I call for a stolen card?")
        top = res["results"][0] if res.get("results") else {}
        say(f"B: POST /api/kbs/shared/search \"which number do I call for a stolen card?\" -> {status}, "
            f"top hit {os.path.basename(top.get('source', ''))}: {top.get('text', '')[:60]!r}")
        check(status == 200 and "95588" in top.get("text", ""), f"B did not find A's upload: {res}")

        # Both servers write one knowledge base at once.
        results = {}

        def writer(base, tag):
            for i in range(4):
                results[(tag, i)] = upload(base, "shared", f"{tag}-{i}.txt",
                                           f"Note {tag}{i}: branch {tag} opens at {8 + i} o'clock.\n")[0]

        threads = [threading.Thread(target=writer, args=(u, t)) for u, t in ((url_a, "a"), (url_b, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(set(results.values()))
        status, docs = call(f"{url_a}/api/kbs/shared/documents")
        say(f"A and B: 4 uploads each at once -> {codes}; A lists {len(docs['documents'])} documents")
        check(codes == [201] and len(docs["documents"]) == 9, f"concurrent uploads: {results}, {docs}")
        r = subprocess.run([RAGD, "kb", "check", "shared"], env=env, capture_output=True, text=True, timeout=120)
        say(f"$ ragd kb check shared\n{r.stdout.strip()}")
        check(r.returncode == 0, f"kb check failed: {r.stdout}{r.stderr}")

        # Sessions live in the database: a chat started by one process is
        # continued by another with a data directory of its own.
        def chat(question, data_dir, session=None):
            e = dict(env, RAGD_DATA_DIR=os.path.join(work, data_dir))
            cmd = [RAGD, "-q", "chat", "--kb", "shared", "--json"] + (["--session", session] if session else [])
            r = subprocess.run(cmd, env=e, input=question + "\n", capture_output=True, text=True, timeout=300)
            check(r.returncode == 0, f"chat failed: {r.stderr}")
            return json.loads(r.stdout.strip().splitlines()[-1])

        first = chat("Which number do I call to report a stolen card?", "machine-1")
        say(f"$ ragd chat --kb shared   # machine 1: session {first['session']}, turn {first['turn']}: "
            f"{first['answer'][:80]!r}")
        check("95588" in first["answer"], f"the answer lacks the number: {first['answer']}")
        second = chat("How long until the new one arrives?", "machine-2", first["session"])
        say(f"$ ragd chat --kb shared --session {first['session']}   # machine 2 (another data dir): turn "
            f"{second['turn']}: {second['answer'][:80]!r}")
        check(second["session"] == first["session"] and second["turn"] == 2, f"the session did not continue: {second}")

        # kb copy: PostgreSQL -> a SQLite data directory -> PostgreSQL again,
        # embeddings carried over; each copy checked and searchable alike.
        local = os.path.join(work, "local-data")
        sqlite_env = clean_env(local)
        r = subprocess.run([RAGD, "kb", "copy", "shared", "--to", local, "--json"], env=env, capture_output=True,
                           text=True, timeout=300)
        check(r.returncode == 0, f"kb copy to SQLite failed: {r.stderr}")
        copied = json.loads(r.stdout)
        say(f"$ ragd kb copy shared --to {local}   # {copied['documents']} documents, {copied['chunks']} chunks")
        r = subprocess.run([RAGD, "kb", "copy", "shared", "--to", url, "--as", "shared-again", "--json"],
                           env=sqlite_env, capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"kb copy back to PostgreSQL failed: {r.stderr}")
        say(f"$ ragd --data-dir {local} kb copy shared --to postgres://... --as shared-again")
        for e, kb in ((sqlite_env, "shared"), (env, "shared-again")):
            r = subprocess.run([RAGD, "kb", "check", kb], env=e, capture_output=True, text=True, timeout=120)
            check(r.returncode == 0, f"kb check of the copy {kb} failed: {r.stdout}{r.stderr}")
        tops = []
        for e, kb in ((env, "shared"), (sqlite_env, "shared"), (env, "shared-again")):
            r = subprocess.run([RAGD, "search", "stolen card hotline", "--kb", kb, "--mode", "dense", "-k", "3",
                                "--json"], env=e, capture_output=True, text=True, timeout=120)
            check(r.returncode == 0, f"search of {kb} failed: {r.stderr}")
            tops.append([(h["doc_id"].rsplit("/", 1)[-1], h["score"]) for h in json.loads(r.stdout)["results"]])
        say("dense top 3 on the original, the SQLite copy and the copy back: " +
            " / ".join(str([(d, round(x, 4)) for d, x in t]) for t in tops))
        # The same vectors: the same order, and cosines equal up to the f16 indexes' rounding.
        check(all([d for d, _ in t] == [d for d, _ in tops[0]] for t in tops), f"the copies rank differently: {tops}")
        check(all(abs(x - y) <= 0.005 for t in tops for (_, x), (_, y) in zip(t, tops[0])), f"scores differ: {tops}")
        r = subprocess.run([RAGD, "kb", "copy", "shared", "--to", url, "--as", "shared-again"], env=sqlite_env,
                           capture_output=True, text=True, timeout=120)
        check(r.returncode != 0 and "already exists" in r.stderr, f"a copy onto an existing name: {r.stderr}")

        # The database goes away under load, then comes back.
        stop_load = threading.Event()
        seen = []

        def load():
            while not stop_load.is_set():
                seen.append(search(url_b, "shared", "stolen card", mode="bm25")[0])

        t = threading.Thread(target=load)
        t.start()
        time.sleep(0.5)
        subprocess.run(PG + ["stop", pg_dir], check=True)
        say("$ scripts/pg.sh stop   # while B serves searches")
        time.sleep(1.0)
        status, err = search(url_b, "shared", "stolen card")
        say(f"B: search while the database is down -> {status}: {err.get('error', {}).get('message', err)}")
        check(status == 503, f"search with the database down answered {status}: {err}")
        check("PostgreSQL" in json.dumps(err), f"the 503 does not say what is down: {err}")
        subprocess.run(PG + ["start", pg_dir, str(pg_port)], check=True, capture_output=True)
        say("$ scripts/pg.sh start   # same data, same port")
        status, res = search(url_b, "shared", "stolen card")
        say(f"B: the next search -> {status}, {len(res.get('results', []))} hits (no restart of ragd)")
        check(status == 200 and res["results"], f"B did not recover: {status} {res}")
        stop_load.set()
        t.join()
        counts = {c: seen.count(c) for c in sorted(set(seen))}
        say(f"B under load through the restart: answers by status {counts}")
        check(set(seen) <= {200, 503}, f"answers other than 200 and 503 during the restart: {counts}")
        status, _ = upload(url_a, "shared", "after.txt", "Written after the restart.\n")
        check(status == 201, f"A could not write after the restart: {status}")
        say("A: upload after the restart -> 201")
        say("PASS")
        return 0
    finally:
        for p in servers:
            p.kill()
            p.wait()
        subprocess.run(PG + ["stop", pg_dir], capture_output=True)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
