"""ragd for LangChain (``pip install ragd[langchain]``).

- :class:`RagdVectorStore`: a LangChain ``VectorStore`` kept in a ragd
  knowledge base (hybrid BM25 + vector search, filters, persistence).
- :class:`RagdRetriever`: a ``BaseRetriever`` over any knowledge base,
  with ragd's search modes and filters.
- :class:`RagdEmbeddings`: ragd's embedder as LangChain ``Embeddings``.
- :class:`ChatRagd`: ragd's chat model (local llama.cpp, or a server) as a
  LangChain chat model.

Moving from FAISS (docs/PYTHON.md)::

    # before: vs = FAISS.from_documents(chunks, HuggingFaceEmbeddings(...))
    vs = RagdVectorStore.from_documents(chunks, knowledge_base="notes")
    retriever = vs.as_retriever(search_kwargs={"k": 4})
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Sequence

try:
    from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.vectorstores import VectorStore
    from pydantic import ConfigDict
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError("ragd.langchain needs langchain-core: pip install 'ragd[langchain]'") from e

import ragd
from ragd import _ragd
from ragd._integration import existing_documents, open_knowledge_base, scalar_metadata

#: Where a LangChain document's metadata is kept whole, as JSON (so types
#: round-trip: {"id": 1} comes back as an int). Scalar entries are also
#: stored as ragd metadata of their own, which filters use.
METADATA_KEY = "lc.metadata"


def _ragd_metadata(meta: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """A LangChain metadata dict as (source, ragd metadata): the whole dict as
    JSON, plus each scalar entry ragd accepts as a key of its own."""
    out = scalar_metadata(meta or {}, skip=("source",))
    if meta:
        try:
            out[METADATA_KEY] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        except TypeError as e:
            raise ragd.InvalidArgumentError(f"metadata must be JSON-serialisable: {e}") from None
    source = meta.get("source") if meta else None
    return (str(source) if source is not None else None), out


def _langchain_metadata(stored: dict[str, str], hit: Any = None) -> dict[str, Any]:
    """The metadata a document was added with, or for documents ragd ingested
    from files, ragd's own (source, page, heading...)."""
    if METADATA_KEY in stored:
        return json.loads(stored[METADATA_KEY])
    meta: dict[str, Any] = dict(stored)
    if hit is not None:
        meta.update(source=hit.source, doc_id=hit.doc_id, chunk_id=hit.chunk_id, label=hit.label)
        if hit.page:
            meta["page"] = hit.page
        if hit.heading_path:
            meta["heading_path"] = hit.heading_path
        if hit.row:
            meta["row"] = hit.row
    return meta


def hit_to_document(hit: Any) -> Document:
    """A ragd :class:`ragd.Hit` (searched with_metadata=True) as a LangChain Document."""
    return Document(page_content=hit.text, metadata=_langchain_metadata(hit.metadata, hit), id=hit.doc_id)


class RagdEmbeddings(Embeddings):
    """ragd's embedder (multilingual-e5-small by default, in-process) as
    LangChain ``Embeddings``."""

    def __init__(self, engine: ragd.Engine | None = None):
        self.engine = engine or ragd.Engine()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.engine.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.engine.embed([text], query=True)[0]


