// Prompt assembly: numbered sources within a token budget, few-shot
// examples, history, condensing; and reading [n] citations back.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "rag/context.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "ragd/rag.h"
#include "store/analyzer.h"

namespace ragd {

namespace {

using json = nlohmann::json;

bool IsAsciiLetter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A turn's answer inside condense/summary prompts: long answers are cut,
// the question matters more than the detail.
constexpr size_t kHistoryAnswerBytes = 400;

}  // namespace

std::string DetectLanguage(std::string_view s) {
  int han = 0, words = 0;
  bool in_word = false;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    if (len <= 0) len = 1;
    bool letter = IsAsciiLetter(c);
    if (letter && !in_word) ++words;
    in_word = letter;
    if (text::IsCjk(c)) ++han;
    i += len;
  }
  return han > 0 && han >= words ? "zh" : "en";
}

std::vector<int> ExtractCitations(std::string_view s) {
  std::vector<int> out;
  auto add = [&](int n) {
    if (n > 0 && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    if (len <= 0) len = 1;
    i += len;
    if (c != U'[' && c != U'【' && c != U'［') continue;
    // Digits and separators up to the closing bracket; anything else means
    // this bracket is not a citation.
    std::vector<int> nums;
    int cur = -1, range_from = -1;
    bool ok = false;
    size_t j = i;
    while (j < s.size()) {
      int l = 1;
      char32_t d = text::DecodeAt(s, j, &l);
      if (l <= 0) l = 1;
      j += l;
      if (d >= U'0' && d <= U'9') {
        cur = (cur < 0 ? 0 : cur) * 10 + static_cast<int>(d - U'0');
        if (cur > 9999) break;
      } else if (d == U',' || d == U'，' || d == U'、' || d == U' ' || d == U';' || d == U'-' || d == U'–' ||
                 d == U']' || d == U'】' || d == U'］') {
        if (cur >= 0) {
          if (range_from >= 0) {
            for (int n = range_from; n <= cur && n - range_from < 50; ++n) nums.push_back(n);
            range_from = -1;
          } else if (d == U'-' || d == U'–') {
            range_from = cur;
          } else {
            nums.push_back(cur);
          }
          cur = -1;
        }
        if (d == U']' || d == U'】' || d == U'］') {
          ok = !nums.empty();
          break;
        }
      } else {
        break;
      }
    }
    if (ok) {
      for (int n : nums) add(n);
      i = j;
    }
  }
  return out;
}

namespace {

// Byte spans of the citation markers in s, with their numbers.
struct Marker {
  size_t begin, end;
  std::vector<int> numbers;
};

std::vector<Marker> FindMarkers(std::string_view s) {
  std::vector<Marker> out;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    if (len <= 0) len = 1;
    if (c == U'[' || c == U'【' || c == U'［') {
      // The smallest closing bracket after it that parses as a citation.
      size_t close = s.find_first_of("]\xE3\xEF", i + len);
      for (size_t j = i + len; j < s.size() && j < i + 64; ++j) {
        std::string_view tail = s.substr(j);
        size_t l = tail.starts_with("]") ? 1 : (tail.starts_with("】") || tail.starts_with("］")) ? 3 : 0;
        if (!l) continue;
        std::vector<int> nums = ExtractCitations(s.substr(i, j + l - i));
        if (!nums.empty()) out.push_back({i, j + l, std::move(nums)});
        close = j + l;
        break;
      }
      (void)close;
    }
    i += len;
  }
  return out;
}

// The terms a sentence and a source are compared on: the BM25 analyzer's
// terms for alphabetic text (stems, no stop words), and character bigrams
// for Chinese, the usual unit of Chinese overlap measures (word segmentation
// splits paraphrases too finely: 卡片管理页面 vs 卡片管理).
std::set<std::string> SupportTerms(store::Analyzer& analyzer, std::string_view text) {
  std::set<std::string> out;
  for (auto& t : analyzer.Terms(text)) {
    int len = 1;
    if (!t.empty() && !text::IsCjk(text::DecodeAt(t, 0, &len))) out.insert(std::move(t));
  }
  size_t run_start = 0, prev = std::string::npos;  // the current run of CJK characters
  int run_chars = 0, prev_len = 0;
  auto end_run = [&] {
    if (run_chars == 1) out.insert(std::string(text.substr(run_start, prev_len)));  // a lone character counts alone
    run_chars = 0;
    prev = std::string::npos;
  };
  for (size_t i = 0; i < text.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(text, i, &len);
    if (len <= 0) len = 1;
    if (text::IsCjk(c)) {
      if (prev != std::string::npos) out.insert(std::string(text.substr(prev, prev_len + len)));
      else run_start = i;
      ++run_chars;
      prev = i;
      prev_len = len;
    } else {
      end_run();
    }
    i += len;
  }
  end_run();
  return out;
}

}  // namespace

