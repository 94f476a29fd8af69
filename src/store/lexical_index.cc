#include "store/lexical_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "store/index_file.h"

namespace ragd::store {

namespace {

// FTS5's bm25() constants (fts5_aux.c).
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
// Upper bounds are widened by this much so that a bound summed in another
// order than the score it bounds never prunes a chunk that belongs.
constexpr double kBoundSlack = 1 + 1e-9;

// lexical.idx; bump the format version when the payload changes.
constexpr IndexFileKind kLexicalFile = {{'R', 'A', 'G', 'D', 'L', 'E', 'X', '1'}, 1, "lexical index"};

// The term-frequency part of bm25 for a chunk of `len` tokens.
double Saturation(double tf, double len, double avg_len) {
  return tf * (kK1 + 1) / (tf + kK1 * (1 - kB + kB * len / avg_len));
}

// Top-k keeper on double scores; docs arrive in ascending id, so a later
// chunk that only ties the k-th loses (ascending id breaks ties).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  bool full() const { return heap_.size() == k_; }
  // The score a new chunk must beat; -inf until k are held.
  double threshold() const { return full() ? heap_.front().first : -std::numeric_limits<double>::infinity(); }
  void Offer(double score, uint32_t doc) {
    if (full() && score <= heap_.front().first) return;
    heap_.emplace_back(score, doc);
    std::push_heap(heap_.begin(), heap_.end(), Cmp);
    if (heap_.size() > k_) {
      std::pop_heap(heap_.begin(), heap_.end(), Cmp);
      heap_.pop_back();
    }
  }
  std::vector<std::pair<double, uint32_t>> Sorted() {
    std::sort(heap_.begin(), heap_.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    return std::move(heap_);
  }

 private:
  // "a ranks above b": std::push_heap keeps the greatest by this order at
  // the front, which is then the worst held (lowest score, then highest
  // doc number), the one a better chunk replaces.
  static bool Cmp(const std::pair<double, uint32_t>& a, const std::pair<double, uint32_t>& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  }
  size_t k_;
  std::vector<std::pair<double, uint32_t>> heap_;
};

template <typename T>
void PutRaw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
void PutArray(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  template <typename T>
  bool Raw(T* v) {
    if (data_.size() - off_ < sizeof(T)) return false;
    std::memcpy(v, data_.data() + off_, sizeof(T));
    off_ += sizeof(T);
    return true;
  }
  template <typename T>
  bool Array(std::vector<T>* v, uint64_t n) {
    if (n > (data_.size() - off_) / sizeof(T)) return false;
    v->resize(n);
    std::memcpy(v->data(), data_.data() + off_, n * sizeof(T));
    off_ += n * sizeof(T);
    return true;
  }
  bool Bytes(std::string* s, uint64_t n) {
    if (n > data_.size() - off_) return false;
    s->assign(data_.data() + off_, n);
    off_ += n;
    return true;
  }
  bool done() const { return off_ == data_.size(); }

 private:
  std::string_view data_;
  size_t off_ = 0;
};

}  // namespace

void LexicalIndex::Postings::Append(uint32_t doc, uint16_t tf, uint32_t len) {
  if (docs.size() % kBlock == 0) {
    block_max_tf.push_back(tf);
    block_min_len.push_back(len);
  } else {
    block_max_tf.back() = std::max(block_max_tf.back(), tf);
    block_min_len.back() = std::min(block_min_len.back(), len);
  }
  docs.push_back(doc);
  tfs.push_back(tf);
}

Status LexicalIndex::Add(int64_t id, std::span<const std::string> terms) {
  if (!ids_.empty() && id <= ids_.back())
    return Status::InvalidArgument("lexical index: chunk " + std::to_string(id) + " is not above the last one (" +
                                   std::to_string(ids_.back()) + ")");
  if (ids_.size() >= std::numeric_limits<uint32_t>::max())
    return Status::InvalidArgument("lexical index: more than 4 billion chunks");
  const auto doc = static_cast<uint32_t>(ids_.size());
  const auto len = static_cast<uint32_t>(std::min<size_t>(terms.size(), std::numeric_limits<uint32_t>::max()));
  ids_.push_back(id);
  lengths_.push_back(len);
  live_.push_back(1);
  ++live_docs_;
  live_tokens_ += len;
  std::vector<std::string_view> sorted(terms.begin(), terms.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    auto it = term_ids_.find(sorted[i]);
    if (it == term_ids_.end()) {
      it = term_ids_.emplace(std::string(sorted[i]), static_cast<uint32_t>(postings_.size())).first;
      postings_.emplace_back();
    }
    Postings& p = postings_[it->second];
    p.Append(doc, static_cast<uint16_t>(std::min<size_t>(j - i, 65535)), len);
    ++p.live;
    i = j;
  }
  return Status::OK();
}

void LexicalIndex::Remove(int64_t id, std::span<const std::string> terms) {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return;
  const auto doc = static_cast<size_t>(it - ids_.begin());
  if (!live_[doc]) return;
  live_[doc] = 0;
  --live_docs_;
  ++dead_docs_;
  live_tokens_ -= lengths_[doc];
  std::vector<std::string_view> sorted(terms.begin(), terms.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (std::string_view t : sorted) {
    auto found = term_ids_.find(t);
    if (found != term_ids_.end() && postings_[found->second].live > 0) --postings_[found->second].live;
  }
}

bool LexicalIndex::Contains(int64_t id) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  return it != ids_.end() && *it == id && live_[static_cast<size_t>(it - ids_.begin())];
}

void LexicalIndex::CompactIfWorthIt() {
  if (dead_docs_ == 0 || dead_docs_ * 4 < ids_.size()) return;
  std::vector<uint32_t> renumber(ids_.size(), UINT32_MAX);
  std::vector<int64_t> ids;
  std::vector<uint32_t> lengths;
  for (size_t d = 0; d < ids_.size(); ++d) {
    if (!live_[d]) continue;
    renumber[d] = static_cast<uint32_t>(ids.size());
    ids.push_back(ids_[d]);
    lengths.push_back(lengths_[d]);
  }
  std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> term_ids;
  std::vector<Postings> postings;
  for (auto& [term, tid] : term_ids_) {
    Postings& old = postings_[tid];
    if (old.live == 0) continue;
    Postings p;
    p.live = old.live;
    for (size_t i = 0; i < old.docs.size(); ++i) {
      uint32_t d = renumber[old.docs[i]];
      if (d != UINT32_MAX) p.Append(d, old.tfs[i], lengths[d]);
    }
    term_ids.emplace(term, static_cast<uint32_t>(postings.size()));
    postings.push_back(std::move(p));
  }
  ids_ = std::move(ids);
  lengths_ = std::move(lengths);
  live_.assign(ids_.size(), 1);
  dead_docs_ = 0;
  term_ids_ = std::move(term_ids);
  postings_ = std::move(postings);
}

const LexicalIndex::Postings* LexicalIndex::Find(std::string_view term) const {
  auto it = term_ids_.find(term);
  return it == term_ids_.end() || postings_[it->second].live == 0 ? nullptr : &postings_[it->second];
}

// FTS5: log((N - n + 0.5) / (n + 0.5)), floored at 1e-6 so that a term in
// most chunks still counts a little.
double LexicalIndex::Idf(const Postings& p) const {
  double n = p.live;
  double idf = std::log((static_cast<double>(live_docs_) - n + 0.5) / (n + 0.5));
  return idf <= 0.0 ? 1e-6 : idf;
}

double LexicalIndex::AverageLength() const {
  return static_cast<double>(live_tokens_) / static_cast<double>(live_docs_);
}

// One query term's walk along its postings.
struct LexicalIndex::Cursor {
  const Postings* p = nullptr;
  double weight = 0;  // query weight * idf
  double avg_len = 1;
  double upper = 0;   // the most this term adds to any chunk
  size_t pos = 0;

