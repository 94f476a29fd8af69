// Recommendation over a knowledge base's store: importing interactions,
// the cached index, and a request from its options to fused items (the
// model's re-rank and reasons are rag's, RecommendWithModel).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "ragd/recommend.h"
#include "recommend/rec_index.h"
#include "store/store.h"

namespace ragd::recommend {

// Checks each row (user and item non-empty, at most 512 bytes, valid
// UTF-8; a rating finite) and stores those whose item is a document of
// the knowledge base, in one transaction. A bad row fails the whole import,
// naming its position (1-based), so nothing is stored half.
Result<InteractionImportReport> ImportInteractions(store::KbStore& kb, std::span<const Interaction> rows);

// The index of one knowledge base, rebuilt when a commit changed its
// documents or interactions were added; shared by concurrent requests.
class IndexCache {
 public:
  Result<std::shared_ptr<const RecIndex>> Get(store::KbStore& kb);

 private:
  std::mutex mu_;
  uint64_t generation_ = 0;
  int64_t interactions_ = -1;
  std::shared_ptr<const RecIndex> index_;
};

// The items of the kb as RecIndex items: each document's title and the
// mean of its chunks' embeddings.
Result<std::vector<Item>> ReadItems(store::KbStore& kb);

// What a request needs from around the index: the documents passing the
// filters, and the text query's search (document ids, best first). Unset
// ones fail a request that needs them.
struct Lookups {
  std::function<Result<std::vector<std::string>>(std::span<const FilterCondition> filters)> filter;
  std::function<Result<std::vector<std::string>>(const std::string& query, int k)> search;
};

// Checks the options and answers with the fused items (no model).
Result<RecommendResult> Recommend(const RecIndex& index, const RecommendOptions& o, const Lookups& lookups);

// Option checks shared by the CLI, the server and the evaluation.
Status CheckRecommendOptions(const RecommendOptions& o);

}  // namespace ragd::recommend
