// The summary evaluation's own arithmetic: BERTScore's greedy matching,
// the baselines' sentence picking, lengths, the data set reader's errors and
// the table's means.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/text.h"
#include "eval/summary_metrics.h"
#include "ragd/summary_eval.h"

namespace ragd {
namespace {

namespace fs = std::filesystem;

TokenVectors Vectors(std::vector<std::vector<float>> rows) {
  TokenVectors v;
  v.dim = static_cast<int>(rows.front().size());
  for (const auto& r : rows) v.data.insert(v.data.end(), r.begin(), r.end());
  return v;
}

TEST(BertScore, GreedyMatchTakesEachTokensBestCosine) {
  // Candidate "a b" against reference "a": a matches a (1), b matches
  // nothing better than a (0); the reference's a is matched fully.
  TokenVectors cand = Vectors({{1, 0}, {0, 1}});
  TokenVectors ref = Vectors({{1, 0}});
  eval::BertScore s = eval::GreedyMatch(cand, ref);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  EXPECT_NEAR(s.f1, 2.0 / 3.0, 1e-12);
  // A reference at 60 degrees: cosine 0.5 for the candidate's first token,
  // 0.866 for its second; each reference token takes the best, 0.866.
  TokenVectors tilted = Vectors({{0.5f, 0.8660254f}});
  s = eval::GreedyMatch(cand, tilted);
  EXPECT_NEAR(s.precision, (0.5 + 0.8660254) / 2, 1e-6);
  EXPECT_NEAR(s.recall, 0.8660254, 1e-6);
}

TEST(BertScore, EmptySideScoresZeroAndBestIsPerComponent) {
  TokenVectors empty;
  empty.dim = 2;
  TokenVectors cand = Vectors({{1, 0}, {0, 1}});
  EXPECT_EQ(eval::GreedyMatch(cand, empty).f1, 0);
  EXPECT_EQ(eval::GreedyMatch(empty, cand).f1, 0);
  // Reference 1 gives the best recall, reference 2 the best precision.
  TokenVectors r1 = Vectors({{1, 0}});
  TokenVectors r2 = Vectors({{1, 0}, {0, 1}, {0.6f, 0.8f}});
  eval::BertScore best = eval::BestBertScore(cand, {r1, r2});
  EXPECT_DOUBLE_EQ(best.precision, 1.0);
  EXPECT_DOUBLE_EQ(best.recall, 1.0);
  EXPECT_DOUBLE_EQ(best.f1, 2 * 1.0 * eval::GreedyMatch(cand, r2).recall / (1.0 + eval::GreedyMatch(cand, r2).recall));
}

TEST(SummaryLength, CountsWordsAndChineseCharactersWithoutCitations) {
  EXPECT_EQ(eval::SummaryLength("The fee is 1,200 yuan [1]."), 6);  // the fee is 1 200 yuan
  EXPECT_EQ(eval::SummaryLength("年费为1200元[2, 3]。"), 5);        // 年 费 为 1200 元
  EXPECT_EQ(eval::SummaryLength(""), 0);
}

TEST(Sentences, SplitKeepsEveryByteAndDropsFragments) {
  const std::string doc = "1 Introduction\nWe parse running text. It works well in practice!\n\n发言人1：我们开始吧。今天讨论利率。";
  std::string joined;
  for (auto s : text::SplitSentences(doc)) joined += s;
  EXPECT_EQ(joined, doc);
  auto sentences = eval::DocumentSentences(doc);
  ASSERT_EQ(sentences.size(), 4u);
  EXPECT_EQ(sentences[0], "We parse running text.");  // "1 Introduction" is a heading
  EXPECT_EQ(sentences[1], "It works well in practice!");
  EXPECT_EQ(sentences[2], "发言人1：我们开始吧。");
  EXPECT_EQ(sentences[3], "今天讨论利率。");
}

TEST(Baselines, PickWholeSentencesClosestToTheLength) {
  std::vector<std::string> s = {"one two three four five", "six seven eight nine ten", "eleven twelve thirteen fourteen fifteen"};
  EXPECT_EQ(eval::LeadSummary(s, 9), s[0] + " " + s[1]);  // 10 is closer to 9 than 5
  EXPECT_EQ(eval::LeadSummary(s, 7), s[0]);                 // 5 is closer to 7 than 10
  EXPECT_EQ(eval::LeadSummary(s, 1), s[0]);                 // never empty
  // Preference 2, 0, 1 with lengths 3, 10, 4: 2 (4), 0 (7), 1 would overshoot.
  std::vector<std::string> t = {"a b c", "a b c d e f g h i j", "w x y z"};
  EXPECT_EQ(eval::PickToLength(t, {2, 0, 1}, 8), (std::vector<size_t>{0, 2}));
  // A long first choice is kept; later ones only while they help.
  EXPECT_EQ(eval::PickToLength(t, {1, 0, 2}, 8), (std::vector<size_t>{1}));
  // Chinese sentences join without a space.
  EXPECT_EQ(eval::LeadSummary({"储蓄账户每月支付利息。", "年利率为百分之一点五。"}, 20), "储蓄账户每月支付利息。年利率为百分之一点五。");
}

class SummarySetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ragd-summary-set-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& body) { std::ofstream(dir_ / name) << body; }
  fs::path dir_;
};

