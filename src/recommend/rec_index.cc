#include "recommend/rec_index.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ragd::recommend {

float ItemWeight(const std::optional<double>& rating, double user_mean) {
  if (!rating) return 1.0f;
  return static_cast<float>(std::max(0.0, *rating - user_mean + 0.5));
}

float Dot(const float* a, const float* b, int n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int d = 0;
  for (; d + 8 <= n; d += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[d + k] * b[d + k];
  float sum = 0;
  for (; d < n; ++d) sum += a[d] * b[d];
  for (float x : lane) sum += x;
  return sum;
}

RecIndex RecIndex::Build(std::vector<Item> items, std::span<const Interaction> interactions, int dim,
                         int neighbours) {
  RecIndex x;
  x.dim_ = dim;
  const size_t n = items.size();
  x.ids_.reserve(n), x.titles_.reserve(n);
  x.vectors_.assign(n * static_cast<size_t>(dim), 0.0f);
  x.has_vector_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    Item& it = items[i];
    x.index_.emplace(it.id, static_cast<int>(i));
    if (static_cast<int>(it.vector.size()) == dim) {
      double norm = 0;
      for (float v : it.vector) norm += double(v) * v;
      if (norm > 0) {
        float inv = static_cast<float>(1.0 / std::sqrt(norm));
        for (int d = 0; d < dim; ++d) x.vectors_[i * dim + d] = it.vector[d] * inv;
        x.has_vector_[i] = 1;
      }
    }
    x.ids_.push_back(std::move(it.id));
    x.titles_.push_back(std::move(it.title));
    x.snippets_.push_back(std::move(it.snippet));
  }

  // Each user's interactions in time order: by time where given (stable, so
  // equal or missing times keep the order of arrival).
  struct Row {
    int item;
    std::optional<double> rating;
    double time;
    size_t arrival;
  };
  std::unordered_map<std::string, std::vector<Row>> rows;
  for (size_t k = 0; k < interactions.size(); ++k) {
    const Interaction& r = interactions[k];
    auto it = x.index_.find(r.item);
    if (it == x.index_.end()) {
      ++x.skipped_;
      continue;
    }
    rows[r.user].push_back({it->second, r.rating, r.time.value_or(0.0), k});
  }
  x.counts_.assign(n, 0);
  for (auto& [user, list] : rows) {
    std::stable_sort(list.begin(), list.end(), [](const Row& a, const Row& b) { return a.time < b.time; });
    double sum = 0;
    int rated = 0;
    for (const Row& r : list)
      if (r.rating) sum += *r.rating, ++rated;
    const double mean = rated ? sum / rated : 0;
    auto& h = x.histories_[user];
    h.reserve(list.size());
    for (const Row& r : list) {
      h.push_back({r.item, ItemWeight(r.rating, mean)});
      ++x.counts_[r.item];
    }
  }
  x.by_popularity_.resize(n);
  std::iota(x.by_popularity_.begin(), x.by_popularity_.end(), 0);
  std::stable_sort(x.by_popularity_.begin(), x.by_popularity_.end(),
                   [&](int a, int b) { return x.counts_[a] > x.counts_[b]; });
  x.by_popularity_.erase(std::find_if(x.by_popularity_.begin(), x.by_popularity_.end(),
                                      [&](int i) { return x.counts_[i] == 0; }),
                         x.by_popularity_.end());

  // Item-kNN (Sarwar et al. 2001, Deshpande & Karypis 2004): cosine between
  // items' sets of users, c(i,j) / sqrt(n_i n_j). Each item's co-counts are
  // gathered in one dense array from its users' histories, so the build
  // costs the sum of squared history lengths and no pair table.
  // A user's items counted once each, however often they came back to one.
  std::vector<std::vector<int>> users_of(n), by_user;
  for (const auto& [user, h] : x.histories_) {
    std::vector<int> items;
    for (const HistoryEvent& e : h) items.push_back(e.item);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (int item : items) users_of[item].push_back(static_cast<int>(by_user.size()));
    by_user.push_back(std::move(items));
  }
  x.neighbours_.assign(n, {});
  std::vector<int> co(n, 0);
  std::vector<int> touched;
  for (size_t i = 0; i < n; ++i) {
    if (users_of[i].empty()) continue;
    touched.clear();
    for (int u : users_of[i])
      for (int j : by_user[u]) {
        if (j == static_cast<int>(i)) continue;
        if (co[j]++ == 0) touched.push_back(j);
      }
    std::vector<std::pair<int, float>> sims;
    sims.reserve(touched.size());
    const double ni = static_cast<double>(users_of[i].size());
    for (int j : touched) {
      sims.emplace_back(j, static_cast<float>(co[j] / std::sqrt(ni * users_of[j].size())));
      co[j] = 0;
    }
    const size_t keep = std::min(sims.size(), static_cast<size_t>(std::max(neighbours, 0)));
    auto better = [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; };
    std::partial_sort(sims.begin(), sims.begin() + keep, sims.end(), better);
    sims.resize(keep);
    x.neighbours_[i] = std::move(sims);
  }
  return x;
}

int RecIndex::Find(const std::string& item_id) const {
  auto it = index_.find(item_id);
  return it == index_.end() ? -1 : it->second;
}

const float* RecIndex::vector(int item) const {
  return has_vector_[item] ? vectors_.data() + static_cast<size_t>(item) * dim_ : nullptr;
}

std::span<const HistoryEvent> RecIndex::History(const std::string& user) const {
  auto it = histories_.find(user);
  if (it == histories_.end()) return {};
  return it->second;
}

}  // namespace ragd::recommend
