"""`ragd agent` end to end on the example knowledge base with the packaged
instruct model. Nothing compares generated text with a recorded string:
the checks are the loop's structure (the first step searches, results are
numbered sources, calls validate), the limits' messages, the traces, and
errors people get.

Usage: agent_cli_test.py RAGD SOURCE_DIR   (run by ctest)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

RAGD, SOURCE = sys.argv[1], sys.argv[2]
DATA = tempfile.mkdtemp(prefix="ragd-agent-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)


def ragd(*args, check=True):
    r = subprocess.run([RAGD, "-q", *args], env=ENV, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


class AgentCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ragd("ingest", "--kb", "bank", os.path.join(SOURCE, "examples", "bank-kb"),
             os.path.join(SOURCE, "eval", "agent-tasks", "docs"))
        cls.result = json.loads(ragd("agent", "--kb", "bank", "--max-steps", "3", "--max-tokens", "128", "--json",
                                  "What is the annual fee of the platinum card?").stdout)

    def test_the_first_step_searches_and_its_passages_become_sources(self):
        r = self.result
        first = r["steps"][0]
        self.assertEqual(first["tool"], "search_kb")
        self.assertTrue(first["valid"] and not first["error"], first)
        self.assertTrue(first["result"].startswith("[1] ("), first["result"][:80])
        self.assertEqual(first["sources"][0], 1)
        self.assertTrue(any(s["source"].endswith("platinum-card.docx") for s in r["sources"]), r["sources"])
        self.assertEqual([s["n"] for s in r["sources"]], list(range(1, len(r["sources"]) + 1)))
        self.assertLessEqual(len(r["steps"]), 3)
        self.assertIn(r["stop_reason"], {"answer", "max_steps", "repeated_call"})
        self.assertEqual(r["stop_message"] == "", r["stop_reason"] == "answer")
        self.assertGreaterEqual(r["usage"]["model_calls"], 2)
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


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
