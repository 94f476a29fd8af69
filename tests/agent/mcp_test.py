"""MCP, both sides, with real components from the registries:
- ragd as a server (`ragd mcp --kb bank`, stdio), driven by the official
  Python SDK's client (`mcp`, pinned in scripts/setup/requirements.txt) and
  by the MCP Inspector's CLI (npm, pinned in web/package.json);
- ragd as a client (`ragd agent --mcp`), against PyPI's mcp-server-time and
  against `ragd mcp` itself.

Tool calls here are made without the model (`ragd agent --call`), so every
check is exact: tool names, schemas, a ranking's top source, error texts.
The ask tool runs the packaged chat model; its check is the fact only.

Usage: mcp_test.py RAGD SOURCE_DIR   (run by ctest with the set-up's venv)
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import unittest

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

RAGD, SOURCE = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from server_test import KEY, Server  # noqa: E402  (one way to start ragd serve)
DATA = tempfile.mkdtemp(prefix="ragd-mcp-test-")
ENV = dict(os.environ, RAGD_DATA_DIR=DATA)
TIME_SERVER = f"{sys.executable} -m mcp_server_time --local-timezone UTC"


def ragd(*args, check=True):
    r = subprocess.run([RAGD, "-q", *args], env=ENV, capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"ragd {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def run(coro):
    return asyncio.run(coro)


async def with_session(fn):
    params = StdioServerParameters(command=RAGD, args=["-q", "mcp", "--kb", "bank", "--max-tokens", "96"], env=ENV)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            return await fn(session, init)


class RagdAsMcpServer(unittest.TestCase):
    def test_tools_list_gives_the_four_tools_with_schemas(self):
        async def go(session, init):
            self.assertEqual(init.server_info.name, "ragd")
            tools = {t.name: t for t in (await session.list_tools()).tools}
            self.assertEqual(set(tools), {"search_kb", "read_document", "list_kbs", "ask"})
            self.assertEqual(tools["search_kb"].input_schema["required"], ["query"])
            self.assertEqual(tools["read_document"].input_schema["required"], ["doc_id"])
            print("tools/list:", json.dumps([{"name": t.name, "inputSchema": t.input_schema} for t in tools.values()],
                                            ensure_ascii=False))
        run(with_session(go))

    def test_search_kb_returns_the_right_passage_first(self):
        async def go(session, _):
            r = await session.call_tool("search_kb", {"query": "annual fee of the platinum card", "k": 3})
            self.assertFalse(r.is_error)
            passages = r.structured_content["passages"]
            self.assertEqual(len(passages), 3)
            self.assertTrue(passages[0]["source"].endswith("platinum-card.docx"), passages[0])
            self.assertIn("1,200 yuan", passages[0]["text"])
            self.assertTrue(r.content[0].text.startswith("[1] platinum-card.docx"), r.content[0].text[:80])
            doc = await session.call_tool("read_document", {"doc_id": passages[0]["doc_id"]})
            self.assertFalse(doc.is_error)
            self.assertIn("Platinum Credit Card", doc.content[0].text)
        run(with_session(go))

    def test_bad_calls_are_tool_errors_not_crashes(self):
        async def go(session, _):
            r = await session.call_tool("search_kb", {"query": 5})
            self.assertTrue(r.is_error)
            self.assertIn("query: expected string, got 5", r.content[0].text)
            r = await session.call_tool("read_document", {"doc_id": "no-such-doc"})
            self.assertTrue(r.is_error)
            self.assertIn("has no document 'no-such-doc'", r.content[0].text)
            # The server is still there.
            self.assertIn("bank: 4 documents", (await session.call_tool("list_kbs", {})).content[0].text)
        run(with_session(go))

    def test_ask_answers_with_the_fact_and_its_source(self):
        async def go(session, _):
            r = await session.call_tool("ask", {"question": "What is the annual fee of the platinum card?"})
            self.assertFalse(r.is_error, r.content)
            text = r.content[0].text
            self.assertRegex(text, r"1,?200")
            self.assertIn("platinum-card.docx", text)
        run(with_session(go))

    def test_malformed_json_rpc_gets_errors_and_the_server_goes_on(self):
        p = subprocess.run([RAGD, "-q", "mcp", "--kb", "bank"], env=ENV, capture_output=True, text=True, timeout=300,
                           input='not json\n[1,2]\n{"jsonrpc":"2.0","id":7,"method":"nope"}\n'
                                 '{"jsonrpc":"2.0","id":8,"method":"ping"}\n')
        replies = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([r.get("error", {}).get("code") for r in replies], [-32700, -32600, -32601, None])
        self.assertEqual(replies[3], {"jsonrpc": "2.0", "id": 8, "result": {}})


class InspectorCli(unittest.TestCase):
    """The MCP Inspector's CLI (npm @modelcontextprotocol/inspector-cli 0.14.3,
    the last release that runs on Node 20; it speaks stdio and SSE, so
    Streamable HTTP is the Python SDK's above)."""

    INSPECTOR = os.path.join(SOURCE, "web", "node_modules", ".bin", "mcp-inspector-cli")

    def inspect(self, *args):
        r = subprocess.run([self.INSPECTOR, "--cli", RAGD, "-q", "mcp", "--kb", "bank", "--", *args], env=ENV,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_it_lists_the_tools(self):
        tools = self.inspect("--method", "tools/list")["tools"]
        self.assertEqual([t["name"] for t in tools], ["search_kb", "read_document", "list_kbs", "ask"])
        self.assertTrue(all(t["inputSchema"]["type"] == "object" and t["description"] for t in tools), tools)

    def test_it_calls_search_kb_and_sees_errors_as_tool_results(self):
        r = self.inspect("--method", "tools/call", "--tool-name", "search_kb",
                         "--tool-arg", "query=annual fee of the platinum card", "k=1")
        self.assertFalse(r.get("isError", False), r)
        self.assertTrue(r["content"][0]["text"].startswith("[1] platinum-card.docx"), r["content"][0]["text"][:80])
        self.assertEqual(len(r["structuredContent"]["passages"]), 1)
        r = self.inspect("--method", "tools/call", "--tool-name", "read_document", "--tool-arg", "doc_id=no-such-doc")
        self.assertTrue(r["isError"], r)
        self.assertIn("no-such-doc", r["content"][0]["text"])


class RagdServeMcpOverHttp(unittest.TestCase):
    """POST /mcp on ragd serve, behind its API key, with the SDK's Streamable HTTP client."""

    @classmethod
    def setUpClass(cls):
        cls.s = Server("--max-tokens", "96")
        subprocess.run([RAGD, "-q", "ingest", "--kb", "bank", os.path.join(SOURCE, "examples", "bank-kb")],
                       env=dict(os.environ, RAGD_DATA_DIR=cls.s.data), check=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_the_sdk_client_lists_and_calls_tools(self):
        async def go():
            async with httpx2.AsyncClient(headers={"Authorization": "Bearer " + KEY}, timeout=120) as http:
                async with streamable_http_client(self.s.url + "/mcp", http_client=http) as streams:
                    async with ClientSession(streams[0], streams[1]) as session:
                        await session.initialize()
                        names = {t.name for t in (await session.list_tools()).tools}
                        self.assertEqual(names, {"search_kb", "read_document", "list_kbs", "ask"})
                        r = await session.call_tool("search_kb", {"query": "daily limit for mobile transfers", "k": 1})
                        self.assertIn("200,000 yuan per day", r.content[0].text)
        run(go())

    def test_agent_model_runs_the_loop_with_steps_beside_the_message(self):
        import openai
        client = openai.OpenAI(base_url=self.s.url + "/v1", api_key=KEY, max_retries=0)
        self.assertIn("agent:bank", [m.id for m in client.models.list()])
        r = client.chat.completions.create(model="agent:bank", max_tokens=96,
                                           messages=[{"role": "user", "content": "What is the annual fee of the platinum card?"}])
        steps = r.model_extra["agent_steps"]
        self.assertEqual(steps[0]["tool"], "search_kb")
        self.assertTrue(r.choices[0].message.content)
        self.assertIn("sources", r.model_extra)
        chunks = list(client.chat.completions.create(
            model="agent:bank", max_tokens=96, stream=True,
            messages=[{"role": "user", "content": "What is the annual fee of the platinum card?"}]))
        streamed = [c.choices[0].delta.model_extra.get("agent_step") for c in chunks if c.choices]
        self.assertEqual([s["tool"] for s in streamed if s][:1], ["search_kb"])
        with self.assertRaises(openai.BadRequestError):
            client.chat.completions.create(model="agent:bank", messages=[{"role": "user", "content": "x"}],
                                           tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}])

    def test_the_api_key_guards_it(self):
        status, body = self.s.json("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"}, key=None)
        self.assertEqual(status, 401)
        status, body = self.s.json("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "ping"})
        self.assertEqual((status, body), (200, {"jsonrpc": "2.0", "id": 1, "result": {}}))
        status, _ = self.s.request("POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.assertEqual(status, 202)
        status, body = self.s.json("GET", "/mcp")
        self.assertEqual(status, 405)


class RagdAsMcpClient(unittest.TestCase):
    def test_lists_and_calls_a_registry_server(self):
        tools = json.loads(ragd("agent", "--kb", "bank", "--mcp", TIME_SERVER, "--list-tools", "--json").stdout)
        names = [t["name"] for t in tools]
        self.assertEqual(names[:4], ["search_kb", "read_document", "list_kbs", "calculator"])
        self.assertIn("get_current_time", names)
        step = json.loads(ragd("agent", "--kb", "bank", "--mcp", TIME_SERVER, "--call", "get_current_time",
                               "--args", '{"timezone": "Asia/Shanghai"}', "--json").stdout)
        self.assertFalse(step["error"], step)
        self.assertTrue(json.loads(step["result"])["datetime"].endswith("+08:00"), step["result"])

    def test_a_failing_mcp_tool_is_an_error_message(self):
        r = ragd("agent", "--kb", "bank", "--mcp", TIME_SERVER, "--call", "get_current_time", "--args",
                 '{"timezone": "Mars/Olympus"}', "--json", check=False)
        self.assertEqual(r.returncode, 1)
        step = json.loads(r.stdout)
        self.assertTrue(step["error"])
        self.assertIn("Mars/Olympus", step["result"])
        r = ragd("agent", "--kb", "bank", "--mcp", "no-such-mcp-server --x", "--list-tools", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot start the MCP server 'no-such-mcp-server'", r.stderr)
        self.assertIn("is it installed and on PATH?", r.stderr)

    def test_ragd_reads_its_own_mcp_server(self):
        server = f"{RAGD} -q mcp --kb bank"
        tools = json.loads(ragd("agent", "--kb", "bank", "--mcp", server, "--list-tools", "--json").stdout)
        names = [t["name"] for t in tools]
        # The server's search_kb clashes with the built-in one: it is renamed.
        self.assertIn("ragd_search_kb", names)
        self.assertIn("ask", names)
        step = json.loads(ragd("agent", "--kb", "bank", "--mcp", server, "--call", "ragd_search_kb", "--args",
                               '{"query": "daily limit for transfers in the mobile app", "k": 1}', "--json").stdout)
        self.assertIn("200,000 yuan per day", step["result"])


if __name__ == "__main__":
    ragd("ingest", "--kb", "bank", os.path.join(SOURCE, "examples", "bank-kb"))
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