double SupportShare(std::string_view text, std::string_view source) {
  store::Analyzer analyzer;
  const std::set<std::string> source_terms = SupportTerms(analyzer, source);
  auto share = [&](const std::set<std::string>& terms) {
    size_t hit = 0;
    for (const auto& t : terms) hit += source_terms.count(t);
    return terms.empty() ? 0.0 : static_cast<double>(hit) / terms.size();
  };
  double least = 2;
  for (std::string_view sentence : text::SplitSentences(text)) {
    std::set<std::string> terms = SupportTerms(analyzer, sentence);
    if (terms.size() >= 2) least = std::min(least, share(terms));
  }
  return least <= 1 ? least : share(SupportTerms(analyzer, text));
}

std::string AttributeCitations(std::string_view answer, const std::vector<Source>& sources, double min_overlap,
                               bool* changed) {
  if (changed) *changed = false;
  if (sources.empty()) return std::string(answer);
  store::Analyzer analyzer;
  std::vector<std::set<std::string>> source_terms;
  for (const auto& src : sources) {
    source_terms.push_back(SupportTerms(analyzer, src.hit.text));
  }
  const int n_sources = static_cast<int>(sources.size());
  std::string out;
  for (std::string_view piece : text::SplitSentences(answer)) {
    std::string sentence(piece);  // its closing mark included
    std::vector<Marker> markers = FindMarkers(sentence);
    // The source sharing the largest part of the sentence's terms.
    std::string plain = sentence;
    for (auto it = markers.rbegin(); it != markers.rend(); ++it) plain.erase(it->begin, it->end - it->begin);
    std::set<std::string> uniq = SupportTerms(analyzer, plain);
    std::vector<double> overlap(n_sources, 0);
    int best = 0;
    if (uniq.size() >= 2) {
      for (int k = 0; k < n_sources; ++k) {
        size_t hit = 0;
        for (const auto& t : uniq) hit += source_terms[k].count(t);
        overlap[k] = static_cast<double>(hit) / uniq.size();
        if (overlap[k] > (best ? overlap[best - 1] : 0)) best = k + 1;
      }
    }
    const bool supported = best > 0 && overlap[best - 1] >= min_overlap;
    // Keep the model's citations when one of them supports the sentence, or
    // when no source does better.
    bool keep = false, any_valid = false;
    for (const auto& m : markers)
      for (int n : m.numbers)
        if (n >= 1 && n <= n_sources) {
          any_valid = true;
          keep |= overlap[n - 1] >= min_overlap || !supported;
        }
    if (keep || (!any_valid && markers.empty() && !supported)) {
      out += sentence;
      continue;
    }
    std::string marker = supported ? "[" + std::to_string(best) + "]" : "";
    if (!markers.empty()) {
      // Numbers that match no source, or a source that does not say it:
      // replaced by the supporting one, or dropped.
      for (auto it = markers.rbegin(); it != markers.rend(); ++it) sentence.replace(it->begin, it->end - it->begin, marker);
      if (changed) *changed = true;
    } else {
      // Before the closing mark and trailing spaces: "... yuan [1]."
      size_t cut = sentence.size();
      while (cut > 0 && (sentence[cut - 1] == ' ' || sentence[cut - 1] == '\n')) --cut;
      int len = 1;
      if (cut > 0) {
        size_t lead = cut - 1;
        while (lead > 0 && (static_cast<unsigned char>(sentence[lead]) & 0xC0) == 0x80) --lead;
        if (text::IsSentenceEnd(sentence, lead, &len) && sentence[lead] != '\n') cut = lead;
      }
      bool cjk = DetectLanguage(sentence) == "zh";
      sentence.insert(cut, (cjk ? "" : " ") + marker);
      if (changed) *changed = true;
    }
    out += sentence;
  }
  return out;
}

