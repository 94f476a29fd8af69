"""ragd from Python: knowledge bases of your own documents, hybrid search and
cited answers, in-process (the same C++ engine as the ``ragd`` program).

    >>> import ragd
    >>> kb = ragd.open("bank")                      # created when missing
    >>> kb.ingest(["examples/bank-kb"])             # files or folders
    >>> for hit in kb.search("annual fee", k=3):
    ...     print(hit.score, hit.label, hit.text[:60])
    >>> print(kb.ask("What is the annual fee of the Platinum card?"))
    >>> for piece in kb.ask("How do I report a lost card?", stream=True):
    ...     print(piece, end="", flush=True)

Knowledge bases live in the data directory (``$RAGD_DATA_DIR``, else
``~/.local/share/ragd``) or a PostgreSQL database (``store="postgres://..."``),
shared with the ``ragd`` command. Models are found the way the command finds
them (``ragd.model_search_path()``); nothing is downloaded.

Errors are exceptions of :mod:`ragd.errors`. Calls that work (ingest, search,
embedding, generation) release the GIL, so threads run them in parallel.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, Union

from . import _ragd
from ._ragd import (
    Answer,
    AnswerStream,
    CopyReport,
    DocumentDetail,
    DocumentInfo,
    FilterCondition,
    Hit,
    IngestProgress,
    IngestReport,
    KbInfo,
    KbTable,
    ReembedReport,
    SearchTimings,
    Session,
    Source,
    Summary,
    SummaryPart,
    Turn,
)
from .errors import (
    AlreadyExistsError,
    CancelledError,
    CorruptionError,
    Error,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    StorageError,
    UnavailableError,
)

__version__ = "0.1.0"

#: What ``filter=`` accepts: ``"type=pdf"``, ``["year>=2020", "type!=pdf"]``,
#: ``{"team": "cards"}`` (equality) or ``{"year": (">=", 2020)}``.
FilterLike = Union[None, str, FilterCondition, Sequence[Union[str, FilterCondition]], Mapping[str, Any]]


@dataclass(frozen=True)
class Model:
    """Where a model runs: ``local`` (llama.cpp in this process, a GGUF file or a
    packaged model's name), ``openai`` (any OpenAI-compatible server: OpenAI,
    vLLM, llama-server, Ollama's /v1) or ``ollama`` (Ollama's native API).

    >>> ragd.Model.local("qwen2.5-coder-1.5b-instruct-q4_k_m")
    >>> ragd.Model.openai("gpt-4o-mini")        # OPENAI_API_KEY, OPENAI_BASE_URL
    >>> ragd.Model.ollama("qwen2.5:7b")
    """

    backend: str = "local"
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    threads: int = 0
    context_tokens: int = 0
    timeout: float = 120.0

    @classmethod
    def local(cls, model: str = "", *, threads: int = 0, context_tokens: int = 0) -> "Model":
        """A GGUF path or packaged model name ("" = the packaged default)."""
        return cls("local", model, threads=threads, context_tokens=context_tokens)

    @classmethod
    def openai(cls, model: str = "", *, base_url: str | None = None, api_key: str | None = None,
               timeout: float = 120.0) -> "Model":
        """An OpenAI-compatible server; base_url and api_key default to
        $OPENAI_BASE_URL (else https://api.openai.com/v1) and $OPENAI_API_KEY."""
        return cls("openai", model,
                   base_url=base_url or os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"),
                   api_key=api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", ""),
                   timeout=timeout)

    @classmethod
    def ollama(cls, model: str = "", *, base_url: str = "http://127.0.0.1:11434", timeout: float = 120.0) -> "Model":
        """Ollama's native API."""
        return cls("ollama", model, base_url=base_url, timeout=timeout)

    def _native(self) -> _ragd.BackendOptions:
        o = _ragd.BackendOptions()
        o.backend = _ragd.parse_backend(self.backend)
        o.model = self.model
        o.base_url = self.base_url
        o.api_key = self.api_key
        o.threads = self.threads
        o.context_tokens = self.context_tokens
        o.timeout_seconds = self.timeout
        return o


def _as_model(m: Model | str | None) -> Model:
    if m is None:
        return Model()
    if isinstance(m, str):
        return Model.local(m)
    if isinstance(m, Model):
        return m
    raise InvalidArgumentError(f"a model is a ragd.Model or a GGUF path / packaged name, not {type(m).__name__}")


def _filters(filter: FilterLike) -> list[FilterCondition]:
    """Normalises every accepted filter form into checked FilterConditions."""
    if filter is None:
        return []
    if isinstance(filter, (str, FilterCondition)):
        filter = [filter]
    out: list[FilterCondition] = []
    if isinstance(filter, Mapping):
        for key, value in filter.items():
            op = "="
            if isinstance(value, tuple):
                if len(value) != 2:
                    raise InvalidArgumentError(f"filter {key!r}: a tuple is (op, value), e.g. ('>=', 2020)")
                op, value = value
            c = FilterCondition()
            c.key, c.op, c.value = str(key), str(op), _scalar(value, f"filter {key!r}")
            _ragd.check_filter(c)
            out.append(c)
        return out
    for f in filter:
        if isinstance(f, FilterCondition):
            _ragd.check_filter(f)
            out.append(f)
        elif isinstance(f, str):
            out.append(_ragd.parse_filter(f))
        else:
            raise InvalidArgumentError(f"a filter is 'key=value' text or a FilterCondition, not {type(f).__name__}")
    return out


def _scalar(value: Any, what: str) -> str:
    """Metadata and filter values are text; numbers and booleans are written as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InvalidArgumentError(f"{what}: values are text, numbers or booleans, not {type(value).__name__}")


def _metadata(meta: Mapping[str, Any] | None) -> dict[str, str]:
    if not meta:
        return {}
    out = {}
    for k, v in meta.items():
        out[str(k)] = _scalar(v, f"metadata {k!r}")
        _ragd.check_metadata(str(k), out[str(k)])
    return out


class Hits(list):
    """The hits of a search, best first (a list of :class:`Hit`), with the
    search's figures: ``best_dense_score`` (the best cosine similarity of the
    dense candidates: how close the knowledge base comes to the query at
    all), ``embed_model``, ``reranker``, ``seconds`` and ``timings``."""

    best_dense_score: float
    embed_model: str
    reranker: str
    seconds: float
    timings: SearchTimings

    def __init__(self, response: _ragd.SearchResponse):
        super().__init__(response.take_hits())
        self.best_dense_score = response.best_dense_score
        self.embed_model = response.embed_model
        self.reranker = response.reranker
        self.seconds = response.seconds
        self.timings = response.timings


class Engine:
    """One data directory (or PostgreSQL store) of knowledge bases, with the
    embedding model and, for answers, a chat model, loaded on first use.

    Args:
        data_dir: where knowledge bases live; default $RAGD_DATA_DIR, else
            ~/.local/share/ragd (the ``ragd`` command's default too).
        store: ``postgres://user@host:port/db`` to keep knowledge bases in
            PostgreSQL; default $RAGD_STORE_URL, else the data directory.
        embed_model: the embedder for new knowledge bases (a knowledge base
            keeps the one it was built with); default multilingual-e5-small.
        chat_model: the model that answers; default the packaged
            Qwen2.5-Coder 0.5B Instruct, in-process.
        reranker: a cross-encoder to rerank search results (optional).
        prompts_dir: a folder of prompt templates overriding the built-in ones.
        threads: CPU threads of local models (0 = all cores).

    Thread-safe: share one Engine between threads. Answers use the chat model
    one question at a time.
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, *, store: str | None = None,
                 embed_model: Model | str | None = None, chat_model: Model | str | None = None,
                 reranker: Model | str | None = None, prompts_dir: str | os.PathLike | None = None,
                 threads: int = 0):
        embed, chat = _as_model(embed_model)._native(), _as_model(chat_model)._native()
        rerank = _as_model(reranker)._native() if reranker is not None else None
        for o in (embed, chat, rerank):
            if o is not None and threads and not o.threads:
                o.threads = threads
        self._native = _ragd.Engine(
            os.fspath(data_dir) if data_dir is not None else "",
            store if store is not None else os.environ.get("RAGD_STORE_URL", ""),
            embed, chat, rerank,
            os.fspath(prompts_dir) if prompts_dir is not None else "")

    @property
    def data_dir(self) -> str:
        """The data directory (traces and the prompt cache live there with a PostgreSQL store)."""
        return self._native.data_dir

    @property
    def store(self) -> str:
        """Where knowledge bases are: the data directory or the database URL (no password)."""
        return self._native.store

    def knowledge_bases(self) -> list[KbInfo]:
        """Every knowledge base with its counts, by name."""
        return self._native.list_kbs()

    def open(self, name: str, *, create: bool = True) -> "KnowledgeBase":
        """The knowledge base ``name``; created empty when missing (unless
        ``create=False``: then :class:`NotFoundError`)."""
        try:
            self._native.check_kb(name)
        except NotFoundError:
            if not create:
                raise
            try:
                self._native.create_kb(name)
            except AlreadyExistsError:
                pass  # another thread or process created it meanwhile
        return KnowledgeBase(self, name)

    def create(self, name: str) -> "KnowledgeBase":
        """Creates an empty knowledge base; :class:`AlreadyExistsError` when it exists."""
        self._native.create_kb(name)
        return KnowledgeBase(self, name)

    def delete(self, name: str) -> None:
        """Deletes a knowledge base and everything in it."""
        self._native.delete_kb(name)

    def restore(self, backup: str | os.PathLike, name: str) -> "KnowledgeBase":
        """Restores a folder made by :meth:`KnowledgeBase.backup` as the new
        knowledge base ``name`` and verifies it."""
        self._native.restore_kb(os.fspath(backup), name)
        return KnowledgeBase(self, name)

    def summarize_file(self, path: str | os.PathLike, *, strategy: str = "auto", words: int = 150,
                       language: str = "auto", focus: str = "", max_tokens: int = 0,
                       progress: Callable[[str, int, int], Any] | None = None) -> Summary:
        """Summarises a file of any length (read as ingest reads it) with
        [n] citations of its parts; see :meth:`KnowledgeBase.summarize`."""
        return self._native.summarize("", "", os.fspath(path), strategy, words, language, focus, max_tokens,
                                      progress)

    def embed(self, texts: Sequence[str], *, query: bool = False) -> list[list[float]]:
        """Embeds texts with the engine's embedder (L2-normalised vectors).
        ``query=True`` embeds them as search queries (E5 models prefix
        queries and passages differently)."""
        kind = _ragd.EmbedKind.QUERY if query else _ragd.EmbedKind.PASSAGE
        return self._native.embed(list(texts), kind)

    @property
    def embed_model(self) -> str:
        """The embedder's id, e.g. ``multilingual-e5-small/384`` (loads it)."""
        return self._native.embed_model()

    @property
    def chat_model(self) -> str:
        """The chat model's name (the configured one until it is loaded)."""
        return self._native.chat_model


