// Rank fusion of the lexical and dense candidate lists.
#pragma once

#include <cstdint>
#include <vector>

#include "store/vector_index.h"

namespace ragd::retrieve {

struct FusedHit {
  int64_t id = 0;
  double score = 0;
  int lexical_rank = 0;  // 1-based, 0 = not in that list
  int dense_rank = 0;
  double lexical_score = 0;  // BM25 (higher = better), 0 = not in that list
  double dense_score = 0;    // cosine similarity, 0 = not in that list
};

// Reciprocal Rank Fusion (Cormack, Clarke & Büttcher 2009):
// score(d) = sum over lists of 1 / (k + rank(d)). Ties keep the order in
// which ids first appear (lexical list first), so results are deterministic.
std::vector<FusedHit> ReciprocalRankFusion(const std::vector<store::ScoredId>& lexical,
                                           const std::vector<store::ScoredId>& dense, int k);

// One list passed through unchanged (single-mode search), with its ranks.
std::vector<FusedHit> FromLexical(const std::vector<store::ScoredId>& lexical);
std::vector<FusedHit> FromDense(const std::vector<store::ScoredId>& dense);

}  // namespace ragd::retrieve
