"""The ragd package's API, round trip: knowledge bases, ingest, search,
documents, answers (plain and streamed), chat sessions, embeddings."""

import json

import pytest

import ragd


def test_open_creates_and_lists(engine):
    kb = engine.open("made-by-open")
    assert "made-by-open" in [i.name for i in engine.knowledge_bases()]
    info = kb.info()
    assert (info.documents, info.chunks) == (0, 0)
    assert info.embed_model == "multilingual-e5-small/384"
    assert engine.open("made-by-open").name == "made-by-open"  # opening again keeps it


def test_add_texts_round_trip(kb):
    texts = ["Gold card annual fee is 380 yuan.", "黄金卡年费为380元。", "Wire transfers abroad take 1 to 3 days."]
    ids = kb.add_texts(texts, [{"team": "cards", "year": 2024}, {"team": "cards", "lang": "zh"}, {"team": "payments"}],
                       ids=["gold-en", "gold-zh", "wire"], titles=["", "", ""])
    assert ids == ["gold-en", "gold-zh", "wire"]
    assert len(kb) == 3
    d = kb.document("gold-zh")
    assert d.info.metadata == {"team": "cards", "lang": "zh"}
    assert [c.text for c in d.chunks] == ["黄金卡年费为380元。"]  # bytes in = bytes out
    assert sorted(x.doc_id for x in kb.documents()) == ["gold-en", "gold-zh", "wire"]
    # The same id again replaces the document.
    kb.add_texts(["Gold card annual fee is 400 yuan from 2025."], [{"team": "cards"}], ids=["gold-en"])
    assert len(kb) == 3
    assert kb.document("gold-en").chunks[0].text == "Gold card annual fee is 400 yuan from 2025."
    # Made-up ids are unique.
    a, b = kb.add_texts(["one", "two"])
    assert a != b and len(a) == 32


def test_search_modes_filters_and_hits(kb):
    kb.add_texts(["The Platinum card has an annual fee of 1200 yuan.", "Lost cards: call 95588 at any hour.",
                  "Fixed deposits can be withdrawn early at the demand-deposit rate."],
                 [{"team": "cards", "year": 2023}, {"team": "cards", "year": 2025}, {"team": "deposits", "year": 2025}],
                 ids=["platinum", "lost", "deposit"])
    for mode in ("hybrid", "bm25", "dense"):
        hits = kb.search("What is the Platinum card's annual fee?", mode=mode, k=2)
        assert hits[0].doc_id == "platinum", (mode, hits)
        assert hits[0].rank == 1 and hits[0].score >= hits[1].score
        assert "1200" in hits[0].text
    hits = kb.search("annual fee", k=3, filter={"team": "cards", "year": (">=", 2025)})
    assert [h.doc_id for h in hits] == ["lost"]
    assert [h.doc_id for h in kb.search("annual fee", k=3, filter="team=deposits")] == ["deposit"]
    assert [h.doc_id for h in kb.search("card", k=3, filter=["team=cards", "year<2024"])] == ["platinum"]
    hits = kb.search("call about a lost card", k=1, with_metadata=True)
    assert hits[0].metadata == {"team": "cards", "year": "2025"}
    assert hits.best_dense_score > 0.8 and hits.seconds > 0 and hits.embed_model.startswith("multilingual-e5-small")
    assert hits.timings.embed > 0
    assert kb.find({"team": "cards"}) == ["lost", "platinum"]


def test_search_by_vector_matches_search_by_text(engine, kb):
    kb.add_texts(["Platinum annual fee 1200 yuan", "Report a lost card at 95588", "Open an account with an ID card"],
                 ids=["a", "b", "c"])
    q = "how do I report a stolen card"
    by_text = kb.search(q, mode="dense", k=3)
    by_vector = kb.search("", mode="dense", k=3, query_vector=engine.embed([q], query=True)[0])
    assert [h.doc_id for h in by_vector] == [h.doc_id for h in by_text]
    assert [round(h.score, 5) for h in by_vector] == [round(h.score, 5) for h in by_text]