TEST_F(SummarySetTest, ReadsReferencesFromSummaryAndSummaries) {
  Write("docs.jsonl", R"({"_id": "d1", "title": "T", "text": "Body one."}
{"_id": 7, "text": "Body two."}
{"_id": "d3", "text": "No reference."}
)");
  Write("summaries.jsonl", R"({"_id": "d1", "summary": "abstract", "summaries": ["abstract", "human"]}
{"_id": 7, "summaries": ["only"]}
)");
  auto set = ReadSummaryEvalSet(dir_.string());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->size(), 2u);  // d3 has no reference
  EXPECT_EQ((*set)[0].references, (std::vector<std::string>{"abstract", "human"}));
  EXPECT_EQ((*set)[1].id, "7");
  EXPECT_EQ((*set)[1].references, (std::vector<std::string>{"only"}));
  EXPECT_FALSE((*set)[0].reference_in_text);
}

TEST_F(SummarySetTest, FlagsADocumentThatHoldsItsReference) {
  Write("docs.jsonl", R"({"_id": "j", "text": "Abstract\nWe Present a parser, for running text. 1 Introduction\nParsing..."}
{"_id": "k", "text": "1 Introduction\nParsing is hard. We present, in this paper, a parser for text."}
)");
  Write("summaries.jsonl", R"({"_id": "j", "summary": "We present a parser for running text."}
{"_id": "k", "summary": "We present a parser for running text."}
)");
  auto set = ReadSummaryEvalSet(dir_.string());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE((*set)[0].reference_in_text);   // case and punctuation aside, it is there
  EXPECT_FALSE((*set)[1].reference_in_text);  // the words, but not in a row
}

TEST_F(SummarySetTest, NamesTheFileAndLineOfABadRecord) {
  Write("docs.jsonl", "{\"_id\": \"d1\", \"text\": \"Body.\"}\nnot json\n");
  Write("summaries.jsonl", "{\"_id\": \"d1\", \"summary\": \"s\"}\n");
  auto set = ReadSummaryEvalSet(dir_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("docs.jsonl:2: not a JSON object"), std::string::npos) << set.status().ToString();

  Write("docs.jsonl", "{\"_id\": \"d1\", \"text\": \"Body.\"}\n");
  Write("summaries.jsonl", "{\"_id\": \"d1\", \"summary\": \"s\"}\n{\"_id\": \"zz\", \"summary\": \"s\"}\n");
  set = ReadSummaryEvalSet(dir_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("summaries.jsonl:2: _id 'zz' is not in docs.jsonl"), std::string::npos)
      << set.status().ToString();

  Write("summaries.jsonl", "{\"_id\": \"d1\", \"summaries\": \"not a list\"}\n");
  set = ReadSummaryEvalSet(dir_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("'summaries' must be an array of strings"), std::string::npos);

  fs::remove(dir_ / "summaries.jsonl");
  set = ReadSummaryEvalSet(dir_.string());
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("no summaries.jsonl in"), std::string::npos);
  EXPECT_FALSE(CheckSummaryEvalMethods({"lead", "abstractive"}).ok());
}

TEST(SummaryTable, MeansPerMethodAndWinsOverLead) {
  std::vector<SummaryEvalRecord> rs(5);
  rs[0].id = "a", rs[0].method = "lead", rs[0].rougeL = 0.2;
  rs[1].id = "b", rs[1].method = "lead", rs[1].rougeL = 0.4;
  rs[2].id = "a", rs[2].method = "auto", rs[2].model = "m", rs[2].rougeL = 0.3, rs[2].faithfulness = 1.0;
  rs[2].prompt_tokens = 90, rs[2].completion_tokens = 10, rs[2].seconds = 4;
  rs[3].id = "b", rs[3].method = "auto", rs[3].model = "m", rs[3].rougeL = 0.1;
  rs[3].prompt_tokens = 290, rs[3].completion_tokens = 10, rs[3].seconds = 6;
  rs[4].id = "c", rs[4].method = "auto", rs[4].model = "m", rs[4].error = "too long";
  auto table = SummarizeSummaryEval(rs);
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[0].method, "lead");
  EXPECT_NEAR(table[0].rougeL, 0.3, 1e-12);
  EXPECT_EQ(table[1].docs, 2);
  EXPECT_EQ(table[1].errors, 1);
  EXPECT_NEAR(table[1].rougeL, 0.2, 1e-12);
  EXPECT_NEAR(table[1].seconds_per_doc, 5, 1e-12);
  EXPECT_NEAR(table[1].tokens_per_doc, 200, 1e-12);
  ASSERT_TRUE(table[1].faithfulness.has_value());
  EXPECT_EQ(table[1].judged, 1);
  EXPECT_EQ(table[1].rougeL_above_lead, 1);  // a: 0.3 > 0.2; b: 0.1 < 0.4
  EXPECT_EQ(table[1].paired_with_lead, 2);
}

}  // namespace
}  // namespace ragd
