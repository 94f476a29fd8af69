"""The same RAG pipeline as langchain_faiss.py, on ragd: every file type
read, split, embedded, indexed for BM25 and vectors, and answered with
citations, in-process.

    python ragd_pipeline.py examples/bank-kb "How long does an international wire transfer take?"
"""

import json
import sys

import ragd

folder, question = sys.argv[1], sys.argv[2]

kb = ragd.open("bank-example")
kb.ingest(folder)
answer = kb.ask(question)

print(json.dumps({"answer": answer.text,
                  "sources": [s.hit.source for s in answer.sources if s.cited],
                  "source_texts": [s.hit.text for s in answer.sources]}, ensure_ascii=False))
