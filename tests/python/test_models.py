"""Model selection from Python: the openai backend against a real
OpenAI-compatible server (`ragd serve`, started here, answering with its
local model), and ChatRagd through the same engine."""

import json
import os
import re
import urllib.request
import subprocess
import threading

import pytest

import ragd


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = os.environ.get("RAGD_BIN")
    if not binary:
        pytest.skip("RAGD_BIN is not set (ctest sets it to the built ragd)")
    data = tmp_path_factory.mktemp("serve-data")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST")}
    env["RAGD_DATA_DIR"] = str(data)
    proc = subprocess.Popen([binary, "serve", "--port", "0"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError("ragd serve did not start: " + line + proc.stderr.read())
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    yield f"http://127.0.0.1:{m.group(1)}/v1"
    proc.terminate()
    proc.wait(timeout=30)


def test_openai_backend(server, data_dir):
    with urllib.request.urlopen(server + "/models") as r:
        chat = next(m["id"] for m in json.load(r)["data"] if m.get("kind") == "chat")
    eng = ragd.Engine(data_dir, chat_model=ragd.Model.openai(chat, base_url=server, api_key="unused"))
    assert eng.chat_model == chat
    kb = eng.open("remote-answers")
    kb.add_texts(["The Gold card costs 380 yuan a year.", "Wire transfers abroad take 1 to 3 working days."],
                 ids=["gold", "wire"])
    a = kb.ask("How much does the Gold card cost per year?")
    assert a.found and "380" in a.text, a.text
    assert "gold" in [s.hit.doc_id for s in a.sources if s.cited]
    pieces = list(kb.ask("How much does the Gold card cost per year?", stream=True))
    assert "380" in "".join(pieces)


def test_model_forms():
    assert ragd.Model.local("x.gguf") == ragd.Model("local", "x.gguf")
    m = ragd.Model.openai("gpt", base_url="http://h/v1", api_key="k")
    assert (m.backend, m.base_url, m.api_key) == ("openai", "http://h/v1", "k")
    assert ragd.Model.ollama("qwen").base_url == "http://127.0.0.1:11434"
    with pytest.raises(ragd.InvalidArgumentError, match="backend"):
        ragd.Engine(chat_model=ragd.Model("telepathy"))
    with pytest.raises(ragd.InvalidArgumentError):
        ragd.Engine(chat_model=42)
