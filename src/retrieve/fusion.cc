#include "retrieve/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace ragd::retrieve {

namespace {

// Merges both lists into one hit per id, recording ranks and raw scores;
// lexical ids first, so ties keep a deterministic order.
std::vector<FusedHit> Merge(const std::vector<store::ScoredId>& lexical, const std::vector<store::ScoredId>& dense) {
  std::vector<FusedHit> out;
  std::unordered_map<int64_t, size_t> pos;
  auto add = [&](const std::vector<store::ScoredId>& list, bool is_lexical) {
    for (size_t r = 0; r < list.size(); ++r) {
      auto [it, fresh] = pos.try_emplace(list[r].id, out.size());
      if (fresh) out.push_back(FusedHit{list[r].id});
      FusedHit& h = out[it->second];
      int rank = static_cast<int>(r) + 1;
      if (is_lexical && !h.lexical_rank) {  // duplicate id in one list: first rank counts
        h.lexical_rank = rank;
        h.lexical_score = list[r].score;
      } else if (!is_lexical && !h.dense_rank) {
        h.dense_rank = rank;
        h.dense_score = list[r].score;
      }
    }
  };
  add(lexical, true);
  add(dense, false);
  return out;
}

void SortByScore(std::vector<FusedHit>* hits) {
  std::stable_sort(hits->begin(), hits->end(), [](const FusedHit& a, const FusedHit& b) { return a.score > b.score; });
}

// Normalised score of each position of a list.
std::vector<double> Normalise(const std::vector<store::ScoredId>& list, ScoreNorm norm, double* floor) {
  std::vector<double> out(list.size());
  if (list.empty()) {
    *floor = 0;
    return out;
  }
  double lo = list[0].score, hi = list[0].score, sum = 0;
  for (const auto& x : list) lo = std::min<double>(lo, x.score), hi = std::max<double>(hi, x.score), sum += x.score;
  if (norm == ScoreNorm::kMinMax) {
    for (size_t i = 0; i < list.size(); ++i) out[i] = hi > lo ? (list[i].score - lo) / (hi - lo) : 1.0;
    *floor = 0;
  } else {
    double mean = sum / list.size(), var = 0;
    for (const auto& x : list) var += (x.score - mean) * (x.score - mean);
    double sd = std::sqrt(var / list.size());
    for (size_t i = 0; i < list.size(); ++i) out[i] = sd > 0 ? (list[i].score - mean) / sd : 0.0;
    *floor = *std::min_element(out.begin(), out.end());
  }
  return out;
}

}  // namespace

std::vector<FusedHit> ReciprocalRankFusion(const std::vector<store::ScoredId>& lexical,
                                           const std::vector<store::ScoredId>& dense, int k) {
  return WeightedRrf(lexical, dense, k, 0.5);
}

std::vector<FusedHit> WeightedRrf(const std::vector<store::ScoredId>& lexical,
                                  const std::vector<store::ScoredId>& dense, int k, double lexical_weight) {
  std::vector<FusedHit> out = Merge(lexical, dense);
  const double wl = 2 * lexical_weight, wd = 2 * (1 - lexical_weight);
  for (auto& h : out) {
    h.score = 0;
    if (h.lexical_rank) h.score += wl / (k + h.lexical_rank);
    if (h.dense_rank) h.score += wd / (k + h.dense_rank);
  }
  SortByScore(&out);
  return out;
}

std::vector<FusedHit> ConvexFusion(const std::vector<store::ScoredId>& lexical,
                                   const std::vector<store::ScoredId>& dense, ScoreNorm norm, double lexical_weight) {
  std::vector<FusedHit> out = Merge(lexical, dense);
  double lex_floor = 0, dense_floor = 0;
  std::vector<double> ln = Normalise(lexical, norm, &lex_floor), dn = Normalise(dense, norm, &dense_floor);
  for (auto& h : out) {
    double l = h.lexical_rank ? ln[h.lexical_rank - 1] : lex_floor;
    double d = h.dense_rank ? dn[h.dense_rank - 1] : dense_floor;
    h.score = lexical_weight * l + (1 - lexical_weight) * d;
  }
  SortByScore(&out);
  return out;
}

