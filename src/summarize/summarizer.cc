// The summary strategies: stuff (one call over every part), map-reduce
// (a summary per part, then combining them, in rounds while they do not
// fit), refine (the parts in order, the summary rewritten with each).
#include <algorithm>
#include <chrono>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "core/status_macros.h"
#include "core/text.h"
#include "rag/context.h"
#include "ragd/summarize.h"

namespace ragd {

Result<SummaryStrategy> ParseSummaryStrategy(const std::string& name) {
  if (name == "auto") return SummaryStrategy::kAuto;
  if (name == "stuff") return SummaryStrategy::kStuff;
  if (name == "map-reduce" || name == "map_reduce") return SummaryStrategy::kMapReduce;
  if (name == "refine") return SummaryStrategy::kRefine;
  return Status::InvalidArgument("unknown summary strategy '" + name + "' (use auto, stuff, map-reduce or refine)");
}

const char* SummaryStrategyName(SummaryStrategy s) {
  switch (s) {
    case SummaryStrategy::kAuto: return "auto";
    case SummaryStrategy::kStuff: return "stuff";
    case SummaryStrategy::kMapReduce: return "map-reduce";
    case SummaryStrategy::kRefine: return "refine";
  }
  return "auto";
}

Status CheckSummarizeOptions(const SummarizeOptions& o) {
  if (o.words < 10 || o.words > 2000) return Status::InvalidArgument("--words must be between 10 and 2000, got " + std::to_string(o.words));
  if (o.language != "auto" && o.language != "en" && o.language != "zh")
    return Status::InvalidArgument("--lang must be auto, en or zh, not '" + o.language + "'");
  if (o.part_tokens < 0) return Status::InvalidArgument("--part-tokens must be positive");
  if (o.parallel < 0 || o.parallel > 64) return Status::InvalidArgument("--parallel must be between 1 and 64, got " + std::to_string(o.parallel));
  return Status::OK();
}

namespace {

using Clock = std::chrono::steady_clock;

// Room the prompt's own words and the system message take, in tokens.
constexpr int kPromptOverhead = 320;

struct Run {
  ChatModel* model;
  const Prompts* prompts;
  const SummaryInput* in;
  const SummarizeOptions* o;
  const SummaryProgressFn* progress;
  Summary* s;
  std::string language_name, focus;
  int answer_tokens = 0;
  std::mutex mu;  // s's counters and progress, when map calls run at once

  int Count(std::string_view t) {
    Result<int> n = model->CountTokens(t);
    return n.ok() ? *n : EstimateTokens(t);
  }

  void Progress(const char* stage, int done, int total) {
    std::lock_guard lock(mu);
    if (*progress) (*progress)({stage, done, total});
  }

  std::map<std::string, std::string> Vars() const {
    return {{"title", in->title}, {"words", std::to_string(o->words)}, {"language", language_name}, {"focus", focus}};
  }

  // Vars() and one part's number, label and text (map and refine prompts).
  std::map<std::string, std::string> PartVars(const SummaryPart& p) const {
    auto vars = Vars();
    vars["n"] = std::to_string(p.n);
    vars["label"] = p.label;
    vars["text"] = p.text;
    return vars;
  }

  Result<std::string> Call(const std::string& prompt_name, std::map<std::string, std::string> vars, int words,
                           const TokenFn& on_token) {
    vars["words"] = std::to_string(words);
    RAGD_ASSIGN_OR_RETURN(std::string system, prompts->Render("summarize_system", s->language, {}));
    RAGD_ASSIGN_OR_RETURN(std::string user, prompts->Render(prompt_name, s->language, vars));
    GenerateOptions g = o->generate;
    g.max_tokens = g.max_tokens > 0 ? g.max_tokens : MaxTokens(words);
    g.stable_prefix_messages = 1;
    std::vector<ChatMessage> messages = {{"system", system}, {"user", user}};
    RAGD_ASSIGN_OR_RETURN(ChatResult c, model->Chat(messages, g, on_token));
    {
      std::lock_guard lock(mu);
      s->model_calls++;
      s->prompt_tokens += c.prompt_tokens;
      s->completion_tokens += c.completion_tokens;
    }
    std::string out(text::Trim(c.text));
    if (out.empty()) return Status::Unavailable("the model wrote an empty summary (" + prompt_name + ")");
    return out;
  }