def test_ingest_files_report_progress_and_delete(kb, tmp_path):
    (tmp_path / "a.md").write_text("# Cards\n\nThe Gold card costs 380 yuan a year.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Branch hours: 9:00 to 17:00 on weekdays.\n", encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7 this is not a pdf")
    seen = []
    report = kb.ingest(tmp_path, metadata={"batch": 1}, progress=seen.append)
    assert (report.files_seen, report.files_added) == (3, 2)
    assert [f.path.endswith("bad.pdf") for f in report.failures] == [True]
    assert report.failures[0].code == "invalid_argument"
    assert "damaged or truncated PDF" in report.failures[0].message
    assert seen and seen[-1].done == seen[-1].total
    again = kb.ingest(tmp_path, metadata={"batch": 1})
    assert again.files_unchanged == 2 and again.chunks_written == 0
    doc = next(d for d in kb.documents() if d.source.endswith("a.md"))
    assert kb.document(doc.doc_id).info.metadata == {"batch": "1"}
    assert kb.delete([doc.doc_id, "not-there"]) == 1
    assert len(kb) == 1


def test_progress_callback_error_is_raised(kb, tmp_path):
    (tmp_path / "a.txt").write_text("some text", encoding="utf-8")

    def progress(p):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        kb.ingest(tmp_path, progress=progress)


def test_ask_answers_with_cited_source(bank):
    a = bank.ask("What is the annual fee for the Platinum credit card?")
    assert a.found, a.text
    assert "1200" in a.text.replace(",", "")
    cited = [s.hit.source for s in a.sources if s.cited]
    assert any(src.endswith("platinum-card.docx") for src in cited), (a.text, cited)
    again = bank.ask("What is the annual fee for the Platinum credit card?")
    assert again.text == a.text  # greedy: two runs in one process agree


def test_ask_refuses_off_topic(bank):
    a = bank.ask("What is the capital of France?")
    assert not a.found and a.refusal_reason in ("retrieval", "check", "model")


def test_ask_stream_pieces_make_the_answer(bank):
    stream = bank.ask("How long does an international wire transfer take?", stream=True)
    pieces = list(stream)
    assert len(pieces) > 3
    answer = stream.answer
    assert "".join(pieces).strip() == answer.model_text.strip()
    assert "3" in answer.text and answer.found


def test_ask_stream_dropped_early_stops(bank):
    stream = bank.ask("How long does an international wire transfer take?", stream=True)
    first = next(iter(stream))
    assert isinstance(first, str)
    del stream  # cancels and joins the generating thread
    # The model is free again for the next question.
    assert bank.ask("What is the annual fee for the Platinum credit card?", max_tokens=40).generation.completion_tokens > 0


def test_chat_session_is_stored_and_continued(bank, engine):
    chat = bank.chat()
    a1 = chat.ask("What is the annual fee for the Platinum credit card?")
    assert a1.found and chat.id
    a2 = chat.ask("And how do I report it lost?")
    assert a2.standalone_question  # condensed with the first turn
    assert [t.question for t in chat.turns] == ["What is the annual fee for the Platinum credit card?",
                                                "And how do I report it lost?"]
    # Another handle continues it.
    again = bank.chat(chat.id)
    assert len(again.turns) == 2
    assert chat.id in [s.id for s in bank.sessions()]
    stream = again.ask("Which number should I call?", stream=True, max_tokens=60)
    assert stream.session_id == chat.id
    assert "".join(stream).strip() == stream.answer.model_text.strip()
    assert len(bank.chat(chat.id).turns) == 3  # the streamed turn was saved at its end
    bank.delete_session(chat.id)
    with pytest.raises(ragd.NotFoundError):
        bank.chat(chat.id)


def test_json_schema_answer_parses(bank):
    schema = json.dumps({"type": "object", "properties": {"fee_yuan": {"type": "integer"}}, "required": ["fee_yuan"]})
    a = bank.ask("What is the annual fee for the Platinum credit card?", json_schema=schema, max_tokens=60)
    assert isinstance(json.loads(a.model_text)["fee_yuan"], int)


def test_embed(engine):
    v = engine.embed(["hello", "你好"])
    assert len(v) == 2 and len(v[0]) == 384
    assert abs(sum(x * x for x in v[0]) - 1.0) < 1e-4
    assert engine.embed([]) == []


def test_model_search_path_finds_packaged_models():
    paths = ragd.model_search_path()
    assert any((__import__("pathlib").Path(p) / "multilingual-e5-small.gguf").exists() for p in paths), paths


def test_backup_restore_copy_and_reembed(engine, kb, tmp_path):
    kb.add_texts(["Platinum annual fee 1200 yuan", "Report a lost card at 95588", "Open an account with an ID card"],
                 [{"n": 1}, {"n": 2}, {"n": 3}], ids=["a", "b", "c"])
    before = [(h.doc_id, round(h.score, 5)) for h in kb.search("stolen card", k=3)]
    kb.backup(tmp_path / "snap")
    restored = engine.restore(tmp_path / "snap", kb.name + "-restored")
    assert [(h.doc_id, round(h.score, 5)) for h in restored.search("stolen card", k=3)] == before
    report = kb.copy_to(tmp_path / "other-data")
    assert (report.documents, report.chunks) == (3, 3)
    other = ragd.Engine(tmp_path / "other-data").open(kb.name, create=False)
    assert [(h.doc_id, round(h.score, 5)) for h in other.search("stolen card", k=3)] == before
    assert other.document("b").info.metadata == {"n": "2"}
    seen = []
    r = kb.reembed("all-MiniLM-L6-v2", progress=seen.append)
    assert (r.source, r.to, r.embedded) == ("multilingual-e5-small/384", "all-MiniLM-L6-v2/384", 3)
    assert seen and seen[-1].done == 3
    assert kb.info().embed_model == "all-MiniLM-L6-v2/384"
    assert kb.search("stolen card", mode="dense", k=1)[0].doc_id == "b"


def test_tables_and_summary(bank):
    faq = [t for t in bank.tables() if t.source.endswith("faq.csv")]
    assert len(faq) == 1 and len(faq[0].rows) > 3 and all(len(r) == len(faq[0].columns) for r in faq[0].rows)
    handbook = next(d for d in bank.documents() if d.source.endswith("handbook.md"))
    stages = []
    s = bank.summarize(handbook.doc_id, words=60, language="en", progress=lambda *p: stages.append(p))
    assert s.text and s.language == "en" and s.strategy in ("stuff", "map-reduce")
    assert s.parts and set(s.cited) <= {p.n for p in s.parts}
    assert stages and s.model_calls >= 1
    with pytest.raises(ragd.NotFoundError):
        bank.summarize("no-such-document")
    with pytest.raises(ragd.InvalidArgumentError, match="strategy"):
        bank.summarize(handbook.doc_id, strategy="skim")
