// What `ragd eval summaries` scores with besides ROUGE (answer_metrics.h):
// BERTScore by greedy matching of token vectors, lengths, and the two
// baselines every model summary is compared with, lead-N and the sentences
// most central by embedding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ragd/embedder.h"
#include "ragd/status.h"

namespace ragd::eval {

// Length as the answer metrics count it: words, each CJK character one,
// citation marks not counted.
int SummaryLength(std::string_view text);

struct BertScore {
  double precision = 0, recall = 0, f1 = 0;
};
// BERTScore (Zhang et al., ICLR 2020) of a candidate against one reference:
// each candidate token matched greedily to its most similar reference token
// by cosine (precision), each reference token to the candidate (recall),
// F1 their harmonic mean. No idf weighting, no baseline rescaling (the
// bert-score package's defaults). An empty side scores 0.
BertScore GreedyMatch(const TokenVectors& candidate, const TokenVectors& reference);
// Several references: the best precision, recall and F1 each, as the
// bert-score package does.
BertScore BestBertScore(const TokenVectors& candidate, const std::vector<TokenVectors>& references);

// A document's sentences for the extractive baselines, in order, trimmed;
// fragments shorter than min_length (headings, "发言人1：") are left out.
std::vector<std::string> DocumentSentences(std::string_view text, int min_length = 4);

// Sentences taken in the order of preference while each brings the total
// length closer to target (the first always), returned in document order.
std::vector<size_t> PickToLength(const std::vector<std::string>& sentences, const std::vector<size_t>& preference,
                                 int target);

// lead-N: the document's first sentences, about target long, joined as
// the text was written (a space between English sentences, none between
// Chinese ones).
std::string LeadSummary(const std::vector<std::string>& sentences, int target);

// The sentences closest by cosine to the document's mean embedding, about
// target long, in document order (centroid centrality, Radev et al. 2004).
Result<std::string> CentralSummary(Embedder& embedder, const std::vector<std::string>& sentences, int target);

}  // namespace ragd::eval
