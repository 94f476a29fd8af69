// Retrieval evaluation on BEIR-layout folders (corpus.jsonl, queries.jsonl,
// qrels/<split>.tsv).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ragd/engine.h"

namespace ragd {

struct RetrievalEvalOptions {
  std::string beir_dir;
  std::string split = "test";
  SearchMode mode = SearchMode::kHybrid;
  // Knowledge base to build or reuse. Empty = "beir-<folder>-<corpus hash>",
  // so a changed corpus gets a fresh knowledge base.
  std::string kb;
  SplitOptions split_options;  // chunk_size 0 = the embedder's whole window
  // Hybrid fusion overrides (unset = the knowledge base's settings / defaults).
  std::optional<Fusion> fusion;
  std::optional<double> lexical_weight;
  std::optional<double> mmr_lambda;
  // With a reranker configured: rerank (false = skip it) the top
  // rerank_candidates of each query's 100 (0 = all 100).
  bool rerank = true;
  int rerank_candidates = 0;
};

struct RetrievalMetrics {
  double ndcg_at_10 = 0;
  double recall_at_10 = 0;
  double recall_at_100 = 0;
  double mrr_at_10 = 0;
  int queries = 0;  // queries with at least one relevant document
};

struct RetrievalEvalReport {
  std::string kb;
  std::string reranker;  // the reranker's model when results were reranked
  RetrievalMetrics metrics;
  IngestReport ingest;
  double search_seconds = 0;
  // Judged queries with empty text: skipped (and named here), not scored.
  std::vector<std::string> skipped_queries;
};

// Builds (or reuses) the corpus knowledge base and scores the split's queries.
// progress is called during ingest and then during the queries.
Result<RetrievalEvalReport> EvaluateRetrieval(Engine& engine, const RetrievalEvalOptions& options,
                                              const ProgressFn& progress = {});

}  // namespace ragd
