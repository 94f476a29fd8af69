"""ragd.langchain against LangChain's own standard tests (langchain-tests),
plus what those do not cover: filters, scores, file-ingested knowledge
bases, the chat model."""

import uuid

import pytest
from langchain_core.documents import Document
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_tests.integration_tests import RetrieversIntegrationTests, VectorStoreIntegrationTests

from ragd.langchain import ChatRagd, RagdEmbeddings, RagdRetriever, RagdVectorStore


class TestRagdVectorStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, engine):
        """An empty store: a knowledge base of its own."""
        return RagdVectorStore("lc-" + uuid.uuid4().hex[:12], engine=engine)


class TestRagdRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bank(self, bank):
        self.__class__._kb = bank

    @property
    def retriever_constructor(self):
        return RagdRetriever

    @property
    def retriever_constructor_params(self):
        return {"knowledge_base": self._kb}

    @property
    def retriever_query_example(self):
        return "What is the annual fee for the Platinum credit card?"


def test_filters_and_scores(engine):
    store = RagdVectorStore("lc-" + uuid.uuid4().hex[:12], engine=engine)
    store.add_documents([
        Document(page_content="Platinum card: annual fee 1200 yuan.", metadata={"team": "cards", "year": 2024}),
        Document(page_content="Lost card hotline 95588.", metadata={"team": "cards", "year": 2025}),
        Document(page_content="Fixed deposit early withdrawal rules.", metadata={"team": "deposits", "year": 2025}),
    ], ids=["p", "l", "d"])
    docs = store.similarity_search("annual fee", k=3, filter={"team": "cards", "year": (">=", 2025)})
    assert [d.id for d in docs] == ["l"]
    assert docs[0].metadata == {"team": "cards", "year": 2025}  # types come back
    scored = store.similarity_search_with_relevance_scores("what is the platinum annual fee", k=3)
    assert scored[0][0].id == "p" and 0 <= scored[-1][1] <= scored[0][1] <= 1
    by_vector = store.similarity_search_by_vector(RagdEmbeddings(engine).embed_query("lost card phone number"), k=1)
    assert [d.id for d in by_vector] == ["l"]
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert retriever.invoke("deposit withdrawal")[0].id == "d"


def test_retriever_over_ingested_files(bank):
    r = RagdRetriever(knowledge_base=bank, k=2, filter="type=md")
    docs = r.invoke("How long does an international wire transfer take?")
    assert len(docs) == 2 and all(d.metadata["source"].endswith("handbook.md") for d in docs)
    assert "1 to 3 working days" in docs[0].page_content
    assert docs[0].metadata["score"] >= docs[1].metadata["score"]


def test_chat_model(engine):
    llm = ChatRagd(engine=engine, max_tokens=20)
    msg = llm.invoke([SystemMessage("Answer with one word."), HumanMessage("What colour is the sky on a clear day?")])
    assert "blue" in msg.content.lower()
    assert msg.usage_metadata["output_tokens"] > 0
