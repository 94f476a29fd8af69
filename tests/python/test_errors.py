"""Errors arrive as ragd.errors exceptions, with the library's own messages
(the ones the ragd command prints)."""

import os
import subprocess

import pytest

import ragd
from ragd import errors


def test_hierarchy():
    assert issubclass(ragd.NotFoundError, LookupError) and issubclass(ragd.NotFoundError, ragd.Error)
    assert issubclass(ragd.InvalidArgumentError, ValueError)
    assert issubclass(ragd.UnavailableError, ConnectionError)
    assert issubclass(ragd.StorageError, OSError)
    assert errors.error_class("not_found") is ragd.NotFoundError
    assert errors.error_class("no such code") is ragd.InternalError


def test_missing_knowledge_base(engine):
    with pytest.raises(ragd.NotFoundError) as e:
        engine.open("no-such-kb", create=False)
    assert "no-such-kb" in str(e.value) and e.value.code == "not_found"
    kb = ragd.KnowledgeBase(engine, "no-such-kb")
    with pytest.raises(LookupError):
        kb.search("anything")


def test_same_message_as_the_command(engine, data_dir):
    """The exception's message is the one `ragd search` prints for the same mistake."""
    binary = os.environ.get("RAGD_BIN")
    if not binary:
        pytest.skip("RAGD_BIN is not set (ctest sets it to the built ragd)")
    with pytest.raises(ragd.NotFoundError) as e:
        ragd.KnowledgeBase(engine, "absent").search("fee")
    cli = subprocess.run([binary, "--data-dir", str(data_dir), "search", "fee", "--kb", "absent"],
                         capture_output=True, text=True)
    assert cli.returncode != 0
    assert str(e.value) in cli.stderr, (str(e.value), cli.stderr)


def test_invalid_arguments(kb):
    kb.add_texts(["some text"], ids=["x"])
    with pytest.raises(ragd.InvalidArgumentError, match="search mode"):
        kb.search("q", mode="fuzzy")
    with pytest.raises(ragd.InvalidArgumentError, match="the query is empty"):
        kb.search("   ")
    with pytest.raises(ragd.InvalidArgumentError, match="k must be between"):
        kb.search("q", k=0)
    with pytest.raises(ValueError):
        kb.search("q", filter="modified>yesterday")
    with pytest.raises(ragd.InvalidArgumentError, match="fusion"):
        kb.search("q", fusion="average")
    with pytest.raises(ragd.InvalidArgumentError, match="dimensions"):
        kb.search("", mode="dense", query_vector=[0.1, 0.2])
    with pytest.raises(ragd.InvalidArgumentError, match="metadata"):
        kb.add_texts(["t"], [{"nested": {"a": 1}}])
    with pytest.raises(ragd.InvalidArgumentError, match="2 ids for 1 texts"):
        kb.add_texts(["t"], ids=["a", "b"])
    with pytest.raises(ragd.InvalidArgumentError, match="strategy"):
        kb.ask("q", strategy="guess")


def test_create_twice(engine):
    engine.create("twice")
    with pytest.raises(ragd.AlreadyExistsError):
        engine.create("twice")


def test_bad_name(engine):
    with pytest.raises(ragd.InvalidArgumentError):
        engine.create("../escape")


def test_unreachable_server(data_dir, kb):
    kb.add_texts(["The Gold card costs 380 yuan a year."], ids=["gold"])
    eng = ragd.Engine(data_dir, chat_model=ragd.Model.openai("m", base_url="http://127.0.0.1:9/v1", api_key="k",
                                                              timeout=2))
    remote = eng.open(kb.name, create=False)
    with pytest.raises(ragd.UnavailableError) as e:
        remote.ask("What does the Gold card cost?")
    assert "127.0.0.1:9" in str(e.value)


def test_missing_model_file(data_dir):
    eng = ragd.Engine(data_dir, chat_model="/nonexistent/model.gguf")
    kb = eng.open("missing-model")
    with pytest.raises(ragd.Error) as e:
        kb.ask("hello", no_retrieval=True)
    assert "/nonexistent/model.gguf" in str(e.value)


def test_missing_embedder_file(data_dir):
    eng = ragd.Engine(data_dir, embed_model="/nonexistent/embed.gguf")
    with pytest.raises(ragd.Error) as e:
        eng.embed(["x"])
    assert "/nonexistent/embed.gguf" in str(e.value)
