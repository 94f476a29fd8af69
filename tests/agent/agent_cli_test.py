"""`ragd agent` end to end on the example knowledge base with the packaged
instruct model. Nothing compares generated text with a recorded string:
the checks are the loop's structure (the first step searches, results are
numbered sources, calls validate), the limits' messages, the traces, and
errors people get.

Usage: agent_cli_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

RAGD, SOURCE = sys.argv[1], sys.argv[2]
DATA = tempfile.mkdtemp(prefix="ragd-agent-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)


def ragd(*args, check=True):
    r = subprocess.run([RAGD, "-q", *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def setUpModule():
    ragd("ingest", "--kb", "bank", os.path.join(SOURCE, "examples", "bank-kb"),
         os.path.join(SOURCE, "eval", "agent-tasks", "docs"))


class AgentCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = json.loads(ragd("agent", "--kb", "bank", "--max-steps", "3", "--max-tokens", "128", "--json",
                                  "What is the annual fee of the platinum card?").stdout)

    def test_the_first_step_searches_and_its_passages_become_sources(self):
        r = self.result
        first = r["steps"][0]
        self.assertEqual(first["tool"], "search_kb")
        # ragd's own search of the task as written, as ask does
        self.assertEqual((first["by"], first["arguments"]), ("ragd", {"query": "What is the annual fee of the platinum card?"}))
        self.assertTrue(all(s["by"] == "model" for s in r["steps"][1:]), r["steps"])
        self.assertTrue(first["valid"] and not first["error"], first)
        self.assertTrue(first["result"].startswith("[1] ("), first["result"][:80])
        self.assertEqual(first["sources"][0], 1)
        self.assertTrue(any(s["source"].endswith("platinum-card.docx") for s in r["sources"]), r["sources"])
        self.assertEqual([s["n"] for s in r["sources"]], list(range(1, len(r["sources"]) + 1)))
        self.assertLessEqual(len(r["steps"]), 3)
        self.assertIn(r["stop_reason"], {"answer", "max_steps", "repeated_call"})
        self.assertEqual(r["stop_message"] == "", r["stop_reason"] == "answer")
        self.assertGreaterEqual(r["usage"]["model_calls"], 1)
        self.assertTrue(r["answer"])

    def test_each_tool_call_is_traced_beside_the_model_calls(self):
        lines = [json.loads(l) for l in open(os.path.join(DATA, "bank", "traces.jsonl"))]
        kinds = [l["kind"] for l in lines]
        self.assertIn("tool", kinds)
        self.assertIn("chat", kinds)
        tool = next(l for l in lines if l["kind"] == "tool")
        self.assertEqual(tool["model"], "search_kb")
        self.assertEqual(tool["question"], "What is the annual fee of the platinum card?")

    def test_the_wall_time_limit_stops_with_a_message(self):
        r = json.loads(ragd("agent", "--kb", "bank", "--max-seconds", "0.001", "--json", "How many branches?").stdout)
        self.assertEqual(r["stop_reason"], "time")
        self.assertFalse(r["found"])
        self.assertIn("--max-seconds", r["stop_message"])

    def test_steps_are_printed_as_they_happen(self):
        r = ragd("agent", "--kb", "bank", "--max-steps", "1", "--max-tokens", "64", "How many branches are in Shanghai?")
        self.assertRegex(r.stdout, r"^step 1  search_kb \{")
        self.assertIn("→ passages [1]", r.stdout)

    def test_errors_people_get(self):
        r = ragd("agent", "--kb", "nope", "x", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nope", r.stderr)
        r = ragd("agent", "--kb", "bank", check=False)
        self.assertIn("give a task (or --list-tools, or --call TOOL)", r.stderr)
        r = ragd("agent", "--kb", "bank", "--max-steps", "0", "x", check=False)
        self.assertIn("--max-steps must be at least 1", r.stderr)
        r = ragd("agent", "--kb", "bank", "--call", "query_table", "--args", '{"sql": "DELETE FROM branches"}', check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("only SELECT queries are allowed", r.stdout)
        r = ragd("agent", "--kb", "bank", "--call", "search_kb", "--args", '{"query": "x", "k": 50}', check=False)
        self.assertIn("k: must be at most 5, got 50", r.stdout)

    def test_tables_are_queried_with_exact_answers(self):
        r = ragd("agent", "--kb", "bank", "--call", "query_table", "--json", "--args",
                 '{"sql": "SELECT COUNT(*) AS n, SUM(atms) AS atms FROM branches WHERE city = \'Shanghai\'"}')
        step = json.loads(r.stdout)
        self.assertIn("n | atms\n4 | 15\n(1 rows)", step["result"])
        r = json.loads(ragd("agent", "--kb", "bank", "--call", "query_table", "--json", "--args",
                            '{"sql": "SELECT product FROM deposit_rates ORDER BY rate_percent DESC LIMIT 1"}').stdout)
        self.assertIn("Large certificate of deposit 3 years", r["result"])


class OpenAiBackend(unittest.TestCase):
    """The loop through --backend openai: a real OpenAI-compatible server
    (ragd serve with the packaged model, started here) makes the calls."""

    def test_the_loop_runs_through_an_openai_compatible_server(self):
        data = tempfile.mkdtemp(prefix="ragd-agent-serve-")
        server = subprocess.Popen([RAGD, "serve", "--port", "0", "--api-key", "k"], env=dict(ENV, RAGD_DATA_DIR=data),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            url = None
            while url is None:
                line = server.stderr.readline()
                self.assertTrue(line, "ragd serve exited before it listened")
                if "http://127.0.0.1:" in line:
                    url = line[line.index("http://127.0.0.1:"):].split()[0].rstrip("/")
            r = json.loads(ragd("agent", "--kb", "bank", "--backend", "openai", "--base-url", url + "/v1",
                                "--api-key", "k", "--max-steps", "2", "--max-tokens", "128", "--json",
                                "What is the annual fee of the platinum card?").stdout)
        finally:
            server.terminate()
            server.wait(timeout=30)
        first = r["steps"][0]
        self.assertEqual(first["tool"], "search_kb")
        self.assertTrue(first["valid"] and not first["error"], first)
        self.assertTrue(any(s["source"].endswith("platinum-card.docx") for s in r["sources"]), r["sources"])
        self.assertGreaterEqual(r["usage"]["model_calls"], 1)
        self.assertTrue(r["answer"])


class RatesServer(http.server.BaseHTTPRequestHandler):
    """A real HTTP server the user's tools file points at; it records what it was sent."""
    seen = []

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        RatesServer.seen.append({"method": "GET", "path": self.path, "auth": self.headers.get("Authorization")})
        if self.path.startswith("/rates/"):
            self.answer(200, json.dumps({"rate": 7.1, "path": self.path}).encode())
        elif self.path.startswith("/fail"):
            self.answer(500, b'{"error": {"message": "rates are down"}}')
        elif self.path.startswith("/slow"):
            time.sleep(3)
            self.answer(200, b"late")
        elif self.path.startswith("/moved"):
            self.answer(302, b"", [("Location", "http://elsewhere.example/")])
        else:
            self.answer(404, b"no such page")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        RatesServer.seen.append({"method": "POST", "path": self.path, "body": json.loads(body)})
        self.answer(200, b"booked")


