"""Tool calls and structured output through `ragd serve`'s
/v1/chat/completions, driven by the official `openai` client (pinned in
scripts/setup/requirements.txt), on the packaged instruct model.

Nothing here compares generated text with a recorded string: the checks are
the shapes OpenAI defines, that arguments and outputs parse against their
schemas, and that the fact a tool returned is in the final answer.

Usage: tools_test.py RAGD SOURCE_DIR   (run by ctest with the set-up's venv)
"""
import json
import os
import sys
import unittest

import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_test import KEY, Server  # noqa: E402  (one way to start ragd serve)

FEE_TOOL = {
    "type": "function",
    "function": {
        "name": "get_card_fee",
        "description": "The annual fee of a credit card, by card name.",
        "parameters": {"type": "object", "properties": {"card": {"type": "string"}}, "required": ["card"]},
    },
}
RATE_TOOL = {
    "type": "function",
    "function": {
        "name": "get_exchange_rate",
        "description": "Today's exchange rate between two currencies (ISO codes).",
        "parameters": {"type": "object",
                       "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
                       "required": ["from", "to"]},
    },
}
QUESTION = {"role": "user", "content": "What is the annual fee of the Platinum card?"}
# Small models echo a tool's result unless told what to do with it.
SYSTEM = {"role": "system",
          "content": "You are a helpful assistant. When a tool result arrives, answer the user's question from it in one sentence."}


class ToolsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server("--max-tokens", "128")
        cls.client = openai.OpenAI(base_url=cls.s.url + "/v1", api_key=KEY, max_retries=0)
        cls.model = next(m.id for m in cls.client.models.list() if m.model_extra.get("kind") == "chat")

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()

    def test_tool_call_round_trip(self):
        r = self.client.chat.completions.create(model=self.model, messages=[SYSTEM, QUESTION], tools=[FEE_TOOL, RATE_TOOL])
        choice = r.choices[0]
        self.assertEqual(choice.finish_reason, "tool_calls")
        calls = choice.message.tool_calls
        self.assertEqual(len(calls), 1, choice.message)
        call = calls[0]
        self.assertEqual(call.type, "function")
        self.assertEqual(call.function.name, "get_card_fee")
        self.assertTrue(call.id)
        args = json.loads(call.function.arguments)
        self.assertIn("Platinum", args["card"])

        # The tool's result goes back; the model answers from it.
        messages = [SYSTEM, QUESTION, choice.message.model_dump(exclude_none=True),
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"annual_fee": "CNY 3,600"})}]
        # The answer turn: the result is in, so no further call is wanted.
        final = self.client.chat.completions.create(model=self.model, messages=messages, tools=[FEE_TOOL, RATE_TOOL],
                                                    tool_choice="none")
        self.assertEqual(final.choices[0].finish_reason, "stop")
        self.assertFalse(final.choices[0].message.tool_calls)
        self.assertIn("3,600", final.choices[0].message.content)
        self.assertNotIn("{", final.choices[0].message.content)  # words, not the result echoed

    def test_usage_counts_the_prompt_tokens_reused_from_the_cache(self):
        ask = dict(model=self.model, messages=[SYSTEM, QUESTION], max_tokens=4)
        self.client.chat.completions.create(**ask)
        again = self.client.chat.completions.create(**ask)
        # All of the prompt but its last token (evaluated again for the
        # next token's logits) comes from the key/value cache.
        self.assertEqual(again.usage.prompt_tokens_details.cached_tokens, again.usage.prompt_tokens - 1, again.usage)

    def test_streamed_tool_calls_come_as_indexed_deltas(self):
        stream = self.client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": "What is the annual fee of the Gold card?"}],
            tools=[FEE_TOOL, RATE_TOOL], tool_choice="required", stream=True)
        calls, finish, content = {}, None, ""
        for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            content += delta.content or ""
            for tc in delta.tool_calls or []:
                c = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                c["id"] += tc.id or ""
                if tc.function:
                    c["name"] += tc.function.name or ""
                    c["arguments"] += tc.function.arguments or ""
            finish = chunk.choices[0].finish_reason or finish
        self.assertEqual(finish, "tool_calls")
        self.assertEqual(sorted(calls), list(range(len(calls))))
        self.assertTrue(calls)
        self.assertEqual(calls[0]["name"], "get_card_fee")
        self.assertTrue(calls[0]["id"].startswith("call_"))
        args = json.loads(calls[0]["arguments"])
        self.assertIn("Gold", args["card"])
        self.assertNotIn("<tool_call>", content)

    def test_named_tool_choice_and_none(self):
        r = self.client.chat.completions.create(
            model=self.model, messages=[QUESTION], tools=[FEE_TOOL, RATE_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_exchange_rate"}})
        self.assertEqual(r.choices[0].message.tool_calls[0].function.name, "get_exchange_rate")
        r = self.client.chat.completions.create(model=self.model, messages=[QUESTION], tools=[FEE_TOOL],
                                                tool_choice="none", max_tokens=24)
        self.assertFalse(r.choices[0].message.tool_calls)
        self.assertTrue(r.choices[0].message.content)

    def test_response_format_json_schema_parses_and_validates(self):
        schema = {"type": "object",
                  "properties": {"card": {"type": "string"}, "annual_fee_cny": {"type": "integer"},
                                 "waivable": {"type": "boolean"}},
                  "required": ["card", "annual_fee_cny", "waivable"], "additionalProperties": False}
        r = self.client.chat.completions.create(
            model=self.model,
            messages=[{"role": "user", "content": "The Platinum card costs CNY 3600 a year; the fee is waived after "
                                                  "12 purchases. Describe the card."}],
            response_format={"type": "json_schema", "json_schema": {"name": "card", "schema": schema, "strict": True}})
        out = json.loads(r.choices[0].message.content)
        self.assertEqual(set(out), {"card", "annual_fee_cny", "waivable"})
        self.assertIsInstance(out["annual_fee_cny"], int)
        self.assertIsInstance(out["waivable"], bool)
        self.assertEqual(out["annual_fee_cny"], 3600)

        r = self.client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": "List two bank products as JSON."}],
            response_format={"type": "json_object"}, max_tokens=64)
        if r.choices[0].finish_reason == "stop":
            self.assertIsInstance(json.loads(r.choices[0].message.content), dict)
        else:
            self.assertTrue(r.choices[0].message.content.startswith("{"))

    def test_bad_requests_are_400s_that_say_why(self):
        def bad(**kw):
            with self.assertRaises(openai.BadRequestError) as e:
                self.client.chat.completions.create(model=self.model, messages=[QUESTION], **kw)
            return str(e.exception)
        self.assertIn("grammar", bad(response_format={
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"$ref": "#/nope"}}}}}))
        self.assertIn("response_format type", bad(response_format={"type": "yaml"}))
        self.assertIn("tool_choice", bad(tools=[FEE_TOOL], tool_choice="get_weather"))
        self.assertIn("parameters", bad(tools=[{"type": "function", "function": {"name": "f", "parameters": 3}}]))
        self.assertIn("two tools", bad(tools=[FEE_TOOL, FEE_TOOL]))
        self.assertIn("knowledge base", str(self._kb_with_tools()))

    def _kb_with_tools(self):
        self.s.json("POST", "/api/kbs", {"name": "tools-kb"})
        with self.assertRaises(openai.BadRequestError) as e:
            self.client.chat.completions.create(model="kb:tools-kb", messages=[QUESTION], tools=[FEE_TOOL])
        return e.exception

    def test_tool_message_without_its_call_id_is_refused(self):
        with self.assertRaises(openai.UnprocessableEntityError) as e:
            self.client.chat.completions.create(
                model=self.model, messages=[QUESTION, {"role": "tool", "content": "{}"}], tools=[FEE_TOOL])
        self.assertIn("tool_call_id", str(e.exception))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
