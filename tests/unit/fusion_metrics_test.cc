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
