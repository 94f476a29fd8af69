// Ranking metrics over one query's ranked document ids and its graded
// relevance judgements (BEIR qrels), as in trec_eval / pytrec_eval.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ragd::eval {

using Qrels = std::map<std::string, int>;  // doc id -> relevance grade (>0 relevant)

// nDCG@k with graded gains (rel, linear) and log2 discounts; the ideal
// ranking is the judged documents sorted by grade.
double NdcgAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k);
// Fraction of the relevant documents found in the top k.
double RecallAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k);
// 1 / rank of the first relevant document within the top k, else 0.
double MrrAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k);

}  // namespace ragd::eval
