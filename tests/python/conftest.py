"""Fixtures of the Python suite: the installed ragd wheel against real models
and a real SQLite file in a temporary data directory."""

import os
import pathlib
import uuid

import pytest

import ragd

SOURCE_DIR = pathlib.Path(os.environ.get("RAGD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BANK_KB = SOURCE_DIR / "examples" / "bank-kb"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ragd-data")


@pytest.fixture(scope="session")
def engine(data_dir):
    """One engine for the session: the models load once."""
    return ragd.Engine(data_dir)


@pytest.fixture
def kb(engine):
    """An empty knowledge base of its own."""
    return engine.create("t-" + uuid.uuid4().hex[:12])


@pytest.fixture(scope="session")
def bank(engine):
    """The example bank knowledge base (examples/bank-kb), ingested once."""
    kb = engine.open("bank")
    report = kb.ingest([str(BANK_KB)])
    assert report.failures == [], report.failures
    assert report.files_added == 4
    return kb