  // Tokens a summary of `words` may take: Chinese about one per character,
  // English about 1.4 per word, and room to finish the sentence.
  int MaxTokens(int words) const { return static_cast<int>(words * (s->language == "zh" ? 1.3 : 1.8)) + 64; }

  // What the context leaves for the text of one call.
  int TextBudget() { return std::max(256, model->context_tokens() - answer_tokens - kPromptOverhead - Count(in->title)); }

  static std::string Numbered(const SummaryPart& p, const std::string& text) {
    return "[" + std::to_string(p.n) + "] (" + p.label + ")\n" + text;
  }

  Result<std::string> Stuff(const TokenFn& on_token) {
    std::string parts;
    for (const auto& p : s->parts) parts += (parts.empty() ? "" : "\n\n") + Numbered(p, p.text);
    Progress("stuff", 0, 1);
    auto vars = Vars();
    vars["parts"] = parts;
    RAGD_ASSIGN_OR_RETURN(std::string out, Call("summarize_stuff", vars, o->words, on_token));
    Progress("stuff", 1, 1);
    return out;
  }

  Result<std::string> MapReduce(const TokenFn& on_token) {
    const int n = static_cast<int>(s->parts.size());
    // Part summaries short enough that most documents combine in one round.
    const int map_words = std::clamp(o->words * 3 / std::max(1, std::min(n, 6)), 30, 120);
    std::vector<std::string> pieces(n);  // "[n] (label)\nsummary", then each round's combined summaries
    // Several map calls at once where the backend allows (remote servers);
    // the local model runs one call at a time.
    const int workers = std::clamp(o->parallel > 0 ? o->parallel : model->max_parallel_calls(), 1,
                                   model->max_parallel_calls() > 1 ? std::max(1, n) : 1);
    std::atomic<int> next{0}, done{0};
    Status failed;
    auto work = [&] {
      for (int i; (i = next++) < n;) {
        const SummaryPart& p = s->parts[i];
        auto sum = Call("summarize_map", PartVars(p), map_words, {});
        if (!sum.ok()) {
          std::lock_guard lock(mu);
          if (failed.ok()) failed = sum.status();
          next = n;  // no new calls after a failure
          return;
        }
        pieces[i] = Numbered(p, *sum);
        Progress("map", ++done, n);
      }
    };
    Progress("map", 0, n);
    std::vector<std::thread> threads;
    for (int w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    RAGD_RETURN_IF_ERROR(failed);
    // Combine: all at once when they fit, else in groups that fit, again.
    const int budget = TextBudget();
    while (true) {
      const size_t before = pieces.size();
      std::vector<std::vector<std::string>> groups(1);
      int used = 0;
      for (auto& piece : pieces) {
        int t = Count(piece) + 2;
        if (!groups.back().empty() && used + t > budget) {
          groups.emplace_back();
          used = 0;
        }
        groups.back().push_back(std::move(piece));
        used += t;
      }
      s->reduce_levels++;
      const bool last = groups.size() == 1;
      std::vector<std::string> next;
      for (size_t g = 0; g < groups.size(); ++g) {
        Progress("reduce", static_cast<int>(g), static_cast<int>(groups.size()));
        std::string joined;
        for (const auto& piece : groups[g]) joined += (joined.empty() ? "" : "\n\n") + piece;
        auto vars = Vars();
        vars["summaries"] = joined;
        RAGD_ASSIGN_OR_RETURN(std::string sum, Call("summarize_reduce", vars, last ? o->words : map_words,
                                                    last ? on_token : TokenFn()));
        if (last) {
          Progress("reduce", 1, 1);
          return sum;
        }
        next.push_back(sum);  // keeps the [n] of the parts it combines
      }
      if (next.size() >= before)
        return Status::Internal("map-reduce cannot combine the part summaries: each alone fills the context");
      pieces = std::move(next);
      if (s->reduce_levels > 8) return Status::Internal("map-reduce took more than 8 rounds");
    }
  }

  Result<std::string> Refine(const TokenFn& on_token) {
    const int n = static_cast<int>(s->parts.size());
    std::string summary;
    for (const auto& p : s->parts) {
      Progress("refine", p.n - 1, n);
      auto vars = PartVars(p);
      const bool last = p.n == n;
      if (summary.empty()) {
        RAGD_ASSIGN_OR_RETURN(std::string first, Call("summarize_map", vars, o->words, last ? on_token : TokenFn()));
        // The first part's summary cites it, so later rewrites keep [1].
        summary = AttributeCitations(first, {Source{p.n, SearchHit{.text = p.text}}}, 0, nullptr);
      } else {
        vars["summary"] = summary;
        RAGD_ASSIGN_OR_RETURN(summary, Call("summarize_refine", vars, o->words, last ? on_token : TokenFn()));
      }
    }
    Progress("refine", n, n);
    return summary;
  }
};

}  // namespace

Result<Summary> Summarizer::Summarize(const SummaryInput& input, const SummarizeOptions& o,
                                      const SummaryProgressFn& progress, const TokenFn& on_token) {
  const auto t0 = Clock::now();
  RAGD_RETURN_IF_ERROR(CheckSummarizeOptions(o));
  Summary s;
  Run run{model_, prompts_, &input, &o, &progress, &s};
  std::string sample;
  for (const auto& sec : input.sections) {
    sample += sec.text + "\n";
    if (sample.size() > 8000) break;
  }
  if (text::Trim(sample).empty()) return Status::InvalidArgument(input.source + " has no text to summarize");
  s.language = o.language == "auto" ? DetectLanguage(sample) : o.language;
  const bool zh = s.language == "zh";
  run.language_name = zh ? "中文" : "English";
  if (!text::Trim(o.focus).empty()) {
    RAGD_ASSIGN_OR_RETURN(std::string f, prompts_->Render("summarize_focus", s.language, {{"focus", std::string(text::Trim(o.focus))}}));
    run.focus = (zh ? "" : " ") + std::string(text::Trim(f));
  }
  run.answer_tokens = run.MaxTokens(o.words);
  const int budget = run.TextBudget();
  auto count = [&](std::string_view t) { return run.Count(t); };
  int total = 0;
  for (const auto& sec : input.sections) total += run.Count(sec.text) + 8;  // + its number and label
  s.strategy = o.strategy;
  if (s.strategy == SummaryStrategy::kAuto) s.strategy = total <= budget ? SummaryStrategy::kStuff : SummaryStrategy::kMapReduce;
  if (s.strategy == SummaryStrategy::kStuff && total > budget)
    return Status::InvalidArgument(input.source + " takes about " + std::to_string(total) +
                                   " tokens and the model's context leaves " + std::to_string(budget) +
                                   " for it: use --strategy map-reduce or refine (or auto)");
  int part_tokens = o.part_tokens;
  if (part_tokens <= 0) {
    // One call sees every part, so small parts cost nothing and make the
    // citations precise; map and refine calls want parts as large as fit.
    part_tokens = s.strategy == SummaryStrategy::kStuff ? std::clamp(total / 4, 120, 400) : std::min(3000, budget);
  }
  if (s.strategy == SummaryStrategy::kRefine)  // the summary so far rides along with each part
    part_tokens = std::min(part_tokens, std::max(128, budget - run.answer_tokens));
  part_tokens = std::min(part_tokens, budget);
  s.parts = SplitIntoParts(input.sections, part_tokens, count);
  if (s.parts.empty()) return Status::InvalidArgument(input.source + " has no text to summarize");
  Result<std::string> text = s.strategy == SummaryStrategy::kStuff       ? run.Stuff(on_token)
                             : s.strategy == SummaryStrategy::kMapReduce ? run.MapReduce(on_token)
                                                                         : run.Refine(on_token);
  if (!text.ok()) return text.status();
  s.text = *text;
  std::vector<Source> sources;
  for (const auto& p : s.parts) sources.push_back(Source{p.n, SearchHit{.text = p.text}});
  if (o.attribute_min_overlap >= 0)
    s.text = AttributeCitations(s.text, sources, o.attribute_min_overlap, &s.citations_corrected);
  for (int n : ExtractCitations(s.text))
    if (n >= 1 && n <= static_cast<int>(s.parts.size()) && std::find(s.cited.begin(), s.cited.end(), n) == s.cited.end())
      s.cited.push_back(n);
  s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return s;
}

}  // namespace ragd
