#include "eval/answer_metrics.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/text.h"

namespace ragd::eval {

namespace {

bool IsPunct(char32_t c) {
  if (c < 0x80) return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
  // General and CJK punctuation, full-width forms' punctuation.
  return (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
         c == 0x00B7 || c == 0x2018 || c == 0x2019 || c == 0x201C || c == 0x201D;
}

using Counts = std::map<std::vector<std::string>, int>;

Counts NGrams(const std::vector<std::string>& toks, int n) {
  Counts c;
  for (size_t i = 0; i + n <= toks.size(); ++i) ++c[std::vector<std::string>(toks.begin() + i, toks.begin() + i + n)];
  return c;
}

Rouge FromOverlap(double overlap, double pred_total, double ref_total) {
  Rouge r;
  if (pred_total <= 0 || ref_total <= 0 || overlap <= 0) return r;
  r.precision = overlap / pred_total;
  r.recall = overlap / ref_total;
  r.f1 = 2 * r.precision * r.recall / (r.precision + r.recall);
  return r;
}

template <typename Fn>
Rouge Best(std::string_view prediction, const std::vector<std::string>& references, Fn score) {
  Rouge best;
  auto p = AnswerTokens(prediction, false);
  for (const auto& ref : references) {
    Rouge r = score(p, AnswerTokens(ref, false));
    if (r.f1 > best.f1) best = r;
  }
  return best;
}

}  // namespace

std::string NormalizeAnswer(std::string_view s, bool drop_articles) {
  std::string folded = text::NormalizeNfkc(s);
  std::string out;
  for (size_t i = 0; i < folded.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(folded, i, &len);
    if (len <= 0) len = 1;
    if (IsPunct(c) || c == '\t' || c == '\n' || c == '\r') out += ' ';
    else if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    else out.append(folded, i, len);  // the character's own bytes
    i += len;
  }
  std::string result;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find(' ', start);
    if (end == std::string::npos) end = out.size();
    std::string word = out.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (drop_articles && (word == "a" || word == "an" || word == "the")) continue;
    result += (result.empty() ? "" : " ") + word;
  }
  return result;
}

std::vector<std::string> AnswerTokens(std::string_view s, bool drop_articles) {
  std::string norm = NormalizeAnswer(s, drop_articles);
  std::vector<std::string> toks;
  std::string word;
  for (size_t i = 0; i < norm.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(norm, i, &len);
    if (len <= 0) len = 1;
    std::string_view bytes(norm.data() + i, len);
    i += len;
    if (c == ' ') {
      if (!word.empty()) toks.push_back(std::move(word)), word.clear();
    } else if (text::IsCjk(c)) {
      if (!word.empty()) toks.push_back(std::move(word)), word.clear();
      toks.emplace_back(bytes);
    } else {
      word += bytes;
    }
  }
  if (!word.empty()) toks.push_back(std::move(word));
  return toks;
}

double ExactMatch(std::string_view prediction, const std::vector<std::string>& references) {
  std::string p = NormalizeAnswer(prediction);
  for (const auto& r : references)
    if (NormalizeAnswer(r) == p) return 1;
  return 0;
}

double TokenF1(std::string_view prediction, const std::vector<std::string>& references) {
  auto p = AnswerTokens(prediction);
  double best = 0;
  for (const auto& ref : references) {
    auto r = AnswerTokens(ref);
    std::map<std::string, int> rc;
    for (const auto& t : r) ++rc[t];
    int common = 0;
    for (const auto& t : p)
      if (auto it = rc.find(t); it != rc.end() && it->second > 0) --it->second, ++common;
    best = std::max(best, FromOverlap(common, p.size(), r.size()).f1);
  }
  return best;
}

Rouge RougeN(std::string_view prediction, const std::vector<std::string>& references, int n) {
  return Best(prediction, references, [n](const std::vector<std::string>& p, const std::vector<std::string>& r) {
    Counts pc = NGrams(p, n), rc = NGrams(r, n);
    double overlap = 0, pt = 0, rt = 0;
    for (const auto& [g, c] : pc) {
      pt += c;
      if (auto it = rc.find(g); it != rc.end()) overlap += std::min(c, it->second);
    }
    for (const auto& [g, c] : rc) rt += c;
    return FromOverlap(overlap, pt, rt);
  });
}

Rouge RougeL(std::string_view prediction, const std::vector<std::string>& references) {
  return Best(prediction, references, [](const std::vector<std::string>& p, const std::vector<std::string>& r) {
    std::vector<std::vector<int>> lcs(p.size() + 1, std::vector<int>(r.size() + 1, 0));
    for (size_t i = 1; i <= p.size(); ++i)
      for (size_t j = 1; j <= r.size(); ++j)
        lcs[i][j] = p[i - 1] == r[j - 1] ? lcs[i - 1][j - 1] + 1 : std::max(lcs[i - 1][j], lcs[i][j - 1]);
    return FromOverlap(lcs[p.size()][r.size()], p.size(), r.size());
  });
}

Rouge RougeS(std::string_view prediction, const std::vector<std::string>& references) {
  auto skip_bigrams = [](const std::vector<std::string>& t) {
    std::map<std::pair<std::string, std::string>, int> c;
    for (size_t i = 0; i < t.size(); ++i)
      for (size_t j = i + 1; j < t.size(); ++j) ++c[{t[i], t[j]}];
    return c;
  };
  return Best(prediction, references, [&](const std::vector<std::string>& p, const std::vector<std::string>& r) {
    auto pc = skip_bigrams(p), rc = skip_bigrams(r);
    double overlap = 0;
    for (const auto& [g, c] : pc)
      if (auto it = rc.find(g); it != rc.end()) overlap += std::min(c, it->second);
    double pt = p.size() * (p.size() - (p.empty() ? 0 : 1)) / 2.0;
    double rt = r.size() * (r.size() - (r.empty() ? 0 : 1)) / 2.0;
    return FromOverlap(overlap, pt, rt);
  });
}

std::string StripCitationMarks(std::string_view prediction) {
  std::string clean;
  for (size_t i = 0; i < prediction.size(); ++i) {
    if (prediction[i] == '[') {
      size_t j = i + 1;
      while (j < prediction.size() && (std::isdigit(static_cast<unsigned char>(prediction[j])) || prediction[j] == ',' ||
                                       prediction[j] == ' '))
        ++j;
      if (j < prediction.size() && prediction[j] == ']' && j > i + 1) {
        i = j;
        clean += ' ';
        continue;
      }
    }
    clean += prediction[i];
  }
  return clean;
}

double ReferenceRecall(std::string_view prediction, const std::vector<std::string>& references) {
  std::map<std::string, int> have;
  for (auto& t : AnswerTokens(StripCitationMarks(prediction))) ++have[t];
  double best = 0;
  for (const auto& r : references) {
    auto ref = AnswerTokens(r);
    if (ref.empty()) continue;
    std::map<std::string, int> left = have;
    int hit = 0;
    for (const auto& t : ref)
      if (auto it = left.find(t); it != left.end() && it->second > 0) --it->second, ++hit;
    best = std::max(best, static_cast<double>(hit) / ref.size());
  }
  return best;
}

double ContextRecall(std::string_view context, const std::vector<std::string>& references, bool normalized) {
  std::string ctx = normalized ? NormalizeAnswer(context) : std::string(context);
  for (const auto& r : references) {
    std::string ref = normalized ? NormalizeAnswer(r) : r;
    if (!ref.empty() && ctx.find(ref) != std::string::npos) return 1;
  }
  return 0;
}

}  // namespace ragd::eval
