#include "recommend/recommend_pipeline.h"

#include <chrono>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/status_macros.h"
#include "core/text.h"
#include "recommend/candidates.h"

namespace ragd::recommend {
namespace {

constexpr size_t kMaxIdBytes = 512;
constexpr size_t kRecentShown = 20;
constexpr size_t kSnippetBytes = 400;

Status CheckId(const std::string& what, const std::string& value, size_t row) {
  const std::string where = "interaction " + std::to_string(row) + ": ";
  if (text::Trim(value).empty()) return Status::InvalidArgument(where + what + " is empty");
  if (value.size() > kMaxIdBytes)
    return Status::InvalidArgument(where + what + " is longer than " + std::to_string(kMaxIdBytes) + " bytes");
  if (text::FindInvalidUtf8(value) != std::string_view::npos)
    return Status::InvalidArgument(where + what + " is not valid UTF-8");
  return Status::OK();
}

// The liked history item closest to each item: by item-kNN similarity
// where the two co-occur (one pass over the history's neighbour lists for
// all items), else by the cosine of their embeddings.
class ClosestLiked {
 public:
  ClosestLiked(const RecIndex& index, const std::vector<HistoryEvent>& history) : index_(index), history_(history) {
    for (const HistoryEvent& e : history) {
      if (e.weight <= 0) continue;
      for (const auto& [j, sim] : index.Neighbours(e.item)) {
        auto [it, fresh] = by_knn_.try_emplace(j, e.item, sim);
        if (!fresh && sim > it->second.second) it->second = {e.item, sim};
      }
    }
  }
  // -1 when there is no liked item.
  int operator()(int item) const {
    if (auto it = by_knn_.find(item); it != by_knn_.end() && it->second.first != item) return it->second.first;
    const float* v = index_.vector(item);
    if (!v) return -1;
    int best = -1;
    float best_cos = -2;
    for (const HistoryEvent& e : history_) {
      const float* u = e.weight > 0 && e.item != item ? index_.vector(e.item) : nullptr;
      if (!u) continue;
      if (float cos = Dot(u, v, index_.dim()); cos > best_cos) best = e.item, best_cos = cos;
    }
    return best;
  }

 private:
  const RecIndex& index_;
  const std::vector<HistoryEvent>& history_;
  std::unordered_map<int, std::pair<int, float>> by_knn_;  // item -> (liked item, similarity)
};

}  // namespace

Result<InteractionImportReport> ImportInteractions(store::KbStore& kb, std::span<const Interaction> rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    RAGD_RETURN_IF_ERROR(CheckId("user", rows[i].user, i + 1));
    RAGD_RETURN_IF_ERROR(CheckId("item", rows[i].item, i + 1));
    if (rows[i].rating && !std::isfinite(*rows[i].rating))
      return Status::InvalidArgument("interaction " + std::to_string(i + 1) + ": rating is not a finite number");
    if (rows[i].time && !std::isfinite(*rows[i].time))
      return Status::InvalidArgument("interaction " + std::to_string(i + 1) + ": time is not a finite number");
  }
  RAGD_ASSIGN_OR_RETURN(std::vector<std::string> ids, kb.MatchingDocuments({}));
  std::unordered_set<std::string> known(ids.begin(), ids.end());
  InteractionImportReport report;
  report.read = static_cast<int64_t>(rows.size());
  std::vector<Interaction> keep;
  keep.reserve(rows.size());
  for (const Interaction& r : rows) {
    if (known.count(r.item)) {
      keep.push_back(r);
      continue;
    }
    ++report.unknown_items;
    if (report.unknown_examples.size() < 5) report.unknown_examples.push_back(r.item);
  }
  RAGD_RETURN_IF_ERROR(kb.AddInteractions(keep));
  report.added = static_cast<int64_t>(keep.size());
  // Rows are only ever appended, so the last sequence number is the count.
  RAGD_ASSIGN_OR_RETURN(report.total, kb.InteractionCount());
  RAGD_ASSIGN_OR_RETURN(report.users, kb.InteractionUsers());
  return report;
}

Result<std::vector<Item>> ReadItems(store::KbStore& kb) {
  RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, kb.ListDocuments());
  RAGD_ASSIGN_OR_RETURN(auto chunk_ids, kb.ListChunkIds());
  std::vector<int64_t> ids;
  ids.reserve(chunk_ids.size());
  for (const auto& [doc, id] : chunk_ids) ids.push_back(id);
  RAGD_ASSIGN_OR_RETURN(std::vector<float> vectors, kb.GetVectors(ids));
  const size_t dim = ids.empty() ? 0 : vectors.size() / ids.size();
  std::unordered_map<std::string, size_t> at;
  std::vector<Item> items;
  items.reserve(docs.size());
  for (auto& d : docs) {
    at.emplace(d.doc_id, items.size());
    items.push_back({d.doc_id, d.title.empty() ? d.doc_id : d.title, {}});
  }
  for (size_t c = 0; c < chunk_ids.size(); ++c) {
    auto it = at.find(chunk_ids[c].first);
    if (it == at.end()) continue;
    Item& item = items[it->second];
    if (item.vector.empty()) item.vector.assign(dim, 0.0f);
    for (size_t d = 0; d < dim; ++d) item.vector[d] += vectors[c * dim + d];
  }
  // The mean's direction is the sum's: RecIndex normalises it.
  // Each item's first chunk, cut, for the model's reasons.
  std::vector<int64_t> first;
  for (size_t c = 0; c < chunk_ids.size(); ++c)
    if (c == 0 || chunk_ids[c].first != chunk_ids[c - 1].first) first.push_back(chunk_ids[c].second);
  RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb.GetChunks(first));
  for (const auto& chunk : chunks)
    if (auto it = at.find(chunk.doc_id); it != at.end())
      items[it->second].snippet = std::string(text::TruncateUtf8(chunk.text, kSnippetBytes));
  return items;
}

