// The model's part of recommendation: re-ranking the fused candidates from
// the user's history titles, and one reason per item (docs/RECOMMEND.md).
#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "core/status_macros.h"
#include "core/text.h"
#include "ragd/answer.h"
#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/recommend.h"

namespace ragd {
namespace {

using nlohmann::json;

constexpr size_t kMaxReasonBytes = 600;
constexpr int kMaxReasonChars = 200;  // the schema's bound: a looping model stops there
constexpr size_t kMaxTitleBytes = 160;

std::string Title(const std::string& t) { return std::string(text::TruncateUtf8(text::NormalizeWhitespace(t), kMaxTitleBytes)); }

std::string HistoryLines(const RecommendResult& r) {
  std::string out;
  for (const HistoryItem& h : r.recent) out += "- " + Title(h.title) + "\n";
  return out;
}

struct Caller {
  ChatModel* model;
  RecommendResult* r;

  Result<std::string> Call(const std::string& prompt, const json& schema, int max_tokens) {
    GenerateOptions g;
    g.json_schema = schema.dump();
    g.max_tokens = max_tokens;
    std::vector<ChatMessage> messages{{"user", prompt, {}, "", ""}};
    RAGD_ASSIGN_OR_RETURN(ChatResult c, model->Chat(messages, g, {}));
    r->prompt_tokens += c.prompt_tokens;
    r->completion_tokens += c.completion_tokens;
    r->model_seconds += c.seconds;
    return c.text;
  }
};

// One ranking of n candidates shown in `order` (order[shown] = candidate):
// each candidate's points, n - 1 for the first down to 0; those the model
// left out share the lowest places in the order shown. Empty when the
// output is not the schema's or names a number outside 1..n.
std::vector<double> RankingPoints(const std::string& text, const std::vector<int>& order) {
  const size_t n = order.size();
  json v = json::parse(text, nullptr, false);
  if (!v.is_object() || !v.contains("ranking") || !v["ranking"].is_array()) return {};
  std::vector<int> ranked;
  std::vector<char> placed(n, 0);
  for (const json& x : v["ranking"]) {
    if (!x.is_number_integer()) return {};
    int64_t shown = x.get<int64_t>();
    if (shown < 1 || shown > static_cast<int64_t>(n)) return {};
    if (placed[shown - 1]) continue;  // a repeat: its first place counts
    placed[shown - 1] = 1;
    ranked.push_back(order[shown - 1]);
  }
  if (ranked.empty()) return {};
  for (size_t shown = 0; shown < n; ++shown)
    if (!placed[shown]) ranked.push_back(order[shown]);
  std::vector<double> points(n, 0);
  for (size_t pos = 0; pos < n; ++pos) points[ranked[pos]] = static_cast<double>(n - 1 - pos);
  return points;
}

// A reason the length bound cut mid-sentence, back to its last whole
// sentence when it has one.
std::string WholeSentences(const std::string& reason) {
  std::string_view t = text::Trim(reason);
  for (std::string_view end : {".", "!", "?", "。", "！", "？"})
    if (t.ends_with(end)) return reason;
  std::vector<std::string_view> parts = text::SplitSentences(t);  // cut after each sentence end
  if (parts.size() < 2) return reason;
  return std::string(text::Trim(t.substr(0, t.size() - parts.back().size())));
}

Status Rerank(Caller& c, const Prompts& prompts, const std::string& language, const RecommendOptions& o,
              RecommendResult& r) {
  const size_t n = std::min(r.items.size(), static_cast<size_t>(o.rerank_top));
  if (n < 2) return Status::OK();
  json schema = {{"type", "object"},
                 {"properties",
                  {{"ranking",
                    {{"type", "array"},
                     {"items", {{"type", "integer"}, {"minimum", 1}, {"maximum", static_cast<int>(n)}}},
                     {"minItems", 1},
                     {"maxItems", static_cast<int>(n)}}}}},
                 {"required", {"ranking"}}};
  std::vector<double> total(n, 0);
  int valid = 0;
  std::mt19937_64 rng(o.seed);
  for (int rep = 0; rep < o.rerank_repeats; ++rep) {
    // Shuffled for every repeat, so no candidate keeps the first place
    // (LLM rankers favour what they read first: Hou et al. 2023).
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::string candidates;
    for (size_t shown = 0; shown < n; ++shown)
      candidates += "[" + std::to_string(shown + 1) + "] " + Title(r.items[order[shown]].title) + "\n";
    RAGD_ASSIGN_OR_RETURN(std::string prompt, prompts.Render("recommend_rerank", language,
                                                             {{"history", HistoryLines(r)}, {"candidates", candidates}}));
    ++r.rerank_calls;
    RAGD_ASSIGN_OR_RETURN(std::string out, c.Call(prompt, schema, static_cast<int>(8 + 5 * n)));
    std::vector<double> points = RankingPoints(out, order);
    if (points.empty()) {
      ++r.rerank_invalid;
      continue;
    }
    ++valid;
    for (size_t i = 0; i < n; ++i) total[i] += points[i];
  }
  if (valid == 0) return Status::OK();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return total[a] > total[b]; });  // ties: fused order
  std::vector<Recommendation> reordered;
  for (size_t pos = 0; pos < n; ++pos) {
    Recommendation rec = r.items[idx[pos]];
    rec.score = total[idx[pos]] / (valid * static_cast<double>(n - 1));
    rec.sources["llm"] = static_cast<int>(pos + 1);
    reordered.push_back(std::move(rec));
  }
  std::copy(r.items.begin() + n, r.items.end(), std::back_inserter(reordered));
  r.items = std::move(reordered);
  return Status::OK();
}

