// The block-max BM25 index: its pruned search must return exactly what
// scoring every match returns (ids, order and scores), through removals,
// compaction, filters and a save/load round trip; a damaged file is refused.
#include "store/lexical_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../test_util.h"

namespace ragd::store {
namespace {

using QueryTerm = LexicalIndex::QueryTerm;

// A Zipf-like vocabulary, so some terms are in most chunks (low idf, long
// postings over many blocks) and most are rare: the shapes MaxScore prunes.
class Corpus {
 public:
  explicit Corpus(uint32_t seed) : rng_(seed) {}
  std::string Term() {
    std::uniform_real_distribution<double> u(0, 1);
    int rank = static_cast<int>(std::pow(400.0, u(rng_)));  // 1..400, skewed to small ranks
    return "t" + std::to_string(rank);
  }
  std::vector<std::string> Chunk() {
    std::uniform_int_distribution<int> len(0, 60);
    std::vector<std::string> terms;
    for (int i = len(rng_); i > 0; --i) terms.push_back(Term());
    return terms;
  }
  std::vector<QueryTerm> Query() {
    std::uniform_int_distribution<int> n(1, 12), w(1, 2);
    std::vector<QueryTerm> q;
    for (int i = n(rng_); i > 0; --i) q.push_back({Term(), w(rng_) == 2 && i % 3 == 0 ? 2 : 1});
    return q;
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

// The same ranking: the same score at every rank, and the same chunk
// unless two chunks tie in float (the sums are taken in another order, so
// their doubles may differ in the last bits and swap them) or tie with the
// last one kept (either may be cut).
void ExpectSame(std::vector<ScoredId> got, std::vector<ScoredId> want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  auto order = [](const ScoredId& a, const ScoredId& b) { return a.score != b.score ? a.score > b.score : a.id < b.id; };
  std::sort(got.begin(), got.end(), order);
  std::sort(want.begin(), want.end(), order);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_FLOAT_EQ(got[i].score, want[i].score) << what << " rank " << i;
    if (want[i].score != want.back().score) {
      EXPECT_EQ(got[i].id, want[i].id) << what << " rank " << i;
    }
  }
}

TEST(LexicalIndex, PrunedSearchEqualsScoringEveryMatch) {
  Corpus corpus(7);
  LexicalIndex index;
  std::vector<std::vector<std::string>> texts;
  for (int64_t id = 1; id <= 3000; ++id) {
    texts.push_back(corpus.Chunk());
    ASSERT_TRUE(index.Add(id * 3, texts.back()).ok());  // ids with gaps, as after deletions
  }
  for (int q = 0; q < 200; ++q) {
    auto query = corpus.Query();
    for (int k : {1, 10, 100}) ExpectSame(index.Search(query, k), index.SearchExhaustive(query, k), "k=" + std::to_string(k));
  }
  // Removing chunks changes df, N and the average length; compaction
  // renumbers what is left. Neither may change a ranking.
  for (int64_t id = 3; id <= 9000; id += 6) index.Remove(id, texts[static_cast<size_t>(id / 3 - 1)]);
  EXPECT_EQ(index.size(), 1500u);
  EXPECT_FALSE(index.Contains(3));
  EXPECT_TRUE(index.Contains(6));
  for (int q = 0; q < 50; ++q) {
    auto query = corpus.Query();
    auto before = index.Search(query, 10);
    ExpectSame(before, index.SearchExhaustive(query, 10), "after removals");
    for (const auto& hit : before) EXPECT_EQ(hit.id % 6, 0) << "a removed chunk came back";
  }
  auto query = corpus.Query();
  auto before = index.Search(query, 20);
  index.CompactIfWorthIt();
  ExpectSame(index.Search(query, 20), before, "after compaction");
}

// Essential terms are summed a window of 2,048 chunk numbers at a time,
// each window starting at the lowest posting left: many windows, a term
// whose postings fall on a window's last slot and the next one's first
// (when it leads, windows start at chunks 0, 2048, 4096, ...), and the
// essential set shrinking between windows must not change a ranking.
TEST(LexicalIndex, ManyWindowsRankAsOne) {
  Corpus corpus(11);
  LexicalIndex index;
  for (int64_t id = 1; id <= 20000; ++id) {
    std::vector<std::string> terms = corpus.Chunk();
    terms.resize(std::min<size_t>(terms.size(), 8));
    if (id % 2048 == 0 || id % 2048 == 1) terms.push_back("edge");  // chunk numbers 0, 2047, 2048, 4095, 4096, ...
    ASSERT_TRUE(index.Add(id, terms).ok());
  }
  for (int q = 0; q < 60; ++q) {
    auto query = corpus.Query();
    if (q % 3 == 0) query.push_back({"edge", 1});
    for (int k : {1, 10, 100}) ExpectSame(index.Search(query, k), index.SearchExhaustive(query, k), "k=" + std::to_string(k));
  }
}

TEST(LexicalIndex, AScoreIsFts5Bm25) {
  // By hand: N = 4 chunks of 10 tokens (avgdl 2.5); "dog" and "fox" are in
  // one chunk each, idf log(3.5 / 1.5); "eel" is in three, so FTS5's idf
  // log(1.5 / 3.5) is negative and floored at 1e-6.
  LexicalIndex index;
  ASSERT_TRUE(index.Add(1, std::vector<std::string>{"cat", "dog", "dog", "eel"}).ok());
  ASSERT_TRUE(index.Add(2, std::vector<std::string>{"fox", "gnu"}).ok());
  ASSERT_TRUE(index.Add(3, std::vector<std::string>{"eel"}).ok());
  ASSERT_TRUE(index.Add(4, std::vector<std::string>{"eel", "gnu", "ant"}).ok());
  auto part = [](double idf, double tf, double len) { return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / 2.5)); };
  const double rare = std::log(3.5 / 1.5), common = 1e-6;
  std::vector<QueryTerm> q{{"dog", 1}, {"fox", 1}, {"eel", 1}};
  auto hits = index.Search(q, 10);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(hits[0].id, 1);
  EXPECT_FLOAT_EQ(hits[0].score, static_cast<float>(part(rare, 2, 4) + part(common, 1, 4)));
  EXPECT_EQ(hits[1].id, 2);
  EXPECT_FLOAT_EQ(hits[1].score, static_cast<float>(part(rare, 1, 2)));
  EXPECT_EQ(hits[2].id, 3);  // the shorter chunk first
  EXPECT_FLOAT_EQ(hits[2].score, static_cast<float>(part(common, 1, 1)));
  EXPECT_EQ(hits[3].id, 4);
  // A term asked twice counts twice, as two OR-ed FTS5 phrases do.
  std::vector<QueryTerm> twice{{"dog", 2}};
  EXPECT_FLOAT_EQ(index.Search(twice, 1)[0].score, static_cast<float>(2 * part(rare, 2, 4)));
  EXPECT_TRUE(index.Search(std::vector<QueryTerm>{{"yak", 1}}, 5).empty());
  EXPECT_TRUE(index.Search(q, 0).empty());
}

TEST(LexicalIndex, AllowedIdsRestrictTheSearch) {
  Corpus corpus(11);
  LexicalIndex index;
  for (int64_t id = 1; id <= 2000; ++id) ASSERT_TRUE(index.Add(id, corpus.Chunk()).ok());
  std::vector<int64_t> allowed;
  for (int64_t id = 5; id <= 2000; id += 7) allowed.push_back(id);
  allowed.push_back(99999);  // not indexed: ignored
  for (int q = 0; q < 50; ++q) {
    auto query = corpus.Query();
    auto hits = index.Search(query, 10, &allowed);
    // The reference: every match, keeping only the allowed ones.
    std::vector<ScoredId> want;
    for (const auto& h : index.SearchExhaustive(query, 2000))
      if (std::binary_search(allowed.begin(), allowed.end(), h.id) && want.size() < 10) want.push_back(h);
    ExpectSame(hits, want, "filtered");
  }
}

TEST(LexicalIndex, IdsMustIncrease) {
  LexicalIndex index;
  ASSERT_TRUE(index.Add(5, std::vector<std::string>{"a"}).ok());
  Status st = index.Add(5, std::vector<std::string>{"b"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not above the last one (5)"), std::string::npos) << st.ToString();
}

TEST(LexicalIndex, SaveLoadRoundTripAndDamagedFiles) {
  testing::TempDir dir;
  const std::string path = dir / "lexical.idx";
  Corpus corpus(3);
  LexicalIndex index;
  std::vector<std::vector<std::string>> texts;
  for (int64_t id = 1; id <= 500; ++id) {
    texts.push_back(corpus.Chunk());
    ASSERT_TRUE(index.Add(id, texts.back()).ok());
  }
  index.Remove(10, texts[9]);
  ASSERT_TRUE(index.Save(path, 42).ok());
  uint64_t generation = 0;
  auto loaded = LexicalIndex::Load(path, &generation);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(generation, 42u);
  EXPECT_EQ((*loaded)->size(), 499u);
  EXPECT_FALSE((*loaded)->Contains(10));
  for (int q = 0; q < 30; ++q) {
    auto query = corpus.Query();
    ExpectSame((*loaded)->Search(query, 10), index.Search(query, 10), "loaded");
  }

  EXPECT_EQ(LexicalIndex::Load(dir / "missing.idx", &generation).status().code(), StatusCode::kNotFound);
  std::string file = testing::ReadAll(path);
  std::string flipped = file;
  flipped[flipped.size() / 2] ^= 0x40;
  testing::WriteFile(path, flipped);
  auto damaged = LexicalIndex::Load(path, &generation);
  EXPECT_EQ(damaged.status().code(), StatusCode::kCorruption);
  EXPECT_NE(damaged.status().message().find("fails its checksum"), std::string::npos);
  testing::WriteFile(path, file.substr(0, 20));
  EXPECT_NE(LexicalIndex::Load(path, &generation).status().message().find("is truncated"), std::string::npos);
  testing::WriteFile(path, std::string(64, 'x'));
  EXPECT_NE(LexicalIndex::Load(path, &generation).status().message().find("is not a ragd lexical index"),
            std::string::npos);
}

}  // namespace
}  // namespace ragd::store
