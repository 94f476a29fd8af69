"""The hostile-input matrix of hostile_inputs.json, case by case: each input
is built, handed to ragd (the CLI's ingest, or a running `ragd serve`), and
the answer must be the expected exit code or HTTP status with the expected
error text; after every case the knowledge base must still be consistent and
hold what was committed before.

Usage: hostile_test.py RAGD SOURCE_DIR
"""
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile

from ragd_process import clean_env, multipart_file, start_serve

RAGD, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
KEY = "test-key"
CASES = json.load(open(os.path.join(SRC, "tests/reliability/hostile_inputs.json"), encoding="utf-8"))
WORK = tempfile.mkdtemp(prefix="ragd-hostile-")
DATA = os.path.join(WORK, "data")
ENV = clean_env(DATA)
IS_ROOT = os.geteuid() == 0


# -- how each CLI input is made (the "make" field) ----------------------------
def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def example_pdf():
    return os.path.join(SRC, "examples/bank-kb/credit-card-policy.pdf")


def write_bomb(z, name):
    """1 GiB of one byte as the archive's part `name`: about 1 MB compressed."""
    with z.open(name, "w", force_zip64=True) as f:
        block = b"<" * (1 << 20)
        for _ in range(1024):
            f.write(block)


def make(kind, path):
    if kind == "nothing":
        return
    if kind in ("unreadable_dir", "unreadable_file"):
        if kind == "unreadable_dir":
            os.makedirs(path)
            write(os.path.join(path, "inside.txt"), "text nobody may read")
        else:
            write(path, "text nobody may read")
        os.chmod(path, 0)
    elif kind == "empty":
        write(path, b"")
    elif kind == "truncated_pdf":
        data = open(example_pdf(), "rb").read()
        write(path, data[: len(data) // 3])
    elif kind == "encrypted_pdf":
        subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--", example_pdf(), path],
                       check=True)
    elif kind == "zip_bomb_docx":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
            write_bomb(z, "word/document.xml")
    elif kind == "zip_bomb_xlsx":
        # The same bomb in a workbook's sheet.
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="s" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" '
                       'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                       'Target="worksheets/sheet1.xml"/></Relationships>')
            write_bomb(z, "xl/worksheets/sheet1.xml")
    elif kind == "broken_pptx":
        # A deck whose slide is not XML.
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("ppt/presentation.xml", '<p:presentation xmlns:p="p" xmlns:r="r"><p:sldIdLst>'
                       '<p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>')
            z.writestr("ppt/_rels/presentation.xml.rels", '<Relationships><Relationship Id="rId2" '
                       'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" '
                       'Target="slides/slide1.xml"/></Relationships>')
            z.writestr("ppt/slides/slide1.xml", "<p:sld><unclosed")
    elif kind == "truncated_png":
        png = open(os.path.join(os.path.dirname(example_pdf()), "..", "documents", "rate-card.png"), "rb").read()
        write(path, png[: len(png) // 4])
    elif kind == "junk":
        write(path, random.Random(7).randbytes(64 << 10))
    elif kind == "bad_utf8_json":
        write(path, b'{"title": "caf\xe9", "text": "\xff\xfe broken"}')
    elif kind == "latin1_txt":
        write(path, "Le café est servi à la banque, près du guichet numéro trois.\n".encode("latin-1"))
    elif kind == "big":
        write(path, ("a fairly ordinary line of text\n" * 70000).encode())
    elif kind == "symlink_loop":
        os.makedirs(path)
        os.symlink(os.path.join(path, "b"), os.path.join(path, "a"))
        os.symlink(os.path.join(path, "a"), os.path.join(path, "b"))
    elif kind == "self_link_dir":
        os.makedirs(path)
        write(os.path.join(path, "note.txt"), "A note inside the looping folder.")
        os.symlink(path, os.path.join(path, "again"))
    elif kind == "bad_json":
        write(path, '{"title": "unfinished", "text": [1, 2')
    elif kind == "nul_csv":
        write(path, b"question,answer\nfee?,2\x00 yuan\n")
    elif kind == "mixed_dir":
        os.makedirs(path)
        write(os.path.join(path, "good.md"), "# Good\n\nThis document survives its bad neighbour.\n")
        write(os.path.join(path, "bad.txt"), random.Random(8).randbytes(4096))
    else:
        raise ValueError("unknown make: " + kind)


def ragd(*args, as_nobody=False):
    cmd = [RAGD, *args]
    if as_nobody:
        # Root reads any file: drop to nobody so permissions mean something.
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", *cmd]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)


def stored_texts(kb):
    """Every chunk's text, read straight from the knowledge base's database."""
    db = sqlite3.connect(f"file:{os.path.join(DATA, kb, 'kb.sqlite')}?mode=ro", uri=True)
    try:
        return "\n".join(t for (t,) in db.execute("SELECT text FROM chunks"))
    finally:
        db.close()


def check_consistent(kb):
    r = ragd("kb", "check", kb, "--json")
    verdict = json.loads(r.stdout)
    assert verdict["consistent"], f"knowledge base {kb} is inconsistent: {verdict}"


def run_cli_cases():
    failures = []
    inputs = os.path.join(WORK, "inputs")
    os.makedirs(inputs)
    # A committed document every case must leave alone.
    write(os.path.join(inputs, "anchor.md"), "# Anchor\n\nThe anchor document was committed first.\n")
    r = ragd("-q", "ingest", os.path.join(inputs, "anchor.md"), "--kb", "hostile")
    assert r.returncode == 0, r.stderr
    if IS_ROOT:
        os.chmod(WORK, 0o755)
        subprocess.run(["chmod", "-R", "a+rwX", DATA], check=True)
    for case in CASES["cli"]:
        path = os.path.join(inputs, case["path"])
        make(case["make"], path)
        nobody = IS_ROOT and case["make"].startswith("unreadable")
        if nobody:
            subprocess.run(["chmod", "-R", "a+rwX", DATA], check=True)
        r = ragd("ingest", path, "--kb", "hostile", "--json", *case.get("args", []), as_nobody=nobody)
        out = r.stdout + r.stderr
        problems = []
        if r.returncode != case["exit"]:
            problems.append(f"exit {r.returncode}, expected {case['exit']}")
        if case.get("error") and case["error"].lower() not in out.lower():
            problems.append(f"no '{case['error']}' in the answer")
        stored = stored_texts("hostile")
        if case.get("stored") and case["stored"] not in stored:
            problems.append(f"'{case['stored']}' was not stored")
        if "anchor document was committed" not in stored:
            problems.append("the anchor document committed before is gone")
        try:
            check_consistent("hostile")
        except AssertionError as e:
            problems.append(str(e))
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"cli  {case['name']:52s} {status}", flush=True)
        if problems:
            failures.append(f"cli {case['name']}: {'; '.join(problems)}\n    answer: {out.strip()[:600]}")
        if os.path.exists(path) and case["make"].startswith("unreadable"):
            os.chmod(path, 0o755)
    return failures


# -- HTTP -----------------------------------------------------------------
class Server:
    def __init__(self):
        self.proc, self.url = start_serve([RAGD, "serve", "--port", "0", "--api-key", KEY, "--max-body-mb", "1"],
                                          ENV, WORK)

    def request(self, method, path, data=None, key=KEY, content_type="application/json"):
        headers = {"Content-Type": content_type} if data is not None else {}
        if key is not None:
            headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (ConnectionError, urllib.error.URLError) as e:
            return 0, f"connection failed: {e}"

    def upload(self, name, content):
        data, content_type = multipart_file(name, content)
        return self.request("POST", "/api/kbs/hostile/documents", data, content_type=content_type)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_http_case(s, case):
    if "upload" in case:
        status, body = s.upload(case["upload"], "Uploaded under a hostile name.")
        problems = [] if status == case["status"] else [f"status {status}, expected {case['status']}"]
        if "stored_as" in case:
            inside = os.path.join(DATA, "hostile", "uploads", case["stored_as"])
            if not os.path.isfile(inside):
                problems.append(f"not stored as uploads/{case['stored_as']}")
            for outside in (os.path.join(DATA, "escape.txt"), os.path.join(DATA, "hostile", "escape.txt"),
                            "/tmp/ragd-absolute.txt", os.path.join(WORK, "escape.txt")):
                if os.path.exists(outside):
                    problems.append(f"a file was written outside uploads/: {outside}")
        if case.get("error") and case["error"] not in body:
            problems.append(f"no '{case['error']}' in the answer")
        return problems, body
    if "concurrent_delete" in case:
        status, body = s.upload("to-delete.txt", "Deleted by many clients at once.")
        if status != 201:
            return [f"the upload to delete answered {status}"], body
        docs = json.loads(s.request("GET", "/api/kbs/hostile/documents")[1])["documents"]
        doc_id = next(d["doc_id"] for d in docs if d["doc_id"].endswith("to-delete.txt"))
        path = "/api/kbs/hostile/documents/" + urllib.request.quote(doc_id, safe="")
        results = []
        threads = [threading.Thread(target=lambda: results.append(s.request("DELETE", path)))
                   for _ in range(case["concurrent_delete"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(c for c, _ in results)
        want = sorted([case["status"]] + [case["others"]] * (case["concurrent_delete"] - 1))
        return ([] if codes == want else [f"statuses {codes}, expected {want}"]), str(results[:2])
    if "raw" in case:
        data = case["raw"].encode()
    elif "raw_bytes_hex" in case:
        data = bytes.fromhex(case["raw_bytes_hex"])
    elif "oversized_mb" in case:
        data = b'{"query": "' + b"x" * (case["oversized_mb"] << 20) + b'"}'
    elif "body" in case:
        data = json.dumps(case["body"]).encode()
    else:
        data = None
    status, body = s.request(case["method"], case["path"], data, key=case.get("key", KEY))
    problems = [] if status == case["status"] else [f"status {status}, expected {case['status']}"]
    if case.get("error") and case["error"] not in body:
        problems.append(f"no '{case['error']}' in the answer")
    return problems, body


def run_http_cases():
    failures = []
    s = Server()
    try:
        for case in CASES["http"]:
            problems, body = run_http_case(s, case)
            health, _ = s.request("GET", "/health", key=None)
            if health != 200:
                problems.append(f"/health answered {health} afterwards")
            status = "ok" if not problems else "FAIL: " + "; ".join(problems)
            print(f"http {case['name']:52s} {status}", flush=True)
            if problems:
                failures.append(f"http {case['name']}: {'; '.join(problems)}\n    answer: {body.strip()[:600]}")
    finally:
        s.stop()
    check_consistent("hostile")
    return failures


def main():
    failures = run_cli_cases() + run_http_cases()
    n = len(CASES["cli"]) + len(CASES["http"])
    print(f"{n - len(failures)} / {n} hostile inputs answered as expected")
    if failures:
        print("\n".join(failures))
        print(f"(kept {WORK})")
        return 1
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
