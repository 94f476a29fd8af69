#include <gtest/gtest.h>

#include "ingest/splitter.h"

namespace ragd::ingest {

namespace {
std::vector<std::string> Pieces(std::string_view text, const std::vector<Span>& spans) {
  std::vector<std::string> out;
  for (auto s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}
}  // namespace

TEST(Splitter, KeepsShortTextWhole) {
  RecursiveSplitter s({100, 10});
  std::string text = "  One short paragraph.  ";
  EXPECT_EQ(Pieces(text, s.Split(text)), std::vector<std::string>{"One short paragraph."});
}

TEST(Splitter, CutsChineseAtSentenceEnds) {
  // Sentences of 12, 11, 10 and 10 code points; chunks of at most 24 hold two.
  std::string text = "信用卡账单日为每月五日。到期还款日为每月廿五。逾期将收取违约金额！请按时还款以免影响。";
  RecursiveSplitter s({24, 0});
  auto chunks = Pieces(text, s.Split(text));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], "信用卡账单日为每月五日。到期还款日为每月廿五。");
  EXPECT_EQ(chunks[1], "逾期将收取违约金额！请按时还款以免影响。");
}

TEST(Splitter, CutsEnglishAtSentencesAndOverlaps) {
  std::string text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu.";
  RecursiveSplitter s({40, 20});
  auto chunks = Pieces(text, s.Split(text));
  ASSERT_GE(chunks.size(), 2u);
  for (const auto& c : chunks) EXPECT_LE(CodePointLength(c), 40u) << c;
  // Overlap: the second chunk starts with the last sentence of the first.
  EXPECT_EQ(chunks[0], "Alpha beta gamma. Delta epsilon zeta.");
  EXPECT_EQ(chunks[1].rfind("Delta epsilon zeta.", 0), 0u) << chunks[1];
}

TEST(Splitter, SpansAreExactOffsetsAndCoverTheText) {
  std::string text = "Para one line one.\nPara one line two.\n\nPara two is here and it is a bit longer than the others.";
  RecursiveSplitter s({30, 0});
  auto spans = s.Split(text);
  std::string joined;
  for (auto sp : spans) {
    ASSERT_LE(sp.end, text.size());
    joined += text.substr(sp.begin, sp.end - sp.begin);
  }
  std::string squashed;
  for (char c : text)
    if (c != ' ' && c != '\n') squashed += c;
  std::string joined_sq;
  for (char c : joined)
    if (c != ' ' && c != '\n') joined_sq += c;
  EXPECT_EQ(joined_sq, squashed);  // nothing lost, nothing duplicated without overlap
}

TEST(Splitter, FallsBackToCharactersForUnbrokenText) {
  std::string text(95, 'x');
  RecursiveSplitter s({30, 0});
  auto chunks = Pieces(text, s.Split(text));
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[3].size(), 5u);
}

TEST(Splitter, UsesTheGivenLengthFunction) {
  // Count words instead of characters.
  auto words = [](std::string_view s) {
    size_t n = 0;
    bool in = false;
    for (char c : s) {
      bool w = c != ' ' && c != '\n';
      n += w && !in;
      in = w;
    }
    return n;
  };
  RecursiveSplitter s({SplitterOptions{3, 0, words}});
  std::string text = "a b c d e f g";
  EXPECT_EQ(Pieces(text, s.Split(text)), (std::vector<std::string>{"a b c", "d e f", "g"}));
}

}  // namespace ragd::ingest
