#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

namespace ragd::eval {

double NdcgAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k) {
  double dcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = qrels.find(ranked[i]);
    if (it != qrels.end() && it->second > 0) dcg += it->second / std::log2(i + 2.0);
  }
  std::vector<int> grades;
  for (const auto& [id, g] : qrels)
    if (g > 0) grades.push_back(g);
  std::sort(grades.rbegin(), grades.rend());
  double idcg = 0;
  for (int i = 0; i < k && i < static_cast<int>(grades.size()); ++i) idcg += grades[i] / std::log2(i + 2.0);
  return idcg > 0 ? dcg / idcg : 0;
}

double RecallAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k) {
  int relevant = 0, found = 0;
  for (const auto& [id, g] : qrels) relevant += g > 0;
  if (relevant == 0) return 0;
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = qrels.find(ranked[i]);
    found += it != qrels.end() && it->second > 0;
  }
  return static_cast<double>(found) / relevant;
}

double MrrAtK(const std::vector<std::string>& ranked, const Qrels& qrels, int k) {
  for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
    auto it = qrels.find(ranked[i]);
    if (it != qrels.end() && it->second > 0) return 1.0 / (i + 1);
  }
  return 0;
}

}  // namespace ragd::eval
