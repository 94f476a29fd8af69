#include "eval/summary_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "core/status_macros.h"
#include "core/text.h"
#include "eval/answer_metrics.h"

namespace ragd::eval {

int SummaryLength(std::string_view text) {
  return static_cast<int>(AnswerTokens(StripCitationMarks(text), false).size());
}

BertScore GreedyMatch(const TokenVectors& c, const TokenVectors& r) {
  BertScore s;
  const int nc = c.tokens(), nr = r.tokens();
  if (nc == 0 || nr == 0 || c.dim != r.dim) return s;
  std::vector<double> best_c(nc, -1), best_r(nr, -1);
  for (int i = 0; i < nc; ++i) {
    const float* a = c.row(i);
    for (int j = 0; j < nr; ++j) {
      const float* b = r.row(j);
      double dot = 0;
      for (int d = 0; d < c.dim; ++d) dot += static_cast<double>(a[d]) * b[d];
      best_c[i] = std::max(best_c[i], dot);
      best_r[j] = std::max(best_r[j], dot);
    }
  }
  s.precision = std::accumulate(best_c.begin(), best_c.end(), 0.0) / nc;
  s.recall = std::accumulate(best_r.begin(), best_r.end(), 0.0) / nr;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return s;
}

BertScore BestBertScore(const TokenVectors& candidate, const std::vector<TokenVectors>& references) {
  BertScore best;
  for (size_t i = 0; i < references.size(); ++i) {
    BertScore s = GreedyMatch(candidate, references[i]);
    if (i == 0) {
      best = s;
      continue;
    }
    best.precision = std::max(best.precision, s.precision);
    best.recall = std::max(best.recall, s.recall);
    best.f1 = std::max(best.f1, s.f1);
  }
  return best;
}

std::vector<std::string> DocumentSentences(std::string_view doc, int min_length) {
  std::vector<std::string> out;
  for (std::string_view piece : text::SplitSentences(doc)) {
    std::string_view t = text::Trim(piece);
    if (!t.empty() && SummaryLength(t) >= min_length) out.emplace_back(t);
  }
  return out;
}

std::vector<size_t> PickToLength(const std::vector<std::string>& sentences, const std::vector<size_t>& preference,
                                 int target) {
  std::vector<size_t> picked;
  int total = 0;
  for (size_t i : preference) {
    if (i >= sentences.size()) continue;
    int len = SummaryLength(sentences[i]);
    if (!picked.empty() && std::abs(total + len - target) >= std::abs(total - target)) {
      if (total >= target) break;  // full: nothing later can help
      continue;                    // too long: a shorter one may fit
    }
    picked.push_back(i);
    total += len;
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

namespace {

// CJK characters and punctuation (from U+2E80): Chinese sentences join
// without a space, as the text was written.
bool Wide(std::string_view s, bool last) {
  if (s.empty()) return false;
  size_t i = 0;
  if (last) {
    i = s.size() - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  }
  int len = 1;
  return text::DecodeAt(s, i, &len) >= 0x2E80;
}

std::string Join(const std::vector<std::string>& sentences, const std::vector<size_t>& picked) {
  std::string out;
  for (size_t i : picked) {
    if (!out.empty() && !Wide(out, true) && !Wide(sentences[i], false)) out += ' ';
    out += sentences[i];
  }
  return out;
}

}  // namespace

std::string LeadSummary(const std::vector<std::string>& sentences, int target) {
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  // In document order the first sentence that overshoots ends the lead.
  std::vector<size_t> picked;
  int total = 0;
  for (size_t i : order) {
    int len = SummaryLength(sentences[i]);
    if (!picked.empty() && std::abs(total + len - target) >= std::abs(total - target)) break;
    picked.push_back(i);
    total += len;
  }
  return Join(sentences, picked);
}

Result<std::string> CentralSummary(Embedder& embedder, const std::vector<std::string>& sentences, int target) {
  if (sentences.empty()) return std::string();
  const int dim = embedder.dim();
  std::vector<float> vecs(sentences.size() * dim);
  constexpr size_t kBatch = 64;
  for (size_t i = 0; i < sentences.size(); i += kBatch) {
    size_t n = std::min(kBatch, sentences.size() - i);
    RAGD_RETURN_IF_ERROR(embedder.Embed(std::span<const std::string>(sentences.data() + i, n), EmbedKind::kPassage,
                                        vecs.data() + i * dim));
  }
  std::vector<double> centroid(dim, 0);
  for (size_t i = 0; i < sentences.size(); ++i)
    for (int d = 0; d < dim; ++d) centroid[d] += vecs[i * dim + d];
  std::vector<double> score(sentences.size(), 0);
  for (size_t i = 0; i < sentences.size(); ++i)
    for (int d = 0; d < dim; ++d) score[i] += centroid[d] * vecs[i * dim + d];
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
  return Join(sentences, PickToLength(sentences, order, target));
}

}  // namespace ragd::eval
