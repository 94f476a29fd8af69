#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <usearch/index_dense.hpp>

#include "store/index_file.h"
#include "store/vector_index.h"

namespace ragd::store {

namespace {

using unum::usearch::index_dense_config_t;
using unum::usearch::index_dense_t;
using unum::usearch::index_limits_t;
using unum::usearch::metric_kind_t;
using unum::usearch::metric_punned_t;
using unum::usearch::scalar_kind_t;

// vectors.idx. Format 2: inner product over unit vectors, held as f16 or f32
// (1 was f32 cosine); older files are rebuilt from the database.
constexpr IndexFileKind kVectorFile = {{'R', 'A', 'G', 'D', 'V', 'E', 'C', '1'}, 2, "vector index"};

// The index holds unit vectors and ranks by inner product, which equals
// cosine similarity then and costs one accumulator instead of three.
std::vector<float> UnitVector(std::span<const float> v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  const float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] * inv;
  return out;
}

template <typename E>
std::string TakeError(E& error) {
  const char* msg = error.release();
  return msg ? msg : "unknown error";
}

class UsearchIndex final : public VectorIndex {
 public:
  explicit UsearchIndex(const VectorIndexOptions& options) : options_(options) {
    metric_punned_t metric(static_cast<size_t>(options.dim), metric_kind_t::ip_k,
                           options.half_precision ? scalar_kind_t::f16_k : scalar_kind_t::f32_k);
    index_dense_config_t config(options.connectivity, options.expansion_add, options.expansion_search);
    auto made = index_dense_t::make(metric, config, unum::usearch::default_free_value<index_dense_t::vector_key_t>(),
                                    index_limits_t(0, 1));
    if (made.error) init_error_ = TakeError(made.error);
    index_ = std::move(made.index);
  }

  Status ok() const {
    if (!init_error_.empty()) return Status::Unavailable("cannot create the vector index: " + init_error_);
    return Status::OK();
  }

  Status Add(int64_t id, std::span<const float> vec) override {
    if (static_cast<int>(vec.size()) != options_.dim)
      return Status::InvalidArgument("vector of dimension " + std::to_string(vec.size()) + " for an index of " +
                                     std::to_string(options_.dim));
    if (index_.size() + 1 > index_.capacity()) {
      size_t want = std::max<size_t>(1024, index_.capacity() * 2);
      if (!index_.try_reserve(index_limits_t(want, 1))) return Status::IOError("out of memory growing the vector index");
    }
    if (index_.contains(static_cast<uint64_t>(id))) {
      auto removed = index_.remove(static_cast<uint64_t>(id));
      if (removed.error) return Status::Corruption("vector index: " + TakeError(removed.error));
    }
    auto added = index_.add(static_cast<uint64_t>(id), UnitVector(vec).data());
    if (added.error) return Status::IOError("vector index: " + TakeError(added.error));
    return Status::OK();
  }

  Status Remove(int64_t id) override {
    if (!index_.contains(static_cast<uint64_t>(id))) return Status::OK();
    auto removed = index_.remove(static_cast<uint64_t>(id));
    if (removed.error) return Status::Corruption("vector index: " + TakeError(removed.error));
    return Status::OK();
  }

  Result<std::vector<ScoredId>> Search(std::span<const float> query, int k) const override {
    return DoSearch(query, k, false);
  }
  Result<std::vector<ScoredId>> SearchExact(std::span<const float> query, int k) const override {
    return DoSearch(query, k, true);
  }

  Result<std::vector<ScoredId>> SearchAmong(std::span<const float> query, int k,
                                            std::span<const int64_t> ids) const override {
    std::vector<ScoredId> out;
    if (ids.empty() || index_.size() == 0 || k <= 0) return out;
    if (static_cast<int>(query.size()) != options_.dim)
      return Status::InvalidArgument("query vector has dimension " + std::to_string(query.size()) +
                                     ", the index holds " + std::to_string(options_.dim));
    // Below this many members a scan is cheaper than the graph walk (and exact).
    constexpr size_t kScanMembers = 20000;
    if (ids.size() <= kScanMembers) {
      double qn = 0;
      for (float x : query) qn += static_cast<double>(x) * x;
      std::vector<float> v(options_.dim);
      for (int64_t id : ids) {
        if (index_.get(static_cast<uint64_t>(id), v.data()) == 0) continue;
        double dot = 0, vn = 0;
        for (int d = 0; d < options_.dim; ++d) {
          dot += static_cast<double>(query[d]) * v[d];
          vn += static_cast<double>(v[d]) * v[d];
        }
        out.push_back({id, qn > 0 && vn > 0 ? static_cast<float>(dot / std::sqrt(qn * vn)) : 0.f});
      }
      size_t keep = std::min(out.size(), static_cast<size_t>(k));
      std::partial_sort(out.begin(), out.begin() + keep, out.end(), [](const ScoredId& a, const ScoredId& b) {
        return a.score != b.score ? a.score > b.score : a.id < b.id;
      });
      out.resize(keep);
      return out;
    }
    auto member = [ids](uint64_t key) { return std::binary_search(ids.begin(), ids.end(), static_cast<int64_t>(key)); };
    std::lock_guard lock(search_mu_);  // held while result is read: it borrows the search context
    auto result =
        index_.filtered_search(UnitVector(query).data(), static_cast<size_t>(k), member, index_dense_t::any_thread());
    if (result.error) return Status::IOError("vector search: " + TakeError(result.error));
    for (size_t i = 0; i < result.count; ++i) {
      auto match = result[i];
      out.push_back({static_cast<int64_t>(match.member.key), 1.0f - static_cast<float>(match.distance)});
    }
    return out;
  }

