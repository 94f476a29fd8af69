#include "retrieve/fusion.h"

#include <algorithm>
#include <unordered_map>

namespace ragd::retrieve {

std::vector<FusedHit> ReciprocalRankFusion(const std::vector<store::ScoredId>& lexical,
                                           const std::vector<store::ScoredId>& dense, int k) {
  std::vector<FusedHit> out;
  std::unordered_map<int64_t, size_t> pos;
  auto add = [&](const std::vector<store::ScoredId>& list, bool is_lexical) {
    for (size_t r = 0; r < list.size(); ++r) {
      auto [it, fresh] = pos.try_emplace(list[r].id, out.size());
      if (fresh) out.push_back(FusedHit{list[r].id});
      FusedHit& h = out[it->second];
      int rank = static_cast<int>(r) + 1;
      if (is_lexical) {
        if (h.lexical_rank) continue;  // duplicate id in one list: first rank counts
        h.lexical_rank = rank;
        h.lexical_score = list[r].score;
      } else {
        if (h.dense_rank) continue;
        h.dense_rank = rank;
        h.dense_score = list[r].score;
      }
      h.score += 1.0 / (k + rank);
    }
  };
  add(lexical, true);
  add(dense, false);
  std::stable_sort(out.begin(), out.end(), [](const FusedHit& a, const FusedHit& b) { return a.score > b.score; });
  return out;
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
