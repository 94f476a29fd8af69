// Answer metrics against values computed by hand (SQuAD / CMRC2018
// conventions, and Lin 2004's ROUGE examples).
#include <gtest/gtest.h>

#include "eval/answer_metrics.h"

namespace ragd::eval {
namespace {

TEST(AnswerMetrics, NormalisationAndTokens) {
  EXPECT_EQ(NormalizeAnswer("The  Cat, sat!"), "cat sat");
  EXPECT_EQ(NormalizeAnswer("ＡＢＣ。你好！"), "abc 你好");  // full-width folded, CJK punctuation gone
  EXPECT_EQ(AnswerTokens("北京大学 in 2008"), (std::vector<std::string>{"北", "京", "大", "学", "in", "2008"}));
  EXPECT_EQ(AnswerTokens("a cat", false), (std::vector<std::string>{"a", "cat"}));
}

TEST(AnswerMetrics, ExactMatchAndF1) {
  EXPECT_EQ(ExactMatch("The Eiffel Tower.", {"eiffel tower"}), 1);
  EXPECT_EQ(ExactMatch("Eiffel", {"eiffel tower", "paris"}), 0);
  // pred {cat, sat}, ref {cat, sat, on, mat}: P = 1, R = 1/2, F1 = 2/3.
  EXPECT_NEAR(TokenF1("cat sat", {"the cat sat on the mat"}), 2.0 / 3, 1e-12);
  // Characters for Chinese: pred 北京大学 (4), ref 北京 (2): P = 1/2, R = 1, F1 = 2/3.
  EXPECT_NEAR(TokenF1("北京大学", {"北京"}), 2.0 / 3, 1e-12);
  // Best over references; nothing shared is 0.
  EXPECT_NEAR(TokenF1("北京", {"上海", "北京"}), 1.0, 1e-12);
  EXPECT_EQ(TokenF1("", {"x"}), 0);
  // Repeated tokens are matched one to one: {x x y} and {x y y} share one x and one y.
  EXPECT_NEAR(TokenF1("x x y", {"x y y"}), 2.0 / 3, 1e-12);
}

TEST(AnswerMetrics, RougeOnLinsExample) {
  // Lin 2004: S1 "police killed the gunman", S2 "police kill the gunman".
  const std::vector<std::string> ref = {"police killed the gunman"};
  Rouge r1 = RougeN("police kill the gunman", ref, 1);
  EXPECT_NEAR(r1.f1, 0.75, 1e-12);  // police, the, gunman of 4
  Rouge r2 = RougeN("police kill the gunman", ref, 2);
  EXPECT_NEAR(r2.precision, 1.0 / 3, 1e-12);  // "the gunman" of 3 bigrams
  EXPECT_NEAR(r2.recall, 1.0 / 3, 1e-12);
  Rouge l = RougeL("police kill the gunman", ref);
  EXPECT_NEAR(l.f1, 0.75, 1e-12);  // LCS police the gunman = 3
  Rouge s = RougeS("police kill the gunman", ref);
  EXPECT_NEAR(s.f1, 0.5, 1e-12);  // 3 of C(4,2) = 6 skip-bigrams
  // "the gunman kill police": LCS 2 (the gunman), skip-bigram 1 (the gunman).
  EXPECT_NEAR(RougeL("the gunman kill police", ref).f1, 0.5, 1e-12);
  EXPECT_NEAR(RougeS("the gunman kill police", ref).f1, 1.0 / 6, 1e-12);
  // Chinese by characters: 北京大学 vs 北京 -> ROUGE-2 P = 1/3, R = 1.
  Rouge zh = RougeN("北京大学", {"北京"}, 2);
  EXPECT_NEAR(zh.precision, 1.0 / 3, 1e-12);
  EXPECT_NEAR(zh.recall, 1.0, 1e-12);
}

TEST(AnswerMetrics, ContextRecall) {
  EXPECT_EQ(ContextRecall("Transfers take 1 to 3 working days.", {"1 to 3 working days"}, false), 1);
  EXPECT_EQ(ContextRecall("Transfers take 1 to 3 Working Days.", {"1 to 3 working days"}, false), 0);
  EXPECT_EQ(ContextRecall("Transfers take 1 to 3 Working Days.", {"1 to 3 working days"}, true), 1);
  EXPECT_EQ(ContextRecall("挂失后，损失由本行承担。", {"本行承担"}, false), 1);
  EXPECT_EQ(ContextRecall("nothing here", {"本行"}, true), 0);
}

}  // namespace
}  // namespace ragd::eval
