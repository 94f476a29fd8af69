#include "recommend/candidates.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace ragd::recommend {
namespace {

// Recency-weighted history: the last event keeps its rating weight, each
// older one less (kRecencyHalfLife).
std::vector<std::pair<int, double>> Weighted(const CandidateRequest& r) {
  std::vector<std::pair<int, double>> out;
  const size_t n = r.history.size();
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    double age = static_cast<double>(n - 1 - i);
    out.emplace_back(r.history[i].item, r.history[i].weight * std::exp2(-age / kRecencyHalfLife));
  }
  return out;
}

// Whether an item may be recommended: it passes the filters and, unless
// seen items are wanted, is not in the history.
class Eligible {
 public:
  Eligible(const RecIndex& index, const CandidateRequest& r) : r_(r), seen_(index.item_count(), 0) {
    if (!r.include_seen)
      for (const HistoryEvent& e : r.history) seen_[e.item] = 1;
  }
  bool operator()(int item) const {
    if (seen_[item]) return false;
    return r_.allowed.empty() || r_.allowed[item];
  }

 private:
  const CandidateRequest& r_;
  std::vector<char> seen_;
};

// The best `limit` eligible items of a score map, best first (ties by item number).
std::vector<int> TopEligible(std::vector<std::pair<int, double>> scored, size_t limit, const Eligible& ok) {
  scored.erase(std::remove_if(scored.begin(), scored.end(), [&](const auto& s) { return !ok(s.first); }),
               scored.end());
  auto better = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
  const size_t keep = std::min(limit, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(), better);
  std::vector<int> out;
  out.reserve(keep);
  for (size_t i = 0; i < keep; ++i) out.push_back(scored[i].first);
  return out;
}

}  // namespace

std::vector<int> ProfileSource(const RecIndex& index, const CandidateRequest& r) {
  const int dim = index.dim();
  std::vector<double> profile(dim, 0.0);
  bool any = false;
  for (const auto& [item, w] : Weighted(r)) {
    const float* v = index.vector(item);
    if (!v || w <= 0) continue;
    for (int d = 0; d < dim; ++d) profile[d] += w * v[d];
    any = true;
  }
  if (!any) return {};
  std::vector<float> p(profile.begin(), profile.end());  // cosine order: the profile's norm does not matter
  Eligible ok(index, r);
  std::vector<std::pair<int, double>> scored;
  scored.reserve(index.item_count());
  for (size_t i = 0; i < index.item_count(); ++i) {
    const float* v = index.vector(static_cast<int>(i));
    if (!v) continue;
    scored.emplace_back(static_cast<int>(i), Dot(p.data(), v, dim));
  }
  return TopEligible(std::move(scored), r.candidates, ok);
}

std::vector<int> ItemKnnSource(const RecIndex& index, const CandidateRequest& r) {
  std::unordered_map<int, double> acc;
  for (const auto& [item, w] : Weighted(r)) {
    if (w <= 0) continue;
    for (const auto& [j, sim] : index.Neighbours(item)) acc[j] += w * sim;
  }
  return TopEligible({acc.begin(), acc.end()}, r.candidates, Eligible(index, r));
}

std::vector<int> PopularitySource(const RecIndex& index, const CandidateRequest& r) {
  Eligible ok(index, r);
  std::vector<int> out;
  for (int item : index.ByPopularity()) {
    if (static_cast<int>(out.size()) >= r.candidates) break;
    if (ok(item)) out.push_back(item);
  }
  return out;
}

std::vector<Scored> FuseCandidates(const RecIndex& index, const CandidateRequest& r) {
  struct Source {
    const char* name;
    double weight;
    std::vector<int> items;
  };
  std::vector<Source> sources;
  if (r.weights.profile > 0) sources.push_back({"profile", r.weights.profile, ProfileSource(index, r)});
  if (r.weights.item_knn > 0) sources.push_back({"item_knn", r.weights.item_knn, ItemKnnSource(index, r)});
  if (r.weights.popularity > 0) sources.push_back({"popularity", r.weights.popularity, PopularitySource(index, r)});
  if (r.weights.query > 0 && !r.query_items.empty()) {
    Eligible ok(index, r);
    std::vector<int> q;
    for (int item : r.query_items)
      if (ok(item) && static_cast<int>(q.size()) < r.candidates) q.push_back(item);
    sources.push_back({"query", r.weights.query, std::move(q)});
  }
  std::unordered_map<int, Scored> fused;
  for (const Source& s : sources)
    for (size_t rank = 0; rank < s.items.size(); ++rank) {
      Scored& c = fused[s.items[rank]];
      c.item = s.items[rank];
      c.score += s.weight / (kRrfK + static_cast<double>(rank + 1));
      c.sources[s.name] = static_cast<int>(rank + 1);
    }
  std::vector<Scored> out;
  out.reserve(fused.size());
  for (auto& [item, c] : fused) out.push_back(std::move(c));
  auto better = [](const Scored& a, const Scored& b) { return a.score != b.score ? a.score > b.score : a.item < b.item; };
  const size_t keep = std::min(out.size(), static_cast<size_t>(std::max(r.k, 0)));
  std::partial_sort(out.begin(), out.begin() + keep, out.end(), better);
  out.resize(keep);
  return out;
}

}  // namespace ragd::recommend
