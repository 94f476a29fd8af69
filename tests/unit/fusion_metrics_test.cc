#include <gtest/gtest.h>

#include <cmath>

#include "eval/metrics.h"
#include "retrieve/fusion.h"

namespace ragd {

TEST(Fusion, ReciprocalRankFusionScoresAndOrder) {
  // lexical: 1,2,3  dense: 3,1,4
  std::vector<store::ScoredId> lex{{1, 9}, {2, 8}, {3, 7}};
  std::vector<store::ScoredId> dense{{3, .9f}, {1, .8f}, {4, .7f}};
  auto fused = retrieve::ReciprocalRankFusion(lex, dense, 60);
  ASSERT_EQ(fused.size(), 4u);
  EXPECT_EQ(fused[0].id, 1);  // 1/61 + 1/62
  EXPECT_NEAR(fused[0].score, 1.0 / 61 + 1.0 / 62, 1e-12);
  EXPECT_EQ(fused[1].id, 3);  // 1/63 + 1/61
  EXPECT_EQ(fused[2].id, 2);  // 1/62
  EXPECT_EQ(fused[3].id, 4);  // 1/63
  EXPECT_EQ(fused[1].lexical_rank, 3);
  EXPECT_EQ(fused[1].dense_rank, 1);
}

std::vector<int64_t> Ids(const std::vector<retrieve::FusedHit>& hits) {
  std::vector<int64_t> ids;
  for (const auto& h : hits) ids.push_back(h.id);
  return ids;
}

// The same two lists for every fusion: lexical 1, 2, 3 (BM25 9, 8, 7) and
// dense 3, 1, 4 (cosine .9, .8, .7).
const std::vector<store::ScoredId> kLex{{1, 9}, {2, 8}, {3, 7}};
const std::vector<store::ScoredId> kDense{{3, .9f}, {1, .8f}, {4, .7f}};

TEST(Fusion, WeightedRrfLeansTowardsTheHeavierList) {
  // w = .8: 1 = 1.6/61 + .4/62, 3 = 1.6/63 + .4/61, 2 = 1.6/62, 4 = .4/63.
  auto lex_heavy = retrieve::WeightedRrf(kLex, kDense, 60, 0.8);
  EXPECT_EQ(Ids(lex_heavy), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_NEAR(lex_heavy[0].score, 1.6 / 61 + 0.4 / 62, 1e-12);
  // w = .2: 3 = .4/63 + 1.6/61 beats 1 = .4/61 + 1.6/62; 4 = 1.6/63 beats 2 = .4/62.
  EXPECT_EQ(Ids(retrieve::WeightedRrf(kLex, kDense, 60, 0.2)), (std::vector<int64_t>{3, 1, 4, 2}));
  // w = .5 is plain RRF.
  auto plain = retrieve::WeightedRrf(kLex, kDense, 60, 0.5);
  EXPECT_NEAR(plain[0].score, 1.0 / 61 + 1.0 / 62, 1e-12);
}

TEST(Fusion, MinMaxConvexCombination) {
  // Normalised lexical 1, .5, 0 and dense 1, .5, 0; absent = 0.
  auto even = retrieve::ConvexFusion(kLex, kDense, retrieve::ScoreNorm::kMinMax, 0.5);
  EXPECT_EQ(Ids(even), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_NEAR(even[0].score, 0.75, 1e-6);  // .5 * 1 + .5 * .5
  EXPECT_NEAR(even[1].score, 0.5, 1e-6);   // .5 * 0 + .5 * 1
  EXPECT_NEAR(even[2].score, 0.25, 1e-6);
  EXPECT_NEAR(even[3].score, 0.0, 1e-6);
  // w = .3: 3 = .7 beats 1 = .3 + .35.
  EXPECT_EQ(Ids(retrieve::ConvexFusion(kLex, kDense, retrieve::ScoreNorm::kMinMax, 0.3)),
            (std::vector<int64_t>{3, 1, 2, 4}));
}

TEST(Fusion, ZScoreConvexCombination) {
  // z of 9, 8, 7 (and of .9, .8, .7) = 1.2247, 0, -1.2247; absent = the list's lowest.
  const double z = std::sqrt(1.5);
  auto even = retrieve::ConvexFusion(kLex, kDense, retrieve::ScoreNorm::kZScore, 0.5);
  EXPECT_EQ(Ids(even), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_NEAR(even[0].score, 0.5 * z, 1e-5);
  EXPECT_NEAR(even[1].score, 0.0, 1e-5);
  EXPECT_NEAR(even[2].score, -0.5 * z, 1e-5);
  EXPECT_NEAR(even[3].score, -z, 1e-5);
}

TEST(Fusion, MmrSkipsNearDuplicates) {
  // 0 and 1 are near duplicates; 2 is different but less relevant.
  std::vector<double> relevance{1.0, 0.9, 0.5};
  auto sim = [](size_t a, size_t b) { return (a + b == 1) ? 0.95 : (a == b ? 1.0 : 0.1); };
  // Normalised relevance 1, .8, 0. Second pick: 1 = .5*.8 - .5*.95 < 2 = 0 - .5*.1.
  EXPECT_EQ(retrieve::Mmr(relevance, sim, 0.5, 2), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(retrieve::Mmr(relevance, sim, 1.0, 3), (std::vector<size_t>{0, 1, 2}));  // relevance only
  EXPECT_TRUE(retrieve::Mmr({}, sim, 0.5, 3).empty());
}

// 100 candidates: a clear winner over a gentle slope, or only the slope.
std::vector<store::ScoredId> Peaked(double top, double base) {
  std::vector<store::ScoredId> l{{0, static_cast<float>(top)}};
  for (int i = 1; i < 100; ++i) l.push_back({i, static_cast<float>(base - 0.001 * i)});
  return l;
}
std::vector<store::ScoredId> Flat(double base) {
  std::vector<store::ScoredId> l;
  for (int i = 0; i < 100; ++i) l.push_back({i + 1000, static_cast<float>(base - 0.001 * i)});
  return l;
}

TEST(Fusion, DispersionWeightFollowsTheListWhoseWinnerStandsOut) {
  // BM25 singles out one chunk, the dense list is a slope: BM25 leads.
  EXPECT_GT(retrieve::DispersionWeight(Peaked(25, 5), Flat(0.45)), 0.9);
  // The other way round (BM25's scores on another language are a slope).
  EXPECT_LT(retrieve::DispersionWeight(Flat(6), Peaked(0.9, 0.5)), 0.1);
  // Neither stands out beyond a slope: even.
  EXPECT_DOUBLE_EQ(retrieve::DispersionWeight(Flat(6), Flat(0.45)), 0.5);
  // A missing list has no say.
  EXPECT_DOUBLE_EQ(retrieve::DispersionWeight({}, Peaked(0.9, 0.5)), 0.0);
  EXPECT_DOUBLE_EQ(retrieve::DispersionWeight(Peaked(25, 5), {}), 1.0);
  // The top z-score of a list with one outlier among 100: about sqrt(99).
  EXPECT_NEAR(retrieve::TopZScore(Peaked(100, 0)), std::sqrt(99.0), 0.05);
  // Dispersion fusion puts the peaked list's winner first.
  retrieve::FusionSettings s{Fusion::kDispersion, 0.7, 60};
  EXPECT_EQ(retrieve::FuseLists(s, Flat(6), Peaked(0.9, 0.5))[0].id, 0);
}

TEST(Metrics, HandComputedValues) {
  eval::Qrels q{{"a", 1}, {"b", 2}};
  std::vector<std::string> ranked{"x", "b", "a"};
  // DCG = 2/log2(3) + 1/log2(4); IDCG = 2/log2(2) + 1/log2(3)
  double dcg = 2 / std::log2(3.0) + 1 / std::log2(4.0);
  double idcg = 2 / 1.0 + 1 / std::log2(3.0);
  EXPECT_NEAR(eval::NdcgAtK(ranked, q, 10), dcg / idcg, 1e-12);
  EXPECT_NEAR(eval::MrrAtK(ranked, q, 10), 0.5, 1e-12);
  EXPECT_NEAR(eval::RecallAtK(ranked, q, 2), 0.5, 1e-12);
  EXPECT_NEAR(eval::RecallAtK(ranked, q, 10), 1.0, 1e-12);
  EXPECT_EQ(eval::MrrAtK({"x", "y"}, q, 10), 0.0);
  EXPECT_EQ(eval::NdcgAtK({}, q, 10), 0.0);
}

}  // namespace ragd