class HttpTools(unittest.TestCase):
    """--tools FILE: HTTP tools against a real local server."""

    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RatesServer)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.dir = tempfile.mkdtemp(prefix="ragd-tools-")
        cls.toml = cls.write("tools.toml", f"""
[[tool]]
name = "fx_rate"
description = "The exchange rate of a currency against the yuan on a day"
url = "{cls.base}/rates/{{currency}}"
allow_hosts = ["127.0.0.1"]
timeout_seconds = 1
headers = {{ Authorization = "Bearer ${{RAGD_TEST_FX_TOKEN}}" }}
[tool.parameters]
type = "object"
required = ["currency"]
properties.currency = {{ type = "string" }}
properties.day = {{ type = "integer" }}

[[tool]]
name = "failing"
description = "A tool whose server fails"
url = "{cls.base}/fail"
allow_hosts = ["127.0.0.1"]

[[tool]]
name = "slow"
description = "A tool whose server is slow"
url = "{cls.base}/slow"
allow_hosts = ["127.0.0.1"]
timeout_seconds = 0.5

[[tool]]
name = "moved"
description = "A tool whose server redirects"
url = "{cls.base}/moved"
allow_hosts = ["127.0.0.1"]
""")
        cls.env = dict(ENV, RAGD_TEST_FX_TOKEN="secret-from-env")

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_ragd(self, *args, env=None):
        return subprocess.run([RAGD, "-q", *args], env=env or self.env, capture_output=True, text=True, timeout=120)

    def call(self, tool, args, file=None):
        r = self.run_ragd("agent", "--kb", "bank", "--tools", file or self.toml, "--call", tool, "--args", json.dumps(args), "--json")
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return json.loads(r.stdout)

    def test_the_tools_join_the_built_in_ones(self):
        r = self.run_ragd("agent", "--kb", "bank", "--tools", self.toml, "--list-tools", "--json")
        tools = {t["name"]: t for t in json.loads(r.stdout)}
        self.assertIn("search_kb", tools)
        self.assertEqual(tools["fx_rate"]["parameters"]["required"], ["currency"])
        self.assertEqual(tools["fx_rate"]["description"], "The exchange rate of a currency against the yuan on a day")
        self.assertNotIn("secret-from-env", r.stdout)

    def test_a_call_fills_the_url_encodes_arguments_and_sends_headers_from_the_environment(self):
        step = self.call("fx_rate", {"currency": "USD/../admin?x=1", "day": 3})
        self.assertFalse(step["error"], step)
        seen = RatesServer.seen[-1]
        self.assertEqual(seen["path"], "/rates/USD%2F..%2Fadmin%3Fx%3D1?day=3")
        self.assertEqual(seen["auth"], "Bearer secret-from-env")
        self.assertEqual(json.loads(step["result"])["rate"], 7.1)

    def test_arguments_are_checked_against_the_schema_before_any_request(self):
        before = len(RatesServer.seen)
        step = self.call("fx_rate", {"day": 3})
        self.assertTrue(step["error"])
        self.assertIn("currency", step["result"])
        self.assertEqual(len(RatesServer.seen), before)

    def test_server_failures_are_tool_errors(self):
        step = self.call("failing", {})
        self.assertTrue(step["error"])
        self.assertIn("answered HTTP 500: rates are down", step["result"])
        step = self.call("slow", {})
        self.assertIn("did not answer within", step["result"])
        step = self.call("moved", {})
        self.assertIn("redirects are not followed", step["result"])

    def test_a_json_file_with_a_post_tool_sends_the_other_arguments_as_the_body(self):
        path = self.write("tools.json", json.dumps({"tools": [{
            "name": "book", "description": "Book an appointment at a branch", "method": "POST",
            "url": self.base + "/branches/{branch}/appointments", "allow_hosts": ["127.0.0.1"],
            "parameters": {"type": "object", "required": ["branch"], "properties": {
                "branch": {"type": "string"}, "day": {"type": "string"}, "people": {"type": "integer"}}}}]}))
        step = self.call("book", {"branch": "Pudong 1", "day": "2026-12-03", "people": 2}, file=path)
        self.assertEqual(step["result"], "booked")
        self.assertEqual(RatesServer.seen[-1], {"method": "POST", "path": "/branches/Pudong%201/appointments",
                                                "body": {"day": "2026-12-03", "people": 2}})

    def test_a_bad_tools_file_is_refused_with_what_to_fix(self):
        def refused(text, env=None):
            path = self.write("bad.toml", text)
            r = self.run_ragd("agent", "--kb", "bank", "--tools", path, "--list-tools", env=env)
            self.assertEqual(r.returncode, 1, r.stdout)
            return r.stderr
        tool = 'name = "t"\ndescription = "d"\n'
        self.assertIn("the url's host 'example.com' is not in allow_hosts",
                      refused(f'[[tool]]\n{tool}url = "http://example.com/x"\nallow_hosts = ["127.0.0.1"]\n'))
        self.assertIn("needs 'allow_hosts'", refused(f'[[tool]]\n{tool}url = "http://example.com/x"\n'))
        self.assertIn("placeholder in its host",
                      refused(f'[[tool]]\n{tool}url = "http://{{host}}/x"\nallow_hosts = ["x"]\n'))
        self.assertIn("unknown key 'metod'",
                      refused(f'[[tool]]\n{tool}metod = "GET"\nurl = "http://x/"\nallow_hosts = ["x"]\n'))
        self.assertIn("uses ${RAGD_TEST_FX_TOKEN}, which is not set in the environment",
                      refused(open(self.toml).read(), env=ENV))
        self.assertIn("is not valid TOML (line 1)", refused("[[tool\n"))
        self.assertIn("two tools are named 'search_kb'",
                      refused('[[tool]]\nname = "search_kb"\ndescription = "d"\nurl = "http://x/"\nallow_hosts = ["x"]\n'))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
