#include <gtest/gtest.h>

#include "store/analyzer.h"

namespace ragd::store {

TEST(Analyzer, StemsEnglishAndDropsStopWords) {
  Analyzer a;
  EXPECT_EQ(a.Terms("The Running of the Transfers"), (std::vector<std::string>{"run", "transfer"}));
}

TEST(Analyzer, SegmentsChineseIntoWords) {
  Analyzer a;
  auto terms = a.Terms("信用卡还款日");
  // ICU's dictionary segmentation yields words, not single characters.
  ASSERT_FALSE(terms.empty());
  EXPECT_LT(terms.size(), 6u);
  EXPECT_NE(std::find(terms.begin(), terms.end(), "信用卡"), terms.end());
}

TEST(Analyzer, FoldsFullWidthAndCase) {
  Analyzer a;
  EXPECT_EQ(a.Terms("ＡＴＭ　Ｆｅｅ"), (std::vector<std::string>{"atm", "fee"}));
}

TEST(Analyzer, OffsetsPointAtTheOriginalWords) {
  Analyzer a;
  std::string text = "Cards 卡片";
  std::vector<std::string> words;
  a.Analyze(text, [&](std::string_view, size_t b, size_t e) { words.push_back(text.substr(b, e - b)); });
  EXPECT_EQ(words, (std::vector<std::string>{"Cards", "卡片"}));
}

}  // namespace ragd::store
