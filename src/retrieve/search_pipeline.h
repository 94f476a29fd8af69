// The search pipeline of one knowledge base: BM25 and the dense search
// (filters applied inside both), fusion, chunk fetch, rerank, MMR,
// min-score, neighbouring chunks. The engine opens the store and the models
// and calls Search; nothing here knows of the registry of knowledge bases.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "ragd/embedder.h"
#include "ragd/models.h"
#include "ragd/search.h"
#include "ragd/status.h"
#include "store/store.h"

namespace ragd::retrieve {

// The models a search may call, opened on first use by whoever owns them.
struct SearchModels {
  // The query embedder; must be the one the knowledge base was built with.
  std::function<Result<Embedder*>()> embedder;
  // Empty when no reranker is configured (SearchOptions::rerank is then moot).
  std::function<Result<Reranker*>()> reranker;
  // Whether BM25 may run on its own thread while the query is embedded.
  bool lexical_alongside_embedding = false;
};

// The query, k, neighbors, rerank_candidates and filters are in range:
// InvalidArgument naming the field otherwise. Needs no knowledge base.
Status CheckSearchOptions(const SearchOptions& options);

// Runs options (already checked) against kb. Thread-safe as the store is:
// many searches of one store run at once.
Result<SearchResponse> Search(store::KbStore& kb, const SearchOptions& options, const SearchModels& models);

// The per-knowledge-base search defaults: search.fusion, search.lexical_weight,
// search.mmr_lambda. OK when key is one of them and value is valid for it,
// else InvalidArgument saying what is allowed.
Status CheckSearchSetting(const std::string& key, const std::string& value);

}  // namespace ragd::retrieve
