// What recommendation reads, built once per state of a knowledge base:
// items as dense numbers with their embeddings, each user's history in
// order, popularity, and each item's nearest items by co-occurrence.
//
// Built from plain data (the engine reads it from the store; the
// evaluation from its training interactions), so the same code serves both.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ragd/recommend.h"

namespace ragd::recommend {

struct Item {
  std::string id;
  std::string title;
  std::vector<float> vector;  // the mean of its chunks' embeddings (empty: none)
  std::string snippet;        // the opening of its text
};

struct HistoryEvent {
  int item = 0;
  float weight = 1;  // from the rating (see ItemWeight)
};

class RecIndex {
 public:
  // interactions whose item is not in items are left out (and counted).
  // neighbours: how many nearest items each item keeps for item-kNN.
  static RecIndex Build(std::vector<Item> items, std::span<const Interaction> interactions, int dim,
                        int neighbours = 50);

  int dim() const { return dim_; }
  size_t item_count() const { return ids_.size(); }
  const std::string& id(int item) const { return ids_[item]; }
  const std::string& title(int item) const { return titles_[item]; }
  const std::string& snippet(int item) const { return snippets_[item]; }
  // -1 when unknown.
  int Find(const std::string& item_id) const;
  // L2-normalised; nullptr when the item had no embedding.
  const float* vector(int item) const;
  // A user's history in time order (empty for an unknown user).
  std::span<const HistoryEvent> History(const std::string& user) const;
  // Items by interaction count, most first; count(item).
  std::span<const int> ByPopularity() const { return by_popularity_; }
  int count(int item) const { return counts_[item]; }
  // The item's nearest items by cosine over the users who had both, best first.
  std::span<const std::pair<int, float>> Neighbours(int item) const { return neighbours_[item]; }
  int64_t skipped_interactions() const { return skipped_; }

 private:
  int dim_ = 0;
  std::vector<std::string> ids_, titles_, snippets_;
  std::unordered_map<std::string, int> index_;
  std::vector<float> vectors_;  // item_count × dim
  std::vector<char> has_vector_;
  std::unordered_map<std::string, std::vector<HistoryEvent>> histories_;
  std::vector<int> counts_, by_popularity_;
  std::vector<std::vector<std::pair<int, float>>> neighbours_;
  int64_t skipped_ = 0;
};

// A rating's weight in a profile: implicit feedback (no rating) is 1; a
// rating counts by how far it stands above the user's own mean (plus one
// half, so a user who rates everything alike still has a profile), never
// below 0: items rated under the user's average pull nothing.
float ItemWeight(const std::optional<double>& rating, double user_mean);

// a·b over n floats in eight partial sums, so the compiler can keep them in
// one vector register at -O2 (one running sum is a chain it may not reorder).
float Dot(const float* a, const float* b, int n);

}  // namespace ragd::recommend
