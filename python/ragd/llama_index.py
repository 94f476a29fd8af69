"""ragd for LlamaIndex (``pip install ragd[llamaindex]``).

- :class:`RagdVectorStore`: a ``BasePydanticVectorStore`` kept in a ragd
  knowledge base; it stores the nodes' text and embeds and searches it
  itself (hybrid by default), so queries need no embedding model.
- :class:`RagdRetriever`: a ``BaseRetriever`` over any knowledge base.
- :class:`RagdEmbedding`: ragd's embedder as a LlamaIndex embedding model.

    >>> store = RagdVectorStore(knowledge_base="notes")
    >>> index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
    ...                          embed_model=RagdEmbedding())
    >>> index.as_retriever(similarity_top_k=4).retrieve("annual fee")
"""

from __future__ import annotations

import json
from typing import Any, List, Optional, Sequence

try:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import BaseNode, MetadataMode, NodeWithScore, QueryBundle, TextNode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        FilterCondition,
        FilterOperator,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
    from pydantic import PrivateAttr
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError("ragd.llama_index needs llama-index-core: pip install 'ragd[llamaindex]'") from e

import ragd
from ragd._integration import existing_documents, open_knowledge_base, scalar_metadata

#: Where a node is kept whole (LlamaIndex's own node_to_metadata_dict, as
#: JSON, without its text: ragd has that). Scalar metadata entries and
#: ref_doc_id are also ragd metadata of their own, for filters and delete.
NODE_KEY = "li.node"

_OPS = {FilterOperator.EQ: "=", FilterOperator.NE: "!=", FilterOperator.GT: ">", FilterOperator.GTE: ">=",
        FilterOperator.LT: "<", FilterOperator.LTE: "<="}


def _filters(filters: Optional[MetadataFilters]) -> list[str]:
    """LlamaIndex's metadata filters as ragd's ("key op value"); ragd ANDs
    its conditions, so OR and the list operators are refused."""
    if filters is None:
        return []
    if filters.condition not in (None, FilterCondition.AND) and len(filters.filters) > 1:
        raise ragd.InvalidArgumentError(f"ragd combines filters with AND only, not {filters.condition.value}")
    out = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            if f.condition not in (None, FilterCondition.AND) and len(f.filters) > 1:
                raise ragd.InvalidArgumentError("ragd combines filters with AND only")
            out += _filters(f)
            continue
        op = _OPS.get(f.operator)
        if op is None:
            raise ragd.InvalidArgumentError(
                f"filter operator {f.operator.value!r} is not supported (ragd has ==, !=, <, <=, >, >=)")
        value = ("true" if f.value else "false") if isinstance(f.value, bool) else str(f.value)
        out.append(f"{f.key}{op}{value}")
    return out


def _node(hit_or_doc_text: str, stored: dict[str, str], fallback_id: str, extra: dict[str, Any]) -> BaseNode:
    if NODE_KEY in stored:
        return metadata_dict_to_node(json.loads(stored[NODE_KEY]), text=hit_or_doc_text)
    meta = {k: v for k, v in stored.items()}
    meta.update(extra)
    return TextNode(id_=fallback_id, text=hit_or_doc_text, metadata=meta)


def _hit_node(h: Any) -> NodeWithScore:
    extra = {"source": h.source, "doc_id": h.doc_id, "label": h.label}
    if h.page:
        extra["page"] = h.page
    # Files ragd ingested: one node per chunk, named after its document.
    return NodeWithScore(node=_node(h.text, h.metadata, f"{h.doc_id}#{h.chunk_index}", extra), score=h.score)