// ragd has paired each item with the liked item closest to it (the
// pipeline's `because`); the model only says how the two connect, one call
// per pair, from their texts. Batched in one call, the 0.5B model wrote the
// first pair's reason for every item, and picking the pairing itself it
// copied the numbers in order.
Status Explain(Caller& c, const Prompts& prompts, const std::string& language, RecommendResult& r) {
  json schema = {{"type", "object"},
                 {"properties", {{"reason", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxReasonChars}}}}},
                 {"required", {"reason"}}};
  auto about = [&](const std::string& id, const std::string& title) {
    auto it = r.snippets.find(id);
    return it == r.snippets.end() || it->second.empty() ? Title(title)
                                                         : std::string(text::NormalizeWhitespace(it->second));
  };
  std::set<std::string> given;
  for (Recommendation& rec : r.items) {
    if (rec.because.empty()) {
      ++r.explain_missing;
      continue;
    }
    RAGD_ASSIGN_OR_RETURN(std::string prompt,
                          prompts.Render("recommend_explain", language,
                                         {{"recommended", about(rec.item, rec.title)},
                                          {"liked", about(rec.because, rec.because_title)}}));
    ++r.explain_calls;
    RAGD_ASSIGN_OR_RETURN(std::string out, c.Call(prompt, schema, kMaxReasonChars / 2 + 16));
    json v = json::parse(out, nullptr, false);
    std::string reason = v.is_object() && v.contains("reason") && v["reason"].is_string() ? v["reason"].get<std::string>() : "";
    reason = std::string(text::Trim(text::NormalizeWhitespace(reason)));
    // A reason said of another item already is about neither.
    if (reason.empty() || !given.insert(reason).second) {
      ++r.explain_missing;
      continue;
    }
    rec.reason = std::string(text::TruncateUtf8(WholeSentences(reason), kMaxReasonBytes));
  }
  return Status::OK();
}

}  // namespace

Status ApplyModel(ChatModel& model, const Prompts& prompts, const RecommendOptions& options, RecommendResult& r) {
  std::string titles;
  for (const auto& h : r.recent) titles += h.title + "\n";
  for (const auto& it : r.items) titles += it.title + "\n";
  const std::string language = DetectLanguage(titles);
  Caller c{&model, &r};
  if (options.rerank_llm) RAGD_RETURN_IF_ERROR(Rerank(c, prompts, language, options, r));
  if (static_cast<int>(r.items.size()) > options.k) r.items.resize(options.k);
  if (options.explain) RAGD_RETURN_IF_ERROR(Explain(c, prompts, language, r));
  return Status::OK();
}

RecommendOptions FusedStepOptions(const RecommendOptions& options) {
  RecommendOptions fused = options;
  if (options.rerank_llm) fused.k = std::max(options.k, options.rerank_top);
  return fused;
}

Result<RecommendResult> RecommendWithModel(Engine& engine, ChatModel* model, const RecommendOptions& options,
                                           const Prompts& prompts) {
  const auto t0 = std::chrono::steady_clock::now();
  if ((options.rerank_llm || options.explain) && !model)
    return Status::InvalidArgument("the re-rank and the reasons need a chat model");
  RAGD_ASSIGN_OR_RETURN(RecommendResult r, engine.Recommend(FusedStepOptions(options)));
  if (model) RAGD_RETURN_IF_ERROR(ApplyModel(*model, prompts, options, r));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace ragd
