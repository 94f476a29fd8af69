// LexicalIndex: BM25 top-k over chunk terms without scoring every chunk
// that matches a query term.
//
// The scores are FTS5's bm25() exactly (k1 = 1.2, b = 0.75, FTS5's idf with
// its 1e-6 floor, document length = the chunk's token count): the index only
// changes how the top k are found. Postings are kept in blocks of 128 with
// each block's largest term frequency and shortest chunk; a query runs
// MaxScore (Turtle & Flood) over them: terms whose summed upper bounds
// cannot lift a chunk into the current top k are only probed for the
// candidates the other terms bring, and a candidate is dropped as soon as
// its block bounds say it cannot make it. The other (essential) terms are
// added up a window of 2,048 chunks at a time, term by term, rather than
// merged chunk by chunk.
//
// Like the vector index it is a derived cache of the SQLite store: its file
// carries the store generation, and a stale or damaged file is rebuilt from
// the chunks' text (store/sqlite_store.cc).
//
// Thread-compatible: Search is const and may run concurrently; Add, Remove
// and Compact need the caller's exclusive lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ragd/status.h"
#include "store/vector_index.h"

namespace ragd::store {

class LexicalIndex {
 public:
  // A query term and how many of the query's words analyse to it (FTS5
  // scores each OR-ed phrase, so a term asked twice counts twice).
  struct QueryTerm {
    std::string term;
    int weight = 1;
  };

  // Adds a chunk with its analysed terms in text order (repeats are its
  // term frequencies; their count is its length). Ids must increase, as
  // the store's AUTOINCREMENT ids do; an id not above the last is refused.
  Status Add(int64_t id, std::span<const std::string> terms);
  // Removes a chunk given the terms it was added with; an unknown id is
  // ignored. Removed chunks stay in the postings, skipped, until Compact.
  void Remove(int64_t id, std::span<const std::string> terms);
  // Drops removed chunks from the postings when they are a quarter or more
  // of them (cheap to call after every commit).
  void CompactIfWorthIt();

  // The k best chunks by bm25, best first, ties by ascending id. allowed:
  // when non-null, only these chunk ids (sorted ascending) are considered.
  std::vector<ScoredId> Search(std::span<const QueryTerm> query, int k,
                               const std::vector<int64_t>* allowed = nullptr) const;
  // The same ranking by scoring every chunk that holds a query term: the
  // reference the tests hold Search to.
  std::vector<ScoredId> SearchExhaustive(std::span<const QueryTerm> query, int k) const;

  size_t size() const { return live_docs_; }  // chunks indexed, removed ones not counted
  bool Contains(int64_t id) const;

  // Writes the index atomically (temp file + rename) stamped with generation.
  Status Save(const std::string& path, uint64_t generation) const;
  // NotFound when the file is missing, Corruption when it is damaged or of
  // another format version; *generation receives the stamp.
  static Result<std::unique_ptr<LexicalIndex>> Load(const std::string& path, uint64_t* generation);

 private:
  static constexpr uint32_t kBlock = 128;

  struct Postings {
    std::vector<uint32_t> docs;  // doc numbers, ascending
    std::vector<uint16_t> tfs;   // term frequency in each (saturated at 65535)
    std::vector<uint16_t> block_max_tf;
    std::vector<uint32_t> block_min_len;
    uint32_t live = 0;  // chunks holding the term that are not removed: its df
    void Append(uint32_t doc, uint16_t tf, uint32_t len);
  };
  struct Cursor;
  struct TermHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  double Idf(const Postings& p) const;
  double AverageLength() const;
  const Postings* Find(std::string_view term) const;

  // Doc numbers index these; ids ascend with them.
  std::vector<int64_t> ids_;
  std::vector<uint32_t> lengths_;
  std::vector<uint8_t> live_;
  size_t live_docs_ = 0;
  size_t dead_docs_ = 0;
  uint64_t live_tokens_ = 0;
  std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> term_ids_;
  std::vector<Postings> postings_;
};

}  // namespace ragd::store