std::string SourceLabel(const SearchHit& hit) {
  std::string name = hit.source;
  if (name.find('/') != std::string::npos) name = std::filesystem::path(name).filename().string();
  if (name.empty()) name = hit.doc_id;
  if (hit.page > 0) name += " p." + std::to_string(hit.page);
  if (hit.row > 0) name += " row " + std::to_string(hit.row);
  if (!hit.heading_path.empty()) name += " > " + hit.heading_path;
  // Text read by OCR may hold misread characters: a citation says so.
  if (hit.ocr_confidence >= 0) name += " (OCR " + std::to_string(std::lround(hit.ocr_confidence * 100)) + "%)";
  return name;
}

Result<AnswerStrategy> ParseAnswerStrategy(const std::string& name) {
  if (name == "stuff") return AnswerStrategy::kStuff;
  if (name == "map-reduce" || name == "map_reduce") return AnswerStrategy::kMapReduce;
  if (name == "refine") return AnswerStrategy::kRefine;
  return Status::InvalidArgument("unknown answer strategy '" + name + "' (use stuff, map-reduce or refine)");
}

const char* AnswerStrategyName(AnswerStrategy s) {
  switch (s) {
    case AnswerStrategy::kStuff: return "stuff";
    case AnswerStrategy::kMapReduce: return "map-reduce";
    case AnswerStrategy::kRefine: return "refine";
  }
  return "?";
}

Result<MemoryKind> ParseMemoryKind(const std::string& name) {
  if (name == "buffer") return MemoryKind::kBuffer;
  if (name == "window") return MemoryKind::kWindow;
  if (name == "summary") return MemoryKind::kSummary;
  return Status::InvalidArgument("unknown memory kind '" + name + "' (use buffer, window or summary)");
}

const char* MemoryKindName(MemoryKind m) {
  switch (m) {
    case MemoryKind::kBuffer: return "buffer";
    case MemoryKind::kWindow: return "window";
    case MemoryKind::kSummary: return "summary";
  }
  return "?";
}