class RagdVectorStore(VectorStore):
    """A LangChain vector store kept in a ragd knowledge base.

    Each LangChain ``Document`` is one ragd document (its ``id`` the
    document id; a long one is split into chunks and found by its best
    chunk). ragd embeds with the knowledge base's own embedder, so the
    ``embedding`` LangChain passes to ``from_texts`` is not used: vectors
    from another model would not match the stored ones.

    Args:
        knowledge_base: a :class:`ragd.KnowledgeBase` or a name (created when missing).
        engine: the :class:`ragd.Engine` for a name (default ``ragd.Engine()``).
        mode: "hybrid" (default), "dense" or "bm25".
    """

    def __init__(self, knowledge_base: ragd.KnowledgeBase | str, *, engine: ragd.Engine | None = None,
                 mode: str = "hybrid"):
        self.kb = open_knowledge_base(knowledge_base, engine)
        self.mode = mode

    @property
    def embeddings(self) -> Embeddings:
        return RagdEmbeddings(self.kb.engine)

    def add_texts(self, texts: Iterable[str], metadatas: Optional[list[dict]] = None, *,
                  ids: Optional[list[Optional[str]]] = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        metadatas = list(metadatas) if metadatas is not None else [{} for _ in texts]
        sources, metas = [], []
        for m in metadatas:
            s, r = _ragd_metadata(m or {})
            sources.append(s)
            metas.append(r)
        ids_in = list(ids) if ids is not None else [None] * len(texts)
        # A document's source (what citations show) is its metadata's "source", else its id.
        return self.kb.add_texts(texts, metas, ids_in, sources=sources)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        if "ids" not in kwargs:
            kwargs["ids"] = [d.id for d in documents]
        return self.add_texts([d.page_content for d in documents], [d.metadata for d in documents], **kwargs)

    def delete(self, ids: Optional[list[str]] = None, **kwargs: Any) -> Optional[bool]:
        # None deletes every document (LangChain's contract); the knowledge base stays.
        self.kb.delete(self.kb.find() if ids is None else ids)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [Document(page_content=text, metadata=_langchain_metadata(d.info.metadata), id=i)
                for i, d, text in existing_documents(self.kb, ids)]

    def _search(self, query: str, k: int, filter: Any = None, **kwargs: Any) -> list[Any]:
        if k <= 0:
            return []
        return self.kb.search(query, k=k, mode=kwargs.pop("mode", self.mode), filter=filter, one_per_document=True,
                              with_metadata=True, **kwargs)

    def similarity_search(self, query: str, k: int = 4, filter: Any = None, **kwargs: Any) -> list[Document]:
        return [hit_to_document(h) for h in self._search(query, k, filter, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        return [(hit_to_document(h), h.score) for h in self._search(query, k, filter, **kwargs)]

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                 **kwargs: Any) -> list[tuple[Document, float]]:
        # Relevance in [0, 1]: the cosine similarity to the query, whatever the fusion scored.
        hits = self._search(query, k, kwargs.pop("filter", None), mode="dense", **kwargs)
        return [(hit_to_document(h), max(0.0, min(1.0, h.dense_score))) for h in hits]

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, filter: Any = None,
                                    **kwargs: Any) -> list[Document]:
        if k <= 0:
            return []
        hits = self.kb.search("", mode="dense", k=k, filter=filter, query_vector=embedding, one_per_document=True,
                              with_metadata=True, **kwargs)
        return [hit_to_document(h) for h in hits]

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Optional[Embeddings] = None,
                   metadatas: Optional[list[dict]] = None, *, ids: Optional[list[str]] = None,
                   knowledge_base: ragd.KnowledgeBase | str = "langchain", engine: ragd.Engine | None = None,
                   mode: str = "hybrid", **kwargs: Any) -> "RagdVectorStore":
        store = cls(knowledge_base, engine=engine, mode=mode)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(cls, documents: list[Document], embedding: Optional[Embeddings] = None,
                       **kwargs: Any) -> "RagdVectorStore":
        store = cls(kwargs.pop("knowledge_base", "langchain"), engine=kwargs.pop("engine", None),
                    mode=kwargs.pop("mode", "hybrid"))
        store.add_documents(documents, **kwargs)
        return store


class RagdRetriever(BaseRetriever):
    """Retrieves from a ragd knowledge base: hybrid, BM25 or dense, with
    filters. Each hit is a Document: the chunk's text, its document's
    metadata (or, for files ragd ingested, source, page, heading_path,
    label), ``score`` and the document id as ``id``.

    >>> retriever = RagdRetriever(knowledge_base=ragd.open("bank"), k=4)
    >>> retriever.invoke("annual fee", k=2, filter="type=pdf")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge_base: Any
    """A :class:`ragd.KnowledgeBase` (or its name, opened with ``ragd.Engine()``)."""
    k: int = 4
    mode: str = "hybrid"
    filter: Any = None
    """As ``KnowledgeBase.search``'s: "type=pdf", a list, or a dict."""
    search_kwargs: dict = {}
    """More ``KnowledgeBase.search`` options (fusion, mmr, neighbors...)."""

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        kb = open_knowledge_base(self.knowledge_base, None)
        options = {**self.search_kwargs, **kwargs}
        hits = kb.search(query, k=options.pop("k", self.k), mode=options.pop("mode", self.mode),
                         filter=options.pop("filter", self.filter), with_metadata=True, **options)
        docs = []
        for h in hits:
            d = hit_to_document(h)
            d.metadata["score"] = h.score
            docs.append(d)
        return docs


class ChatRagd(BaseChatModel):
    """ragd's chat model as a LangChain chat model: by default the packaged
    Qwen2.5-Coder 0.5B Instruct in-process; any ``ragd.Model`` through the
    engine (``ragd.Engine(chat_model=ragd.Model.openai(...))``).

    >>> llm = ChatRagd()
    >>> llm.invoke("Say hello").content
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Any = None
    """A :class:`ragd.Engine` (default ``ragd.Engine()``); its chat model answers."""
    temperature: float = 0.0
    max_tokens: int = 512

    @property
    def _llm_type(self) -> str:
        return "ragd"

    def _engine(self) -> ragd.Engine:
        if self.engine is None:
            self.engine = ragd.Engine()
        return self.engine

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        roles = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool", "chat": "user"}
        turns = []
        for m in messages:
            content = m.content if isinstance(m.content, str) else "".join(
                p.get("text", "") if isinstance(p, dict) else str(p) for p in m.content)
            turns.append((roles.get(m.type, "user"), content))
        g = _ragd.GenerateOptions()
        g.temperature = kwargs.get("temperature", self.temperature)
        g.max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if stop:
            g.stop = list(stop)
        r = self._engine()._native.complete(turns, g)
        msg = AIMessage(content=r.text, response_metadata={"finish_reason": r.finish_reason,
                                                           "model_name": self._engine().chat_model},
                        usage_metadata={"input_tokens": r.prompt_tokens, "output_tokens": r.completion_tokens,
                                        "total_tokens": r.prompt_tokens + r.completion_tokens})
        return ChatResult(generations=[ChatGeneration(message=msg)])


__all__ = ["ChatRagd", "RagdEmbeddings", "RagdRetriever", "RagdVectorStore", "hit_to_document", "METADATA_KEY"]
