"""LangChain's ingest pipeline, the way its RAG tutorials build it: load the
.txt files, RecursiveCharacterTextSplitter, sentence-transformers MiniLM-L6
embeddings, FAISS. Prints {"chunks", "seconds"} as JSON.

    langchain_ingest.py CORPUS_DIR OUT_DIR --chunk-size 1000 --chunk-overlap 150 --threads 2
"""
import argparse
import json
import time

import common


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--chunk-overlap", type=int, default=150)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    common.set_threads(a.threads)
    t0 = time.perf_counter()
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = DirectoryLoader(a.corpus, glob="*.txt", loader_cls=TextLoader,
                           loader_kwargs={"encoding": "utf-8"}).load()
    chunks = RecursiveCharacterTextSplitter(chunk_size=a.chunk_size,
                                            chunk_overlap=a.chunk_overlap).split_documents(docs)
    emb = HuggingFaceEmbeddings(model_name=common.minilm_dir(), model_kwargs={"device": "cpu"},
                                encode_kwargs={"batch_size": a.batch, "normalize_embeddings": True})
    db = FAISS.from_documents(chunks, emb)
    db.save_local(a.out)
    print(json.dumps({"chunks": len(chunks), "documents": len(docs), "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
