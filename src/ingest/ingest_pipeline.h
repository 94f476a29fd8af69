// The ingest pipeline of one knowledge base: files found under the paths
// (or documents handed over in memory) are read, skipped when unchanged,
// loaded, chunked, embedded in batches and committed, each batch in one
// transaction. The engine opens the store, holds its write lock and calls
// these; nothing here knows of the registry of knowledge bases.
#pragma once

#include <span>

#include "ingest/splitter.h"
#include "ragd/embedder.h"
#include "ragd/ingest.h"
#include "ragd/status.h"
#include "store/store.h"

namespace ragd::ingest {

// A splitter for split. Token units count with the embedder's tokenizer
// and must fit its window; InvalidArgument otherwise.
Result<RecursiveSplitter> MakeSplitter(const SplitOptions& split, Embedder& embedder);

// What the pipeline writes into: the knowledge base's store (its writer
// lock held by the caller), the embedder it was built with, a splitter.
struct IngestTarget {
  store::KbStore* kb = nullptr;
  Embedder* embedder = nullptr;
  const RecursiveSplitter* splitter = nullptr;
};

// The paths are given and the metadata valid (no store needed).
Status CheckIngestOptions(const IngestOptions& options);

// IngestOptions's files, walked, read and ingested; a bad file is a failure
// in the report and the rest go on. options is checked (CheckIngestOptions).
Result<IngestReport> IngestFiles(const IngestTarget& target, const IngestOptions& options, const ProgressFn& progress);

// In-memory documents, in batches of 256.
Result<IngestReport> IngestDocuments(const IngestTarget& target, std::span<const SourceDocument> docs,
                                     const ProgressFn& progress);

// Removes one document and saves the vector index.
Status DeleteDocument(store::KbStore& kb, const std::string& doc_id);

}  // namespace ragd::ingest
