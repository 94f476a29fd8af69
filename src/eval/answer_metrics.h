// Answer metrics against reference answers (the lexical half of `ragd eval
// answers`): exact match and token F1 in the SQuAD / CMRC2018 manner
// (characters for Chinese, words for other text), ROUGE-1/2/L/S (Lin 2004),
// and context recall. All take the best score over the references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ragd::eval {

// Lowercased (NFKC), punctuation (ASCII and CJK) removed, whitespace
// collapsed; with drop_articles also "a", "an", "the" (SQuAD's normalisation).
std::string NormalizeAnswer(std::string_view s, bool drop_articles = true);
// Tokens of a normalised answer: each CJK character alone, other text split
// at spaces ("北京大学 in 2008" -> 北 京 大 学 in 2008).
std::vector<std::string> AnswerTokens(std::string_view s, bool drop_articles = true);

double ExactMatch(std::string_view prediction, const std::vector<std::string>& references);
double TokenF1(std::string_view prediction, const std::vector<std::string>& references);

struct Rouge {
  double precision = 0, recall = 0, f1 = 0;
};
// ROUGE-N over token n-grams (clipped counts), best F1 over references.
Rouge RougeN(std::string_view prediction, const std::vector<std::string>& references, int n);
// ROUGE-L: longest common subsequence, F-measure with beta = 1.
Rouge RougeL(std::string_view prediction, const std::vector<std::string>& references);
// ROUGE-S: skip-bigrams (any gap), F-measure with beta = 1.
Rouge RougeS(std::string_view prediction, const std::vector<std::string>& references);

// Reference recall: the share of a reference's tokens (clipped counts) that
// the prediction holds, after removing citation marks ("[1]", "[2, 3]");
// Chinese is counted per character. The fair measure for an assistant that
// answers in sentences, where a short span like "France" keeps F1 low even
// for a right answer. Best over references.
double ReferenceRecall(std::string_view prediction, const std::vector<std::string>& references);

// prediction with its citation marks ("[1]", "[2, 3]") replaced by a space.
std::string StripCitationMarks(std::string_view prediction);

// Context recall: 1 when a reference occurs in the context, 0 otherwise;
// exact (byte substring) or after NormalizeAnswer of both.
double ContextRecall(std::string_view context, const std::vector<std::string>& references, bool normalized);

}  // namespace ragd::eval
