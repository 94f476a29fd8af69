// Candidate sources and their fusion (docs/RECOMMEND.md): the user's
// profile vector, item-kNN, popularity and a text query, each a ranked list
// of items, fused by weighted reciprocal rank.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "recommend/rec_index.h"

namespace ragd::recommend {

// Older history counts less: an event's weight halves every this many
// newer events.
constexpr double kRecencyHalfLife = 25.0;
// Reciprocal-rank constant (Cormack et al. 2009), as in hybrid search.
constexpr double kRrfK = 60.0;

struct CandidateRequest {
  std::vector<HistoryEvent> history;  // in time order; liked items appended
  std::vector<int> query_items;       // ranked by the text query's search (may be empty)
  std::vector<char> allowed;          // per item: 1 = passes the filters (empty = all)
  bool include_seen = false;
  RecommendWeights weights;
  int candidates = 200;
  int k = 10;
};

struct Scored {
  int item = 0;
  double score = 0;
  std::map<std::string, int> sources;  // 1-based rank in each source
};

// Each source's ranked items, after the seen and filtered-out ones are
// dropped, at most `candidates` long.
std::vector<int> ProfileSource(const RecIndex& index, const CandidateRequest& r);
std::vector<int> ItemKnnSource(const RecIndex& index, const CandidateRequest& r);
std::vector<int> PopularitySource(const RecIndex& index, const CandidateRequest& r);

// All sources with a weight above 0, fused; the best `k` (fewer when the
// sources hold fewer).
std::vector<Scored> FuseCandidates(const RecIndex& index, const CandidateRequest& r);

}  // namespace ragd::recommend