Result<BuiltPrompt> BuildAnswerPrompt(const Prompts& prompts, ChatModel& model, const std::string& language,
                                      const std::string& question, const std::vector<SearchHit>& hits,
                                      const std::vector<ChatMessage>& history, int budget, int answer_tokens) {
  BuiltPrompt out;
  RAGD_ASSIGN_OR_RETURN(std::string system, prompts.Render("system", language, {}));
  size_t h0 = 0;
  // A leading system message in the history (the running summary) joins the
  // system prompt: several chat templates allow only one.
  if (!history.empty() && history[0].role == "system") {
    system += "\n\n" + history[0].content;
    h0 = 1;
  }
  out.messages.push_back({"system", system});

  // Few-shot examples go through the same templates as the real question.
  RAGD_ASSIGN_OR_RETURN(std::string shots_raw, prompts.Raw("few_shot", language));
  auto shots = json::parse(shots_raw, nullptr, false);
  if (shots.is_discarded() || !shots.is_array())
    return Status::InvalidArgument("the few-shot file for '" + language + "' is not a JSON array of examples");
  for (const auto& ex : shots) {
    if (!ex.is_object() || !ex.contains("question") || !ex.contains("answer") || !ex["question"].is_string() ||
        !ex["answer"].is_string())
      return Status::InvalidArgument("a few-shot example lacks a \"question\" or \"answer\" string");
    std::string sources;
    int n = 0;
    if (ex.contains("sources") && ex["sources"].is_array()) {
      for (const auto& s : ex["sources"]) {
        if (!s.is_string()) continue;
        RAGD_ASSIGN_OR_RETURN(std::string block, prompts.Render("source", language,
                                                                {{"n", std::to_string(++n)},
                                                                 {"text", s.get<std::string>()},
                                                                 {"label", "example"}}));
        sources += (sources.empty() ? "" : "\n") + block;
      }
    }
    RAGD_ASSIGN_OR_RETURN(std::string user, prompts.Render("answer", language,
                                                           {{"sources", sources}, {"question", ex["question"]}}));
    out.messages.push_back({"user", user});
    out.messages.push_back({"assistant", ex["answer"].get<std::string>()});
  }
  // The system prompt and examples are the same for every question, unless
  // a running summary joined the system prompt.
  if (h0 == 0) out.stable_messages = static_cast<int>(out.messages.size());
  for (size_t i = h0; i < history.size(); ++i) out.messages.push_back(history[i]);

  // The budget left for sources.
  RAGD_ASSIGN_OR_RETURN(std::string empty_user,
                        prompts.Render("answer", language, {{"sources", ""}, {"question", question}}));
  int fixed = 0;
  for (const auto& m : out.messages) {
    RAGD_ASSIGN_OR_RETURN(int t, model.CountTokens(m.content));
    fixed += t + 8;  // + the template's role markers
  }
  RAGD_ASSIGN_OR_RETURN(int q_tokens, model.CountTokens(empty_user));
  fixed += q_tokens + 8;
  // An explicit budget never overflows the model's context either.
  int room = model.context_tokens() - fixed - std::max(0, answer_tokens);
  if (budget <= 0) budget = model.default_context_budget();
  if (budget <= 0 || budget > room) budget = room;
  if (budget <= 0)
    return Status::InvalidArgument("the prompt without sources already takes " + std::to_string(fixed) +
                                   " tokens of the model's " + std::to_string(model.context_tokens()) +
                                   "-token context (with max_tokens " + std::to_string(answer_tokens) +
                                   "); shorten the history or the prompts, or lower max_tokens");

  std::string sources;
  int used = 0;
  for (const auto& hit : hits) {
    int n = static_cast<int>(out.sources.size()) + 1;
    std::string body = hit.text;
    auto render = [&](const std::string& t) {
      return prompts.Render("source", language,
                            {{"n", std::to_string(n)}, {"text", t}, {"label", SourceLabel(hit)}});
    };
    RAGD_ASSIGN_OR_RETURN(std::string block, render(body));
    RAGD_ASSIGN_OR_RETURN(int t, model.CountTokens(block));
    bool truncated = false;
    if (used + t + 1 > budget) {
      if (!out.sources.empty()) continue;  // a later, shorter source may still fit
      // The best source alone is too long: keep as much of it as fits.
      size_t lo = 0, hi = body.size();
      while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        RAGD_ASSIGN_OR_RETURN(std::string b, render(std::string(text::TruncateUtf8(body, mid))));
        RAGD_ASSIGN_OR_RETURN(int bt, model.CountTokens(b));
        if (bt + 1 <= budget) lo = mid;
        else hi = mid - 1;
      }
      if (lo == 0) continue;
      body = std::string(text::TruncateUtf8(body, lo));
      RAGD_ASSIGN_OR_RETURN(block, render(body));
      RAGD_ASSIGN_OR_RETURN(t, model.CountTokens(block));
      truncated = true;
    }
    used += t + 1;
    sources += (sources.empty() ? "" : "\n") + block;
    Source s;
    s.n = n;
    s.hit = hit;
    s.truncated = truncated;
    out.sources.push_back(std::move(s));
  }
  if (!hits.empty() && out.sources.empty())
    return Status::InvalidArgument("the context budget of " + std::to_string(budget) +
                                   " tokens leaves no room for any source; raise context_budget or the model's context");
  out.context_tokens = used;
  RAGD_ASSIGN_OR_RETURN(std::string user,
                        prompts.Render("answer", language, {{"sources", sources}, {"question", question}}));
  out.messages.push_back({"user", user});
  out.sources_text = std::move(sources);
  return out;
}

Result<std::vector<ChatMessage>> BuildCondensePrompt(const Prompts& prompts, const std::string& language,
                                                     const Session& session, const std::string& question) {
  std::string history;
  size_t first = 0;
  if (session.memory == MemoryKind::kWindow && session.turns.size() > static_cast<size_t>(session.window))
    first = session.turns.size() - session.window;
  if (session.memory == MemoryKind::kSummary) {
    if (!session.summary.empty()) history = session.summary;
    first = session.turns.empty() ? 0 : session.turns.size() - 1;  // the summary + the last turn verbatim
  }
  for (size_t i = first; i < session.turns.size(); ++i) {
    const Turn& t = session.turns[i];
    RAGD_ASSIGN_OR_RETURN(std::string line,
                          prompts.Render("history", language,
                                         {{"question", t.question},
                                          {"answer", std::string(text::TruncateUtf8(t.answer, kHistoryAnswerBytes))}}));
    history += (history.empty() ? "" : "\n") + line;
  }
  RAGD_ASSIGN_OR_RETURN(std::string user,
                        prompts.Render("condense", language, {{"history", history}, {"question", question}}));
  return std::vector<ChatMessage>{{"user", user}};
}

}  // namespace ragd