Result<std::shared_ptr<const RecIndex>> IndexCache::Get(store::KbStore& kb) {
  std::lock_guard lock(mu_);  // one build at a time; the others wait for it and share it
  const uint64_t generation = kb.generation();
  RAGD_ASSIGN_OR_RETURN(int64_t interactions, kb.InteractionCount());
  if (index_ && generation == generation_ && interactions == interactions_) return index_;
  RAGD_ASSIGN_OR_RETURN(std::vector<Item> items, ReadItems(kb));
  RAGD_ASSIGN_OR_RETURN(std::vector<Interaction> rows, kb.ListInteractions());
  int dim = 0;
  for (const Item& it : items)
    if (!it.vector.empty()) dim = static_cast<int>(it.vector.size());
  index_ = std::make_shared<const RecIndex>(RecIndex::Build(std::move(items), rows, dim));
  generation_ = generation, interactions_ = interactions;
  return index_;
}

Status CheckRecommendOptions(const RecommendOptions& o) {
  if (o.kb.empty()) return Status::InvalidArgument("recommend needs a knowledge base");
  if (o.user.empty() && o.like.empty() && text::Trim(o.query).empty())
    return Status::InvalidArgument("recommend needs a user, liked items or a query");
  if (o.k < 1 || o.k > 1000) return Status::InvalidArgument("k must be between 1 and 1000");
  if (o.candidates < 1 || o.candidates > 100000)
    return Status::InvalidArgument("candidates must be between 1 and 100000");
  for (double w : {o.weights.profile, o.weights.item_knn, o.weights.popularity, o.weights.query})
    if (!std::isfinite(w) || w < 0) return Status::InvalidArgument("source weights must be finite and not negative");
  if (o.rerank_llm && (o.rerank_top < 2 || o.rerank_top > 100))
    return Status::InvalidArgument("the re-rank takes between 2 and 100 candidates");
  if (o.rerank_llm && (o.rerank_repeats < 1 || o.rerank_repeats > 10))
    return Status::InvalidArgument("re-rank repeats must be between 1 and 10");
  for (const auto& c : o.filters) RAGD_RETURN_IF_ERROR(ValidateFilterCondition(c));
  return Status::OK();
}

Result<RecommendResult> Recommend(const RecIndex& index, const RecommendOptions& o, const Lookups& lookups) {
  const auto t0 = std::chrono::steady_clock::now();
  RAGD_RETURN_IF_ERROR(CheckRecommendOptions(o));
  CandidateRequest r;
  r.include_seen = o.include_seen;
  r.weights = o.weights;
  r.candidates = o.candidates;
  r.k = o.k;
  RecommendResult result;
  if (!o.user.empty()) {
    auto h = index.History(o.user);
    r.history.assign(h.begin(), h.end());
    result.history = static_cast<int>(h.size());
  }
  result.cold_start = r.history.empty();
  for (const std::string& id : o.like) {
    int item = index.Find(id);
    if (item < 0) return Status::NotFound("knowledge base '" + o.kb + "' has no item '" + id + "' (--like)");
    r.history.push_back({item, 1.0f});
  }
  if (!o.user.empty() && r.history.empty() && text::Trim(o.query).empty())
    return Status::NotFound("user '" + o.user + "' has no interactions in '" + o.kb +
                            "': import some (ragd interactions import), or give --like or --query");
  if (!o.filters.empty()) {
    if (!lookups.filter) return Status::InvalidArgument("filters are not available here");
    RAGD_ASSIGN_OR_RETURN(std::vector<std::string> ids, lookups.filter(o.filters));
    r.allowed.assign(index.item_count(), 0);
    for (const std::string& id : ids)
      if (int item = index.Find(id); item >= 0) r.allowed[item] = 1;
  }
  if (!text::Trim(o.query).empty() && o.weights.query > 0) {
    if (!lookups.search) return Status::InvalidArgument("a text query is not available here");
    RAGD_ASSIGN_OR_RETURN(std::vector<std::string> found, lookups.search(o.query, o.candidates));
    for (const std::string& id : found)
      if (int item = index.Find(id); item >= 0) r.query_items.push_back(item);
  }
  const ClosestLiked closest(index, r.history);
  for (const Scored& s : FuseCandidates(index, r)) {
    Recommendation rec{index.id(s.item), index.title(s.item), s.score, s.sources, "", "", ""};
    if (int liked = closest(s.item); liked >= 0) {
      rec.because = index.id(liked), rec.because_title = index.title(liked);
      result.snippets[rec.because] = index.snippet(liked);
    }
    result.snippets[rec.item] = index.snippet(s.item);
    result.items.push_back(std::move(rec));
  }
  for (size_t i = r.history.size(); i-- > 0 && result.recent.size() < kRecentShown;) {
    const HistoryEvent& e = r.history[i];
    if (e.weight > 0) result.recent.insert(result.recent.begin(), {index.id(e.item), index.title(e.item)});
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace ragd::recommend
