"""ragd.llama_index, tested the way LangChain's standard tests test a vector
store and a retriever (LlamaIndex publishes no such suite): an empty store,
add, search order, delete by ref_doc_id and by node, idempotent re-adds,
get by id, metadata filters, and a VectorStoreIndex end to end."""

import uuid

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import NodeRelationship, QueryBundle, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

import ragd
from ragd.llama_index import RagdEmbedding, RagdRetriever, RagdVectorStore


@pytest.fixture
def store(engine):
    return RagdVectorStore("li-" + uuid.uuid4().hex[:12], engine=engine)


def node(id_, text, ref=None, **meta):
    n = TextNode(id_=id_, text=text, metadata=meta)
    if ref:
        n.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=ref)
    return n


def ids(result):
    return [n.node_id for n in result.nodes]


def test_empty_store_returns_nothing(store):
    assert ids(store.query(VectorStoreQuery(query_str="foo", similarity_top_k=1))) == []


def test_add_and_query_in_order(store):
    assert store.add([node("1", "foo", a=1), node("2", "bar", a=2)]) == ["1", "2"]
    r = store.query(VectorStoreQuery(query_str="bar", similarity_top_k=2))
    assert ids(r) == ["2", "1"]
    assert r.nodes[0].get_content() == "bar" and r.nodes[0].metadata == {"a": 2}  # types come back
    assert r.similarities[0] >= r.similarities[1]


def test_modes(store):
    store.add([node("p", "Platinum card annual fee 1200 yuan"), node("l", "Report a lost card at 95588")])
    for mode in (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SPARSE):
        r = store.query(VectorStoreQuery(query_str="lost card hotline", similarity_top_k=1, mode=mode))
        assert ids(r) == ["l"], mode
    emb = RagdEmbedding(store.client.engine).get_query_embedding("platinum annual fee")
    assert ids(store.query(VectorStoreQuery(query_embedding=emb, similarity_top_k=1))) == ["p"]


def test_delete_by_ref_doc_and_nodes(store):
    store.add([node("1", "foo", ref="doc-a"), node("2", "bar", ref="doc-a"), node("3", "baz", ref="doc-b")])
    store.delete("doc-a")
    assert ids(store.query(VectorStoreQuery(query_str="foo", similarity_top_k=3))) == ["3"]
    store.delete("no-such-doc")  # deleting what is not there is not an error
    store.add([node("4", "qux")])
    store.delete_nodes(["3"])
    assert [n.node_id for n in store.get_nodes()] == ["4"]
    store.clear()
    assert store.get_nodes() == []


def test_re_adding_replaces(store):
    store.add([node("1", "foo", v=1), node("2", "bar")])
    store.add([node("1", "new foo", v=2)])
    r = store.query(VectorStoreQuery(query_str="new foo", similarity_top_k=2))
    assert ids(r) == ["1", "2"] and r.nodes[0].get_content() == "new foo" and r.nodes[0].metadata == {"v": 2}


def test_get_nodes_by_id(store):
    store.add([node("1", "foo", k="x"), node("2", "bar", k="y")])
    got = store.get_nodes(["2", "1", "missing"])
    assert [(n.node_id, n.get_content(), n.metadata) for n in got] == [("2", "bar", {"k": "y"}), ("1", "foo", {"k": "x"})]


def test_metadata_filters(store):
    store.add([node("a", "card fee", team="cards", year=2024), node("b", "card loss", team="cards", year=2025),
               node("c", "deposit rate", team="deposits", year=2025)])
    f = MetadataFilters(filters=[MetadataFilter(key="team", value="cards"),
                                 MetadataFilter(key="year", value=2025, operator=FilterOperator.GTE)])
    assert ids(store.query(VectorStoreQuery(query_str="card", similarity_top_k=3, filters=f))) == ["b"]
    assert [n.node_id for n in store.get_nodes(filters=f)] == ["b"]
    with pytest.raises(ragd.InvalidArgumentError, match="AND only"):
        store.query(VectorStoreQuery(query_str="card", filters=MetadataFilters(
            filters=[MetadataFilter(key="team", value="x"), MetadataFilter(key="team", value="y")], condition="or")))
    with pytest.raises(ragd.InvalidArgumentError, match="not supported"):
        store.query(VectorStoreQuery(query_str="card", filters=MetadataFilters(
            filters=[MetadataFilter(key="team", value=["x"], operator=FilterOperator.IN)])))


def test_vector_store_index_end_to_end(engine):
    store = RagdVectorStore("li-" + uuid.uuid4().hex[:12], engine=engine)
    nodes = [node("wire", "International wire transfers take 1 to 3 working days."),
             node("fee", "The Platinum card's annual fee is 1200 yuan.")]
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                             embed_model=RagdEmbedding(engine))
    got = index.as_retriever(similarity_top_k=1).retrieve("How long does a wire abroad take?")
    assert [n.node.node_id for n in got] == ["wire"]


def test_retriever_over_ingested_files(bank):
    r = RagdRetriever(bank, k=3)
    got = r.retrieve(QueryBundle("挂失银行卡要打哪个电话？"))
    assert len(got) == 3 and got[0].score >= got[-1].score
    assert any("400-820-6688" in n.node.get_content() for n in got)
    assert got[0].node.metadata["source"]