  bool Contains(int64_t id) const override { return index_.contains(static_cast<uint64_t>(id)); }
  size_t size() const override { return index_.size(); }
  int dim() const override { return options_.dim; }

  Status Save(const std::string& path, uint64_t generation) const override {
    std::string payload;
    auto saved = index_.save_to_stream([&](const void* data, size_t n) {
      payload.append(static_cast<const char*>(data), n);
      return true;
    });
    if (saved.error) return Status::IOError("cannot serialise the vector index: " + TakeError(saved.error));
    return WriteIndexFile(path, kVectorFile, {static_cast<uint32_t>(options_.dim), generation, index_.size()},
                          payload);
  }

  Status LoadPayload(std::string_view payload) {
    size_t off = 0;
    auto loaded = index_.load_from_stream([&](void* out, size_t n) {
      if (off + n > payload.size()) return false;
      std::memcpy(out, payload.data() + off, n);
      off += n;
      return true;
    });
    if (loaded.error) return Status::Corruption("vector index payload: " + TakeError(loaded.error));
    // A file of another precision or metric is stale, not wrong: rebuilt.
    if (index_.metric_kind() != metric_kind_t::ip_k ||
        index_.scalar_kind() != (options_.half_precision ? scalar_kind_t::f16_k : scalar_kind_t::f32_k))
      return Status::Corruption("vector index holds another precision or metric than configured");
    index_.change_expansion_search(options_.expansion_search);
    return Status::OK();
  }

 private:
  Result<std::vector<ScoredId>> DoSearch(std::span<const float> query, int k, bool exact) const {
    std::vector<ScoredId> out;
    if (index_.size() == 0 || k <= 0) return out;
    if (static_cast<int>(query.size()) != options_.dim)
      return Status::InvalidArgument("query vector has dimension " + std::to_string(query.size()) +
                                     ", the index holds " + std::to_string(options_.dim));
    // HNSW needs a beam at least as wide as the answer.
    std::lock_guard lock(search_mu_);  // held while result is read: it borrows the search context
    auto result = index_.search(UnitVector(query).data(), static_cast<size_t>(k), index_dense_t::any_thread(), exact);
    if (result.error) return Status::IOError("vector search: " + TakeError(result.error));
    out.reserve(result.count);
    for (size_t i = 0; i < result.count; ++i) {
      auto match = result[i];
      out.push_back({static_cast<int64_t>(match.member.key), 1.0f - static_cast<float>(match.distance)});
    }
    return out;
  }

  VectorIndexOptions options_;
  std::string init_error_;
  index_dense_t index_;
  // usearch searches need a context each (index_limits_t::threads), and
  // reserving more than one after a load corrupted the heap (found by
  // crash_kill_short): concurrent searches take turns here instead; an ANN
  // search is about a millisecond.
  mutable std::mutex search_mu_;
};

}  // namespace

std::unique_ptr<VectorIndex> NewUsearchIndex(const VectorIndexOptions& options) {
  auto idx = std::make_unique<UsearchIndex>(options);
  if (!idx->ok().ok()) return nullptr;
  return idx;
}

Result<std::unique_ptr<VectorIndex>> LoadUsearchIndex(const std::string& path, const VectorIndexOptions& options,
                                                      uint64_t* generation) {
  auto file = ReadIndexFile(path, kVectorFile);
  if (!file.ok()) return file.status();
  const IndexFileStamp& stamp = file.value().stamp;
  if (static_cast<int>(stamp.param) != options.dim)
    return Status::Corruption(path + " holds " + std::to_string(stamp.param) + "-d vectors, expected " +
                              std::to_string(options.dim));
  auto idx = std::make_unique<UsearchIndex>(options);
  if (Status st = idx->ok(); !st.ok()) return st;
  if (Status st = idx->LoadPayload(file.value().payload()); !st.ok()) return st.WithContext(path);
  *generation = stamp.generation;
  return std::unique_ptr<VectorIndex>(std::move(idx));
}

}  // namespace ragd::store