std::vector<size_t> Mmr(const std::vector<double>& relevance,
                        const std::function<double(size_t, size_t)>& similarity, double lambda, size_t k) {
  const size_t n = relevance.size();
  std::vector<size_t> picked;
  if (n == 0) return picked;
  double lo = *std::min_element(relevance.begin(), relevance.end());
  double hi = *std::max_element(relevance.begin(), relevance.end());
  std::vector<double> rel(n);
  for (size_t i = 0; i < n; ++i) rel[i] = hi > lo ? (relevance[i] - lo) / (hi - lo) : 1.0;
  std::vector<double> max_sim(n, -1e30);  // to the picked set
  std::vector<bool> used(n, false);
  while (picked.size() < std::min(k, n)) {
    size_t best = n;
    double best_score = -1e30;
    for (size_t i = 0; i < n; ++i) {
      if (used[i]) continue;
      double redundancy = picked.empty() ? 0 : max_sim[i];
      double score = lambda * rel[i] - (1 - lambda) * redundancy;
      if (score > best_score) best_score = score, best = i;
    }
    used[best] = true;
    picked.push_back(best);
    for (size_t i = 0; i < n; ++i)
      if (!used[i]) max_sim[i] = std::max(max_sim[i], similarity(i, best));
  }
  return picked;
}

double TopZScore(const std::vector<store::ScoredId>& list) {
  if (list.size() < 2) return 0;
  double sum = 0, top = list[0].score;
  for (const auto& x : list) sum += x.score, top = std::max<double>(top, x.score);
  const double mean = sum / list.size();
  double var = 0;
  for (const auto& x : list) var += (x.score - mean) * (x.score - mean);
  const double sd = std::sqrt(var / list.size());
  return sd > 0 ? (top - mean) / sd : 0;
}

namespace {

// The expected largest of n standard normal draws (Cramér's asymptotic
// form): what TopZScore gives for a list that singles nothing out.
double ExpectedMaxZ(size_t n) {
  if (n < 3) return 0;
  const double l = std::log(static_cast<double>(n)), a = std::sqrt(2 * l);
  return a - (std::log(l) + std::log(4 * M_PI)) / (2 * a);
}

}  // namespace

double DispersionWeight(const std::vector<store::ScoredId>& lexical, const std::vector<store::ScoredId>& dense) {
  const double gl = std::max(0.0, TopZScore(lexical) - ExpectedMaxZ(lexical.size()));
  const double gd = std::max(0.0, TopZScore(dense) - ExpectedMaxZ(dense.size()));
  if (lexical.empty()) return 0;
  if (dense.empty()) return 1;
  return gl + gd > 0 ? gl / (gl + gd) : 0.5;
}

std::vector<FusedHit> FuseLists(const FusionSettings& settings, const std::vector<store::ScoredId>& lexical,
                                const std::vector<store::ScoredId>& dense) {
  switch (settings.fusion) {
    case Fusion::kRrf: return WeightedRrf(lexical, dense, settings.rrf_k, settings.lexical_weight);
    case Fusion::kMinMax: return ConvexFusion(lexical, dense, ScoreNorm::kMinMax, settings.lexical_weight);
    case Fusion::kZScore: break;
    case Fusion::kDispersion: return ConvexFusion(lexical, dense, ScoreNorm::kZScore, DispersionWeight(lexical, dense));
  }
  return ConvexFusion(lexical, dense, ScoreNorm::kZScore, settings.lexical_weight);
}

std::vector<FusedHit> FromLexical(const std::vector<store::ScoredId>& lexical) {
  std::vector<FusedHit> out;
  for (size_t r = 0; r < lexical.size(); ++r) out.push_back({lexical[r].id, lexical[r].score, static_cast<int>(r) + 1, 0, lexical[r].score, 0});
  return out;
}

std::vector<FusedHit> FromDense(const std::vector<store::ScoredId>& dense) {
  std::vector<FusedHit> out;
  for (size_t r = 0; r < dense.size(); ++r) out.push_back({dense[r].id, dense[r].score, 0, static_cast<int>(r) + 1, 0, dense[r].score});
  return out;
}

}  // namespace ragd::retrieve
