// Cutting documents into the numbered parts summaries cite: nothing lost,
// nothing over the budget, labels from the document's structure.
#include <gtest/gtest.h>

#include <string>

#include "core/text.h"
#include "ragd/summarize.h"

namespace ragd {
namespace {

// One token per 4 bytes, rounded up, as EstimateTokens does for English.
int Tokens(std::string_view s) { return static_cast<int>((s.size() + 3) / 4); }

std::string WithoutSpace(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\n') out += c;
  return out;
}

std::string Paragraphs(int n, const std::string& word) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    for (int w = 0; w < 30; ++w) out += word + std::to_string(i) + (w == 29 ? ". " : " ");
    out += "\n\n";
  }
  return out;
}

TEST(SplitIntoParts, KeepsEveryCharacterInOrderAndStaysUnderTheBudget) {
  std::vector<SummarySection> sections = {{Paragraphs(12, "fee"), 0, "Policy > Fees"},
                                          {Paragraphs(3, "rate"), 0, "Policy > Rates"},
                                          {"short closing line.", 0, "Policy > End"}};
  auto parts = SplitIntoParts(sections, 200, Tokens);
  ASSERT_GE(parts.size(), 3u);
  std::string joined, original;
  for (const auto& s : sections) original += s.text;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].n, static_cast<int>(i) + 1);
    EXPECT_LE(parts[i].tokens, 200) << parts[i].label;
    EXPECT_EQ(parts[i].tokens, Tokens(parts[i].text));
    joined += parts[i].text;
  }
  EXPECT_EQ(WithoutSpace(joined), WithoutSpace(original));
  EXPECT_EQ(parts.front().label, "Policy > Fees");
  // A new heading starts a new part once the current one is half full.
  bool rates_alone = false;
  for (const auto& p : parts) rates_alone |= p.label == "Policy > Rates" && p.text.starts_with("rate0");
  EXPECT_TRUE(rates_alone);
}

TEST(SplitIntoParts, LabelsByPagesWithoutHeadingsAndCutsOneLongSentence) {
  std::vector<SummarySection> sections = {{"Page one text.", 1, ""}, {"Page two text.", 2, ""}, {std::string(3000, 'q'), 3, ""}};
  auto parts = SplitIntoParts(sections, 100, Tokens);
  ASSERT_GE(parts.size(), 2u);
  EXPECT_EQ(parts[0].label, "pp. 1-3");
  EXPECT_EQ(parts[0].page_first, 1);
  std::string xs;
  for (const auto& p : parts) {
    EXPECT_LE(p.tokens, 100);
    for (char c : p.text)
      if (c == 'q') xs += c;
  }
  EXPECT_EQ(xs.size(), 3000u);
  EXPECT_EQ(parts.back().label, "p. 3");
}

TEST(SplitIntoParts, CutsChineseAtSentenceEndsNeverInsideACharacter) {
  std::string zh;
  for (int i = 0; i < 60; ++i) zh += "信用卡逾期还款的，按日利率万分之五计收利息。";
  auto parts = SplitIntoParts({{zh, 0, "收费"}}, 50, [](std::string_view s) { return static_cast<int>(text::CodePointCount(s)); });
  ASSERT_GT(parts.size(), 10u);
  std::string joined;
  for (const auto& p : parts) {
    EXPECT_EQ(text::FindInvalidUtf8(p.text), std::string_view::npos);
    EXPECT_LE(p.tokens, 50);
    EXPECT_TRUE(p.text.ends_with("。")) << p.text;
    joined += p.text;
  }
  EXPECT_EQ(joined, zh);
}

TEST(SplitIntoParts, EmptyInputHasNoParts) {
  EXPECT_TRUE(SplitIntoParts({{"  \n\n ", 0, ""}}, 100, Tokens).empty());
}

TEST(SummaryStrategy, ParsesTheFourNamesAndRejectsOthers) {
  EXPECT_EQ(ParseSummaryStrategy("map-reduce").value(), SummaryStrategy::kMapReduce);
  EXPECT_EQ(ParseSummaryStrategy("refine").value(), SummaryStrategy::kRefine);
  EXPECT_STREQ(SummaryStrategyName(ParseSummaryStrategy("stuff").value()), "stuff");
  auto bad = ParseSummaryStrategy("mapreduce");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown summary strategy 'mapreduce' (use auto, stuff, map-reduce or refine)");
}

}  // namespace
}  // namespace ragd
