"""The notes' LangChain RAG pipeline (seeds: loaders per file type, a
recursive splitter, embeddings, FAISS, RetrievalQA), on the example bank
knowledge base. Compare with ragd_pipeline.py, the same on ragd.

Two substitutions keep it offline: the notes' bge-small-zh (a Hugging Face
download) becomes ragd's packaged embedder through RagdEmbeddings, and the
vLLM/Ollama server becomes ragd's packaged chat model through ChatRagd.
Word documents need the `unstructured` package here; they are skipped.

    python langchain_faiss.py examples/bank-kb "How long does an international wire transfer take?"
"""

import json
import pathlib
import sys

from langchain_classic.chains import RetrievalQA
from langchain_community.document_loaders import CSVLoader, PyPDFLoader, TextLoader
from langchain_community.vectorstores import FAISS
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ragd.langchain import ChatRagd, RagdEmbeddings

folder, question = pathlib.Path(sys.argv[1]), sys.argv[2]

# 1. Files to text, one loader per type.
loaders = {".pdf": PyPDFLoader, ".csv": CSVLoader, ".md": TextLoader, ".txt": TextLoader}
documents = []
for path in sorted(folder.iterdir()):
    loader = loaders.get(path.suffix.lower())
    if loader is not None:
        documents += loader(str(path)).load()

# 2. Split.
splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
texts = splitter.split_documents(documents)

# 3. Embed and index.
embeddings = RagdEmbeddings()
db = FAISS.from_documents(texts, embeddings)

# 4. Retrieve and answer.
retriever = db.as_retriever(search_type="mmr", search_kwargs={"k": 3})
qa = RetrievalQA.from_chain_type(llm=ChatRagd(engine=embeddings.engine), chain_type="stuff", retriever=retriever,
                                 return_source_documents=True)
result = qa.invoke({"query": question})

print(json.dumps({"answer": result["result"],
                  "sources": [d.metadata.get("source", "") for d in result["source_documents"]],
                  "source_texts": [d.page_content for d in result["source_documents"]]}, ensure_ascii=False))