  uint32_t doc() const { return pos < p->docs.size() ? p->docs[pos] : UINT32_MAX; }
  double Score(const std::vector<uint32_t>& lengths) const {
    return weight * Saturation(p->tfs[pos], lengths[p->docs[pos]], avg_len);
  }
  double BlockUpper(size_t block) const {
    return weight * Saturation(p->block_max_tf[block], p->block_min_len[block], avg_len) * kBoundSlack;
  }
  // Moves to the first posting at or after doc: whole blocks are skipped
  // by their last doc, then a binary search inside the block.
  void SeekTo(uint32_t doc) {
    const auto& d = p->docs;
    if (pos >= d.size() || d[pos] >= doc) return;
    size_t block = pos / kBlock;
    const size_t blocks = (d.size() + kBlock - 1) / kBlock;
    while (block + 1 < blocks && d[std::min(d.size(), (block + 1) * kBlock) - 1] < doc) ++block;
    size_t begin = std::max(pos, block * kBlock);
    size_t end = std::min(d.size(), (block + 1) * kBlock);
    pos = static_cast<size_t>(std::lower_bound(d.begin() + begin, d.begin() + end, doc) - d.begin());
  }
};

std::vector<ScoredId> LexicalIndex::Search(std::span<const QueryTerm> query, int k,
                                           const std::vector<int64_t>* allowed) const {
  std::vector<ScoredId> out;
  if (k <= 0 || live_docs_ == 0) return out;
  const double avg_len = AverageLength();
  std::vector<Cursor> cursors;
  for (const QueryTerm& q : query) {
    const Postings* p = Find(q.term);
    if (!p || q.weight <= 0) continue;
    Cursor c;
    c.p = p;
    c.weight = q.weight * Idf(*p);
    c.avg_len = avg_len;
    for (size_t b = 0; b < p->block_max_tf.size(); ++b) c.upper = std::max(c.upper, c.BlockUpper(b));
    cursors.push_back(c);
  }
  if (cursors.empty()) return out;
  std::vector<uint8_t> allowed_docs;
  if (allowed) {
    allowed_docs.assign(ids_.size(), 0);
    for (int64_t id : *allowed) {
      auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
      if (it != ids_.end() && *it == id) allowed_docs[static_cast<size_t>(it - ids_.begin())] = 1;
    }
  }
  // MaxScore: cursors by ascending bound; below[i] = sum of the bounds of
  // cursors 0..i-1. Cursors before `first` are non-essential: together they
  // cannot reach the threshold, so only the others propose candidates.
  std::sort(cursors.begin(), cursors.end(), [](const Cursor& a, const Cursor& b) { return a.upper < b.upper; });
  std::vector<double> below(cursors.size() + 1, 0);
  for (size_t i = 0; i < cursors.size(); ++i) below[i + 1] = below[i] + cursors[i].upper;
  TopK top(static_cast<size_t>(k));
  // The essential cursors are walked a window of chunk numbers at a time,
  // term by term, into an accumulator (as Lucene's BooleanScorer does)
  // instead of merging them chunk by chunk. The window's chunks are then
  // taken in ascending order (a tie goes to the lower id), probed on the
  // non-essential terms and offered. The essential set is fixed for a
  // window: a term that drops out of it mid-window is already added in.
  constexpr uint32_t kWindow = 2048;
  std::vector<double> acc(kWindow, 0);
  std::vector<uint64_t> touched(kWindow / 64, 0);
  size_t first = 0;
  while (first < cursors.size()) {
    uint32_t start = UINT32_MAX;
    for (size_t i = first; i < cursors.size(); ++i) start = std::min(start, cursors[i].doc());
    if (start == UINT32_MAX) break;
    const uint64_t end = uint64_t{start} + kWindow;
    const size_t essential = first;
    for (size_t i = essential; i < cursors.size(); ++i) {
      Cursor& c = cursors[i];
      for (; c.pos < c.p->docs.size() && c.p->docs[c.pos] < end; ++c.pos) {
        const uint32_t slot = c.p->docs[c.pos] - start;
        acc[slot] += c.Score(lengths_);
        touched[slot / 64] |= uint64_t{1} << (slot % 64);
      }
    }
    for (size_t word = 0; word < touched.size(); ++word) {
      for (uint64_t bits = touched[word]; bits != 0; bits &= bits - 1) {
        const auto slot = static_cast<uint32_t>(word * 64 + static_cast<size_t>(std::countr_zero(bits)));
        const uint32_t doc = start + slot;
        double score = acc[slot];
        acc[slot] = 0;
        if (!live_[doc] || (allowed && !allowed_docs[doc])) continue;
        const double threshold = top.threshold();
        bool pruned = false;
        for (size_t i = essential; i-- > 0;) {
          Cursor& c = cursors[i];
          if (score + below[i + 1] <= threshold) {
            pruned = true;
            break;
          }
          c.SeekTo(doc);
          if (c.doc() == UINT32_MAX) continue;
          // The block holding doc bounds this term tighter than its whole list.
          if (score + c.BlockUpper(c.pos / kBlock) + below[i] <= threshold) {
            pruned = true;
            break;
          }
          if (c.doc() == doc) score += c.Score(lengths_);
        }
        if (!pruned) top.Offer(score, doc);
      }
      touched[word] = 0;
    }
    const double t = top.threshold();
    while (first < cursors.size() && below[first + 1] <= t) ++first;
  }
  for (const auto& [score, doc] : top.Sorted()) out.push_back({ids_[doc], static_cast<float>(score)});
  return out;
}

std::vector<ScoredId> LexicalIndex::SearchExhaustive(std::span<const QueryTerm> query, int k) const {
  std::vector<ScoredId> out;
  if (k <= 0 || live_docs_ == 0) return out;
  const double avg_len = AverageLength();
  std::unordered_map<uint32_t, double> scores;
  for (const QueryTerm& q : query) {
    const Postings* p = Find(q.term);
    if (!p) continue;
    const double w = q.weight * Idf(*p);
    for (size_t i = 0; i < p->docs.size(); ++i)
      if (live_[p->docs[i]]) scores[p->docs[i]] += w * Saturation(p->tfs[i], lengths_[p->docs[i]], avg_len);
  }
  std::vector<std::pair<double, uint32_t>> ranked;
  for (const auto& [doc, score] : scores) ranked.emplace_back(score, doc);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (ranked.size() > static_cast<size_t>(k)) ranked.resize(static_cast<size_t>(k));
  for (const auto& [score, doc] : ranked) out.push_back({ids_[doc], static_cast<float>(score)});
  return out;
}

Status LexicalIndex::Save(const std::string& path, uint64_t generation) const {
  std::string payload;
  PutRaw(payload, static_cast<uint64_t>(ids_.size()));
  PutArray(payload, ids_);
  PutArray(payload, lengths_);
  PutArray(payload, live_);
  PutRaw(payload, static_cast<uint64_t>(term_ids_.size()));
  for (const auto& [term, tid] : term_ids_) {
    const Postings& p = postings_[tid];
    PutRaw(payload, static_cast<uint32_t>(term.size()));
    payload += term;
    PutRaw(payload, p.live);
    PutRaw(payload, static_cast<uint64_t>(p.docs.size()));
    PutArray(payload, p.docs);
    PutArray(payload, p.tfs);
  }
  return WriteIndexFile(path, kLexicalFile, {0, generation, live_docs_}, payload);
}

Result<std::unique_ptr<LexicalIndex>> LexicalIndex::Load(const std::string& path, uint64_t* generation) {
  auto file = ReadIndexFile(path, kLexicalFile);
  if (!file.ok()) return file.status();
  std::string_view payload = file.value().payload();
  auto index = std::make_unique<LexicalIndex>();
  LexicalIndex& x = *index;
  Reader r(payload);
  uint64_t docs = 0, terms = 0;
  const auto bad = [&] { return Status::Corruption(path + " is malformed"); };
  if (!r.Raw(&docs) || !r.Array(&x.ids_, docs) || !r.Array(&x.lengths_, docs) || !r.Array(&x.live_, docs) ||
      !r.Raw(&terms))
    return bad();
  if (!std::is_sorted(x.ids_.begin(), x.ids_.end())) return bad();
  for (size_t d = 0; d < docs; ++d) {
    if (x.live_[d]) {
      ++x.live_docs_;
      x.live_tokens_ += x.lengths_[d];
    } else {
      ++x.dead_docs_;
    }
  }
  x.postings_.reserve(terms);
  for (uint64_t t = 0; t < terms; ++t) {
    uint32_t len = 0;
    uint64_t n = 0;
    std::string term;
    Postings stored;
    if (!r.Raw(&len) || !r.Bytes(&term, len) || !r.Raw(&stored.live) || !r.Raw(&n) || !r.Array(&stored.docs, n) ||
        !r.Array(&stored.tfs, n))
      return bad();
    Postings p;
    p.live = stored.live;
    p.docs.reserve(n);
    p.tfs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t d = stored.docs[i];
      if (d >= docs || (i > 0 && d <= stored.docs[i - 1])) return bad();
      p.Append(d, stored.tfs[i], x.lengths_[d]);
    }
    if (!x.term_ids_.emplace(std::move(term), static_cast<uint32_t>(x.postings_.size())).second) return bad();
    x.postings_.push_back(std::move(p));
  }
  if (!r.done()) return bad();
  *generation = file.value().stamp.generation;
  return index;
}

}  // namespace ragd::store