class RagdVectorStore(BasePydanticVectorStore):
    """LlamaIndex nodes in a ragd knowledge base: one ragd document per node
    (its ``node_id`` the document id), searched by ragd (``mode``: hybrid,
    dense or bm25). ragd embeds the nodes' text with the knowledge base's
    embedder; a query with text is searched as text, one with only an
    embedding (from :class:`RagdEmbedding`) by that vector."""

    stores_text: bool = True
    is_embedding_query: bool = False
    flat_metadata: bool = False
    mode: str = "hybrid"

    _kb: Any = PrivateAttr()

    def __init__(self, knowledge_base: Any = "llama_index", *, engine: Optional[ragd.Engine] = None,
                 mode: str = "hybrid", **kwargs: Any):
        super().__init__(mode=mode, **kwargs)
        self._kb = open_knowledge_base(knowledge_base, engine)

    @classmethod
    def class_name(cls) -> str:
        return "RagdVectorStore"

    @property
    def client(self) -> ragd.KnowledgeBase:
        return self._kb

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> List[str]:
        texts, metas, ids = [], [], []
        for n in nodes:
            stored = node_to_metadata_dict(n, remove_text=True, flat_metadata=False)
            meta = scalar_metadata(n.metadata, skip=("source", "doc_id"))
            meta[NODE_KEY] = json.dumps(stored, ensure_ascii=False)
            if n.ref_doc_id:
                meta["ref_doc_id"] = n.ref_doc_id
            texts.append(n.get_content(metadata_mode=MetadataMode.NONE))
            metas.append(meta)
            ids.append(n.node_id)
        return self._kb.add_texts(texts, metas, ids)

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._kb.delete(self._kb.find({"ref_doc_id": ref_doc_id}))

    def delete_nodes(self, node_ids: Optional[List[str]] = None, filters: Optional[MetadataFilters] = None,
                     **delete_kwargs: Any) -> None:
        ids = set(self._kb.find(_filters(filters))) if filters is not None else None
        if node_ids is not None:
            ids = set(node_ids) if ids is None else ids & set(node_ids)
        if ids is None:
            raise ragd.InvalidArgumentError("delete_nodes needs node_ids or filters (clear() deletes everything)")
        self._kb.delete(sorted(ids))

    def clear(self) -> None:
        self._kb.delete(self._kb.find())

    def get_nodes(self, node_ids: Optional[List[str]] = None,
                  filters: Optional[MetadataFilters] = None) -> List[BaseNode]:
        allowed = set(self._kb.find(_filters(filters))) if filters is not None else None
        ids = node_ids if node_ids is not None else self._kb.find()
        ids = [i for i in ids if allowed is None or i in allowed]
        return [_node(text, d.info.metadata, i, {"source": d.info.source})
                for i, d, text in existing_documents(self._kb, ids)]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.node_ids or query.doc_ids:
            raise ragd.InvalidArgumentError("ragd's store does not restrict a query to node_ids or doc_ids; "
                                            "use filters on metadata")
        mode = {VectorStoreQueryMode.HYBRID: "hybrid", VectorStoreQueryMode.SEMANTIC_HYBRID: "hybrid",
                VectorStoreQueryMode.SPARSE: "bm25", VectorStoreQueryMode.TEXT_SEARCH: "bm25"}.get(query.mode, self.mode)
        options: dict[str, Any] = {}
        if query.alpha is not None and mode == "hybrid":
            options["lexical_weight"] = 1.0 - query.alpha  # LlamaIndex's alpha: 1 = vectors only
        if query.mode == VectorStoreQueryMode.MMR:
            options["mmr"] = query.mmr_threshold if query.mmr_threshold is not None else 0.5
        text = query.query_str or ""
        if not text.strip():
            if query.query_embedding is None:
                raise ragd.InvalidArgumentError("the query has neither text nor an embedding")
            mode, options["query_vector"] = "dense", query.query_embedding
        hits = self._kb.search(text, k=query.similarity_top_k, mode=mode, filter=_filters(query.filters),
                               one_per_document=True, with_metadata=True, **options)
        nodes = [_hit_node(h) for h in hits]
        return VectorStoreQueryResult(nodes=[n.node for n in nodes], similarities=[n.score for n in nodes],
                                      ids=[n.node.node_id for n in nodes])


class RagdRetriever(BaseRetriever):
    """Retrieves nodes from a ragd knowledge base (any: files ragd ingested
    become one node per chunk). ``k``, ``mode`` and ``filter`` are
    ``KnowledgeBase.search``'s; more options go in ``search_kwargs``."""

    def __init__(self, knowledge_base: Any, *, k: int = 4, mode: str = "hybrid", filter: Any = None,
                 engine: Optional[ragd.Engine] = None, **search_kwargs: Any):
        super().__init__()
        self.kb = open_knowledge_base(knowledge_base, engine)
        self.k, self.mode, self.filter, self.search_kwargs = k, mode, filter, search_kwargs

    def _retrieve(self, query_bundle: QueryBundle) -> List[NodeWithScore]:
        hits = self.kb.search(query_bundle.query_str, k=self.k, mode=self.mode, filter=self.filter,
                              with_metadata=True, **self.search_kwargs)
        return [_hit_node(h) for h in hits]


class RagdEmbedding(BaseEmbedding):
    """ragd's embedder (multilingual-e5-small by default, in-process) for LlamaIndex."""

    _engine: Any = PrivateAttr()

    def __init__(self, engine: Optional[ragd.Engine] = None, **kwargs: Any):
        engine = engine or ragd.Engine()
        super().__init__(model_name=engine.embed_model, **kwargs)
        self._engine = engine

    @classmethod
    def class_name(cls) -> str:
        return "RagdEmbedding"

    def _get_query_embedding(self, query: str) -> List[float]:
        return self._engine.embed([query], query=True)[0]

    async def _aget_query_embedding(self, query: str) -> List[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> List[float]:
        return self._engine.embed([text])[0]

    def _get_text_embeddings(self, texts: List[str]) -> List[List[float]]:
        return self._engine.embed(texts)


__all__ = ["RagdEmbedding", "RagdRetriever", "RagdVectorStore", "NODE_KEY"]
