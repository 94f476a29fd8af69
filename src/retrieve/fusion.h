// Rank fusion of the lexical and dense candidate lists.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ragd/search.h"
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

// Weighted RRF: score(d) = 2w / (k + rank_lex(d)) + 2(1 - w) / (k + rank_dense(d));
// w = 0.5 is plain RRF.
std::vector<FusedHit> WeightedRrf(const std::vector<store::ScoredId>& lexical,
                                  const std::vector<store::ScoredId>& dense, int k, double lexical_weight);

// Score fusion: each list's scores normalised over its candidates, then
// w * lexical + (1 - w) * dense. A document absent from a list gets that
// list's lowest normalised score.
enum class ScoreNorm { kMinMax, kZScore };
std::vector<FusedHit> ConvexFusion(const std::vector<store::ScoredId>& lexical,
                                   const std::vector<store::ScoredId>& dense, ScoreNorm norm, double lexical_weight);

// Maximal Marginal Relevance (Carbonell & Goldstein 1998): picks k of the
// candidates greedily by lambda * relevance - (1 - lambda) * (the largest
// similarity to one already picked). Relevance is min-max normalised first
// so that it is on the scale of cosine similarity. similarity(i, j) over
// candidate indexes. Returns candidate indexes in pick order.
std::vector<size_t> Mmr(const std::vector<double>& relevance,
                        const std::function<double(size_t, size_t)>& similarity, double lambda, size_t k);

// How far a list's best score stands above its other candidates: the top
// score's z-score over the list (0 for fewer than two candidates or no
// spread). A retriever that singles out a winner scores high; one that
// cannot tell the candidates apart (an English-only embedder on Chinese)
// stays near the z-score the best of that many random draws would get.
double TopZScore(const std::vector<store::ScoredId>& list);

// The dispersion rule's BM25 weight for one query: each list counts by how
// much its winner stands out beyond what a flat list of that size gives
// (TopZScore minus its expected maximum), so it does not assume either
// retriever is the stronger one. 0.5 when neither stands out.
double DispersionWeight(const std::vector<store::ScoredId>& lexical, const std::vector<store::ScoredId>& dense);

// A hybrid search's fusion, resolved: the query's, else the knowledge
// base's settings, else the defaults.
struct FusionSettings {
  Fusion fusion = Fusion::kZScore;
  double lexical_weight = 0.7;  // of BM25; unused by dispersion
  int rrf_k = 60;
};

// Both lists merged by the settings' method, best first.
std::vector<FusedHit> FuseLists(const FusionSettings& settings, const std::vector<store::ScoredId>& lexical,
                                const std::vector<store::ScoredId>& dense);

// One list passed through unchanged (single-mode search), with its ranks.
std::vector<FusedHit> FromLexical(const std::vector<store::ScoredId>& lexical);
std::vector<FusedHit> FromDense(const std::vector<store::ScoredId>& dense);

}  // namespace ragd::retrieve