def open(name: str, data_dir: str | os.PathLike | None = None, *, create: bool = True,
         **engine_options: Any) -> "KnowledgeBase":
    """Opens (or creates) knowledge base ``name`` with an engine of its own;
    ``engine_options`` are :class:`Engine`'s (store, embed_model, chat_model...)."""
    return Engine(data_dir, **engine_options).open(name, create=create)


class KnowledgeBase:
    """A knowledge base: ingest documents, search them, ask questions about
    them. Get one from :func:`ragd.open` or :meth:`Engine.open`."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name
        self._e = engine._native

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.name!r}, store={self.engine.store!r})"

    # --- contents ---------------------------------------------------------

    def info(self) -> KbInfo:
        """Counts, size on disk, embedder, and the documents' scripts."""
        return self._e.get_kb(self.name)

    def __len__(self) -> int:
        """The number of documents."""
        return len(self.find())

    def documents(self) -> list[DocumentInfo]:
        """Every document, by id."""
        return self._e.list_documents(self.name)

    def document(self, doc_id: str) -> DocumentDetail:
        """A document with its metadata and chunks; :class:`NotFoundError` when absent."""
        return self._e.get_document(self.name, doc_id)

    def find(self, filter: FilterLike = None) -> list[str]:
        """The ids of the documents matching ``filter`` (as in :meth:`search`; None = all)."""
        return self._e.find_documents(self.name, _filters(filter))

    def delete(self, doc_ids: str | Iterable[str], *, missing_ok: bool = True) -> int:
        """Deletes documents by id; returns how many were deleted. Ids not
        there are skipped (or raise :class:`NotFoundError` with missing_ok=False)."""
        if isinstance(doc_ids, str):
            doc_ids = [doc_ids]
        n = 0
        for d in doc_ids:
            try:
                self._e.delete_document(self.name, d)
                n += 1
            except NotFoundError:
                if not missing_ok:
                    raise
        return n

    def settings(self) -> dict[str, str]:
        """Search defaults kept with the knowledge base (search.fusion, ...)."""
        return self._e.settings(self.name)

    def set_setting(self, key: str, value: str) -> None:
        """Sets a search default: search.fusion, search.lexical_weight, search.rrf_k, search.mmr_lambda."""
        self._e.set_setting(self.name, key, str(value))

    def tables(self) -> list[KbTable]:
        """The rows of the tabular documents (CSV, JSON records), as ingested."""
        return self._e.tables(self.name)

    def backup(self, dest: str | os.PathLike) -> None:
        """A consistent snapshot into the new folder ``dest`` (safe while
        others search or write); :meth:`Engine.restore` brings it back."""
        self._e.backup_kb(self.name, os.fspath(dest))

    def copy_to(self, to: str | os.PathLike, name: str | None = None) -> CopyReport:
        """Copies this knowledge base with its embeddings (nothing is
        re-embedded) into another store: a ``postgres://`` URL or a data
        directory, as ``name`` (default the same). The copy is checked."""
        return self._e.copy_kb(self.name, os.fspath(to), name or "")

    def reembed(self, embed_model: Model | str, *,
                progress: Callable[[IngestProgress], Any] | None = None) -> ReembedReport:
        """Switches to another embedder in place: every chunk embedded again
        in committed batches while searches keep using the old vectors; a
        stopped run resumes."""
        return self._e.reembed_kb(self.name, _as_model(embed_model)._native(), progress)

    def summarize(self, doc_id: str, *, strategy: str = "auto", words: int = 150, language: str = "auto",
                  focus: str = "", max_tokens: int = 0,
                  progress: Callable[[str, int, int], Any] | None = None) -> Summary:
        """Summarises one document of any length, citing its parts as [n].

        Args:
            doc_id: the document (see :meth:`documents`).
            strategy: "auto" (stuff when it fits, else map-reduce), "stuff",
                "map-reduce" or "refine".
            words: about this long (Chinese: characters).
            language: "auto" (the document's), "en" or "zh".
            focus: what to keep, e.g. "fees and penalties only".
            max_tokens: the final call's limit (0 = from words).
            progress: called with (stage, done, total) as parts are summarised.
        """
        return self._e.summarize(self.name, doc_id, "", strategy, words, language, focus, max_tokens, progress)

    def verify(self) -> None:
        """Checks documents, chunks and both indexes agree; :class:`CorruptionError` names the first disagreement."""
        self._e.verify_kb(self.name)

    # --- ingest -----------------------------------------------------------

    def ingest(self, paths: str | os.PathLike | Iterable[str | os.PathLike], *,
               metadata: Mapping[str, Any] | None = None, sync: bool = False, chunk_size: int = 0,
               chunk_overlap: int = -1, chunk_unit: str = "tokens", ocr: bool = True,
               progress: Callable[[IngestProgress], Any] | None = None) -> IngestReport:
        """Ingests files and folders (recursed): PDF, Word, PowerPoint, Excel,
        HTML, Markdown, text, CSV/JSON records, images (OCR).

        Unchanged files (by content hash) cost nothing; changed ones are
        replaced. One bad file does not stop the rest: it is listed in the
        report's ``failures`` with the reason.

        Args:
            paths: a file or folder, or several.
            metadata: attached to every document, filterable in searches.
            sync: also remove documents whose files under ``paths`` are gone.
            chunk_size: target chunk length (0 = 200 tokens / 1000 characters).
            chunk_overlap: shared between neighbouring chunks (-1 = 15 %).
            chunk_unit: "tokens" (the embedder's) or "chars".
            ocr: read scanned pages and images with Tesseract.
            progress: called with an :class:`IngestProgress` as files are done.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return self._e.ingest_files(self.name, [os.fspath(p) for p in paths], _metadata(metadata), sync,
                                    chunk_size, chunk_overlap, _unit(chunk_unit), ocr, progress)

    def add_texts(self, texts: Iterable[str], metadatas: Iterable[Mapping[str, Any] | None] | None = None,
                  ids: Iterable[str | None] | None = None, *, sources: Iterable[str] | None = None,
                  titles: Iterable[str] | None = None, chunk_size: int = 0, chunk_overlap: int = -1,
                  chunk_unit: str = "tokens",
                  progress: Callable[[IngestProgress], Any] | None = None) -> list[str]:
        """Ingests in-memory texts, one document each; returns their ids.

        An id given again replaces that document (same text: nothing to do);
        missing ids are made up (uuid4). ``sources`` are what citations show
        (default: the id). Long texts are split into chunks like files.
        """
        texts = list(texts)
        n = len(texts)
        metas = list(metadatas) if metadatas is not None else [None] * n
        idl = list(ids) if ids is not None else [None] * n
        srcs = list(sources) if sources is not None else [None] * n
        ttls = list(titles) if titles is not None else [""] * n
        for what, seq in (("metadatas", metas), ("ids", idl), ("sources", srcs), ("titles", ttls)):
            if len(seq) != n:
                raise InvalidArgumentError(f"{len(seq)} {what} for {n} texts")
        docs, out = [], []
        for text, meta, i, src, title in zip(texts, metas, idl, srcs, ttls):
            if not isinstance(text, str):
                raise InvalidArgumentError(f"texts are str, not {type(text).__name__}")
            doc_id = str(i) if i is not None else uuid.uuid4().hex
            out.append(doc_id)
            docs.append(_ragd.SourceDocument(doc_id, text, src if src is not None else doc_id, title or "",
                                             _metadata(meta)))
        if docs:
            self._e.ingest_documents(self.name, docs, chunk_size, chunk_overlap, _unit(chunk_unit), progress)
        return out

    # --- search -----------------------------------------------------------

    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, filter: FilterLike = None,
               fusion: str | None = None, lexical_weight: float | None = None, rrf_k: int | None = None,
               mmr: float | None = None, min_score: float | None = None, neighbors: int = 0,
               one_per_document: bool = False, rerank: bool = True, candidates: int = 0,
               query_vector: Sequence[float] | None = None, with_metadata: bool = False) -> Hits:
        """Searches the knowledge base; returns up to ``k`` :class:`Hit`, best first.

        Args:
            query: the question or keywords (any language).
            mode: "hybrid" (BM25 and vectors fused, the default), "bm25" or "dense".
            k: how many hits.
            filter: conditions on the hits' documents, applied inside the
                search (so k hits come back whenever k match):
                ``"type=pdf"``, ``["year>=2020", "team=cards"]``,
                ``{"team": "cards", "year": (">=", 2020)}``. Keys: source,
                doc_id, type, modified, ingested, or metadata given at ingest.
            fusion: hybrid merge, "zscore" (default), "minmax", "rrf" or "dispersion".
            lexical_weight: BM25's weight in the fusion, 0..1.
            rrf_k: the RRF constant.
            mmr: MMR diversity lambda 0..1 (1 = relevance only).
            min_score: drop hits scoring below this.
            neighbors: also give each hit's n neighbouring chunks, merged, in ``hit.context``.
            one_per_document: the best chunk of each document only.
            rerank: rerank with the engine's reranker, when it has one.
            candidates: taken from each list before fusion (0 = max(100, 2k)).
            query_vector: search with this vector (from :meth:`Engine.embed`
                with query=True) instead of embedding ``query``; in dense
                mode ``query`` may then be "".
            with_metadata: fill each hit's ``metadata`` with its document's.

        The returned list also carries ``best_dense_score``, ``seconds`` and ``timings``.
        """
        o = _ragd.SearchOptions()
        o.kb = self.name
        o.query = query
        o.mode = _MODES.get(mode) or _ragd.parse_search_mode(mode)
        o.k = k
        if filter is not None:
            o.filters = _filters(filter)
        if fusion is not None:
            o.fusion = _ragd.parse_fusion(fusion)
        if lexical_weight is not None:
            o.lexical_weight = lexical_weight
        if rrf_k is not None:
            o.rrf_k = rrf_k
        if mmr is not None:
            o.mmr_lambda = mmr
        if min_score is not None:
            o.min_score = min_score
        # Only what differs from the defaults: each field set is a call into C++.
        if neighbors:
            o.neighbors = neighbors
        if one_per_document:
            o.one_per_document = True
        if not rerank:
            o.rerank = False
        if candidates:
            o.candidates = candidates
        if query_vector is not None:
            o.query_vector = list(query_vector)
        if with_metadata:
            o.with_metadata = True
        return Hits(self._e.search(o))

    # --- answers ----------------------------------------------------------

    def ask(self, question: str, *, stream: bool = False, k: int = 4, mode: str = "hybrid",
            filter: FilterLike = None, min_score: float | None = None, strategy: str = "stuff",
            neighbors: int = 0, check_sources: bool = False, context_budget: int = 0,
            no_retrieval: bool = False, rerank: bool = True, temperature: float = 0.0,
            max_tokens: int = 512, seed: int = -1, stop: Sequence[str] | None = None,
            json_schema: str | None = None) -> Answer | AnswerStream:
        """Answers a question from the knowledge base, citing its sources as [n].

        When the sources do not say, the answer is a refusal (``found`` is
        False, ``refusal_reason`` says why) rather than a guess.

        Args:
            question: in English or Chinese (the answer follows its language).
            stream: return an :class:`AnswerStream`: iterate it for the
                answer's pieces as they are generated; its ``answer`` is the
                whole :class:`Answer` at the end. Dropping it stops generation.
            k: sources retrieved.
            mode, filter: as in :meth:`search`.
            min_score: refuse when the best dense candidate's cosine
                similarity is below this (default: calibrated for the
                embedder; negative = never).
            strategy: "stuff" (all sources in one prompt), "map_reduce" or "refine".
            neighbors: each source with its n neighbouring chunks.
            check_sources: first ask the model whether the sources state the answer.
            context_budget: tokens for the sources (0 = the model's default).
            no_retrieval: talk to the model directly.
            temperature, max_tokens, seed, stop: generation (greedy by default).
            json_schema: make the answer JSON following this schema (text).
        """
        o = self._ask_options(k=k, mode=mode, filter=filter, min_score=min_score, strategy=strategy,
                              neighbors=neighbors, check_sources=check_sources, context_budget=context_budget,
                              no_retrieval=no_retrieval, rerank=rerank, temperature=temperature,
                              max_tokens=max_tokens, seed=seed, stop=stop, json_schema=json_schema)
        if stream:
            return self._e.ask_stream(question, o)
        return self._e.ask(question, o)

    def chat(self, session_id: str | None = None, *, memory: str = "window", window: int = 4) -> "Chat":
        """A conversation kept in the knowledge base: follow-up questions are
        understood in context. ``session_id`` continues a stored one (any
        process, any machine sharing the store); None starts a new one on
        the first question. ``memory``: "window" (the last ``window`` turns),
        "buffer" (all) or "summary" (a running summary)."""
        return Chat(self, session_id, _ragd.parse_memory(memory), window)

    def sessions(self) -> list[Session]:
        """The knowledge base's chat sessions, newest first."""
        return self._e.list_sessions(self.name)

    def delete_session(self, session_id: str) -> None:
        """Deletes a chat session; :class:`NotFoundError` when absent."""
        self._e.delete_session(self.name, session_id)

    def _ask_options(self, *, k: int, mode: str, filter: FilterLike, min_score: float | None, strategy: str,
                     neighbors: int, check_sources: bool, context_budget: int, no_retrieval: bool, rerank: bool,
                     temperature: float, max_tokens: int, seed: int, stop: Sequence[str] | None,
                     json_schema: str | None) -> _ragd.AskOptions:
        if not 1 <= k <= 100:
            raise InvalidArgumentError("k must be between 1 and 100")
        o = _ragd.AskOptions()
        o.kb = self.name
        o.mode = _MODES.get(mode) or _ragd.parse_search_mode(mode)
        o.k = k
        if min_score is not None:
            o.min_score = min_score
        o.strategy = _ragd.parse_strategy(strategy)
        o.neighbors = neighbors
        o.check_sources = check_sources
        o.context_budget = context_budget
        o.no_retrieval = no_retrieval
        o.rerank = rerank
        if filter is not None:
            o.filters = _filters(filter)
        g = o.generate
        g.temperature = temperature
        g.max_tokens = max_tokens
        g.seed = seed
        if stop:
            g.stop = list(stop)
        if json_schema:
            g.json_schema = json_schema
        o.generate = g
        return o


class Chat:
    """A conversation over a knowledge base (:meth:`KnowledgeBase.chat`).
    Each :meth:`ask` is a turn: the question is condensed with the memory,
    answered from the sources, and the session is saved."""

    def __init__(self, kb: KnowledgeBase, session_id: str | None, memory: Any, window: int):
        self.kb = kb
        self.id: str | None = session_id
        self._memory = memory
        self._window = window
        if session_id:
            kb._e.load_session(kb.name, session_id)  # NotFoundError now, not at the first question

    def ask(self, question: str, *, stream: bool = False, **options: Any) -> Answer | AnswerStream:
        """One turn; options as :meth:`KnowledgeBase.ask`'s. With
        ``stream=True`` the turn is saved when the stream ends."""
        defaults = dict(k=4, mode="hybrid", filter=None, min_score=None, strategy="stuff", neighbors=0,
                        check_sources=False, context_budget=0, no_retrieval=False, rerank=True, temperature=0.0,
                        max_tokens=512, seed=-1, stop=None, json_schema=None)
        unknown = set(options) - set(defaults)
        if unknown:
            raise InvalidArgumentError(f"unknown option(s) {sorted(unknown)}; known: {sorted(defaults)}")
        defaults.update(options)
        o = self.kb._ask_options(**defaults)
        if stream:
            s = self.kb._e.chat_turn_stream(self.id or "", self._memory, self._window, question, o)
            self.id = s.session_id
            return s
        answer, session = self.kb._e.chat_turn(self.id or "", self._memory, self._window, question, o)
        self.id = session.id
        return answer

    @property
    def session(self) -> Session:
        """The stored session (turns, memory); :class:`NotFoundError` before the first turn."""
        if not self.id:
            raise NotFoundError("this chat has no session yet: ask a first question")
        return self.kb._e.load_session(self.kb.name, self.id)

    @property
    def turns(self) -> list[Turn]:
        """The questions and answers so far."""
        return self.session.turns if self.id else []


_MODES = {"hybrid": _ragd.SearchMode.HYBRID, "bm25": _ragd.SearchMode.BM25, "dense": _ragd.SearchMode.DENSE}
_UNITS = {"tokens": _ragd.ChunkUnit.TOKENS, "chars": _ragd.ChunkUnit.CHARS}


def _unit(name: str) -> Any:
    try:
        return _UNITS[name]
    except KeyError:
        raise InvalidArgumentError(f"chunk_unit is 'tokens' or 'chars', not {name!r}") from None


def default_data_dir() -> str:
    """$RAGD_DATA_DIR, else $XDG_DATA_HOME/ragd, else ~/.local/share/ragd."""
    return _ragd.default_data_dir()


def model_search_path() -> list[str]:
    """Folders searched for packaged models, first match wins: $RAGD_MODELS_DIR,
    a .deps/models above the module (a source checkout), $XDG_DATA_HOME/ragd/models
    (else ~/.local/share/ragd/models)."""
    return _ragd.model_search_path()


__all__ = [
    "Answer", "AnswerStream", "Chat", "CopyReport", "DocumentDetail", "DocumentInfo", "Engine", "FilterCondition", "Hit", "Hits",
    "IngestProgress", "IngestReport", "KbInfo", "KbTable", "KnowledgeBase", "Model", "ReembedReport", "SearchTimings",
    "Session", "Source", "Summary", "SummaryPart", "Turn",
    "default_data_dir", "model_search_path", "open",
    "Error", "NotFoundError", "InvalidArgumentError", "AlreadyExistsError", "UnavailableError", "StorageError",
    "CorruptionError", "CancelledError", "InternalError",
]
