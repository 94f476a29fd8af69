"""What the reliability tests share: an environment without the user's
remote-backend settings, a `ragd serve` started on a free port, and a
multipart upload body."""
import os
import re
import subprocess
import threading
import uuid


def clean_env(data_dir):
    env = dict(os.environ, RAGD_DATA_DIR=data_dir)
    for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST"):
        env.pop(k, None)
    return env


def start_serve(cmd, env, cwd):
    """Runs cmd (a `ragd ... serve --port 0 ...` command line) and returns
    (process, base URL) once it says where it listens."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=cwd)
    line = proc.stderr.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError("ragd serve did not start: " + line + proc.stderr.read())
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe from filling
    return proc, f"http://127.0.0.1:{m.group(1)}"


def multipart_file(name, content):
    """(body, content type) of a form upload of one file in field 'files'."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + content.encode() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
