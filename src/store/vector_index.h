// VectorIndex: approximate nearest-neighbour search over chunk embeddings,
// keyed by chunk id. One interface, one implementation (usearch HNSW; see
// docs/DECISIONS.md for why), so another ANN library can slot in.
//
// The index is a derived cache of the vectors stored in SQLite: its file
// carries the store generation it was built at, and a stale or damaged file
// is rebuilt from the database rather than trusted.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ragd/status.h"

namespace ragd::store {

struct ScoredId {
  int64_t id = 0;
  float score = 0;  // cosine similarity for the dense index; BM25 for lexical
};

struct VectorIndexOptions {
  int dim = 0;
  size_t connectivity = 16;     // HNSW M
  size_t expansion_add = 128;   // ef_construction
  size_t expansion_search = 64; // ef at query time (raised to k when k is larger)
  // Vectors held as f16: half the memory and about 1.6x the search speed,
  // with recall@10 unchanged to 3 decimals on SciFact (bench/RESULTS.md).
  // The f32 originals stay in SQLite; this only shapes the derived index.
  bool half_precision = true;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual Status Add(int64_t id, std::span<const float> vec) = 0;
  virtual Status Remove(int64_t id) = 0;  // absent ids are ignored
  virtual Result<std::vector<ScoredId>> Search(std::span<const float> query, int k) const = 0;
  // The k nearest among ids (sorted ascending): exact over them when few,
  // else the HNSW walk with ids as a predicate (it walks through
  // non-members, so it does not starve the way post-filtering does).
  virtual Result<std::vector<ScoredId>> SearchAmong(std::span<const float> query, int k,
                                                    std::span<const int64_t> ids) const = 0;
  // Brute-force search, for measuring the ANN's recall.
  virtual Result<std::vector<ScoredId>> SearchExact(std::span<const float> query, int k) const = 0;
  virtual bool Contains(int64_t id) const = 0;
  virtual size_t size() const = 0;
  virtual int dim() const = 0;
  // Writes the index atomically (temp file + rename) stamped with generation.
  virtual Status Save(const std::string& path, uint64_t generation) const = 0;
};

std::unique_ptr<VectorIndex> NewUsearchIndex(const VectorIndexOptions& options);
// Loads a saved index; *generation receives its stamp. NotFound when the file
// does not exist, Corruption when it is damaged or of another version.
Result<std::unique_ptr<VectorIndex>> LoadUsearchIndex(const std::string& path, const VectorIndexOptions& options,
                                                      uint64_t* generation);

}  // namespace ragd::store
