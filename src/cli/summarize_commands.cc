#include "cli/summarize_commands.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/output.h"
#include "core/text.h"
#include "ragd/summarize.h"

namespace ragd::cli {

SummarizeCommands::SummarizeCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  summarize_ = app->add_subcommand("summarize", "summarize a file or a knowledge base's document, of any length, citing its parts");
  summarize_->add_option("file", file_, "the file to summarize (PDF, DOCX, HTML, Markdown, text, CSV, JSON)");
  summarize_->add_option("--kb", f_.kb, "summarize a document of this knowledge base (with --doc)");
  summarize_->add_option("--doc", doc_id_, "the document's id: its canonical path when ingested from a file (GET /api/kbs/{kb}/documents lists them)");
  summarize_->add_option("--strategy", strategy_, "auto, stuff, map-reduce or refine (default auto: stuff when it fits)");
  summarize_->add_option("--words", words_, "about how long, in words (Chinese: characters; default 150)");
  summarize_->add_option("--lang", lang_, "language of the summary: auto (the document's), en or zh");
  summarize_->add_option("--focus", focus_, "what to cover, e.g. \"fees and penalties only\"");
  summarize_->add_option("--part-tokens", part_tokens_, "tokens per part (default: from the model's context)");
  summarize_->add_flag("--no-keep", no_keep_, "with --kb: do not keep the summary with the document");
  summarize_->add_flag("--kept", kept_, "with --kb: print the summary kept with the document, without the model");
  summarize_->add_flag("--json", f_.json, "print the summary as JSON (text, parts, citations, usage)");
  AddModelFlags(summarize_, &f_);
}

std::optional<int> SummarizeCommands::Run() {
  if (*summarize_) return Summarize();
  return std::nullopt;
}

int SummarizeCommands::Summarize() {
  if (!file_.empty() && (!f_.kb.empty() || !doc_id_.empty()))
    return Fail(Status::InvalidArgument("give a file or --kb with --doc, not both"));
  if (!doc_id_.empty() && f_.kb.empty()) return Fail(Status::InvalidArgument("--doc needs --kb"));
  if (file_.empty() && doc_id_.empty()) {
    return Fail(Status::InvalidArgument(f_.kb.empty() ? "give a file, or --kb K --doc ID"
                                                      : "--kb needs --doc ID, the document to summarize"));
  }
  auto strategy = ParseSummaryStrategy(strategy_);
  if (!strategy.ok()) return Fail(strategy.status());
  SummarizeOptions o;
  o.strategy = *strategy;
  o.words = words_;
  o.language = lang_;
  o.focus = focus_;
  o.part_tokens = part_tokens_;
  if (Status st = CheckSummarizeOptions(o); !st.ok()) return Fail(st);
  AnswerFlags f = f_;
  f.no_retrieval = f.kb.empty();  // a file needs no knowledge base
  auto prepared = Prepare(*common_, f, f.kb.empty() ? KbNeed::kUnlessNoRetrieval : KbNeed::kAlways, false);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  if (kept_) {
    if (f.kb.empty()) return Fail(Status::InvalidArgument("--kept needs --kb and --doc"));
    auto kept = run.engine->KeptSummary(f.kb, doc_id_);
    if (!kept.ok()) return Fail(kept.status());
    if (!*kept)
      return Fail(Status::NotFound("no summary is kept for '" + doc_id_ + "' (never summarized, or changed since): run without --kept"));
    auto j = nlohmann::json::parse(**kept, nullptr, false);
    if (f_.json) std::cout << j.dump(2) << "\n";
    else std::printf("%s\n", j.value("text", std::string()).c_str());
    return 0;
  }
  // The document first: a bad path or id is reported before the model loads.
  auto input = file_.empty() ? KbSummaryInput(*run.engine, f.kb, doc_id_) : LoadSummaryInput(file_);
  if (!input.ok()) return Fail(input.status());
  auto model = run.engine->OpenChatModel(run.settings.chat);
  if (!model.ok()) return Fail(model.status());
  run.model = std::move(model).value();
  run.tags->question = "summarize: " + input->source;
  o.generate = run.ask.generate;
  if (!f_.max_tokens) o.generate.max_tokens = 0;  // from --words
  Summarizer summarizer(run.model.get(), &run.prompts);
  Printer print;
  SummaryProgressFn progress = [&](const SummaryProgress& p) {
    if (common_->quiet || f_.json || p.total <= 1) return;
    std::fflush(stdout);
    std::fprintf(stderr, "\rragd: %s %d/%d", p.stage.c_str(), p.done, p.total);
    if (p.done == p.total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
  auto s = summarizer.Summarize(*input, o, progress, f_.json ? TokenFn() : TokenFn(std::ref(print)));
  WarnTrace(run);
  if (!s.ok()) {
    if (print.started) std::printf("\n");
    return Fail(s.status());
  }
  const nlohmann::json out = api::SummaryJson(*input, *s);
  if (!f.kb.empty() && !no_keep_) {
    if (Status st = run.engine->KeepSummary(f.kb, doc_id_, out.dump()); !st.ok())
      std::fprintf(stderr, "ragd: warning: the summary was not kept: %s\n", st.ToString().c_str());
  }
  if (f_.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (s->citations_corrected)
    std::printf("\n\n(citations checked against the parts: %s)", std::string(text::Trim(s->text)).c_str());
  std::printf("\n\nParts (%s, %zu):\n", SummaryStrategyName(s->strategy), s->parts.size());
  for (const auto& p : s->parts) {
    bool cited = std::find(s->cited.begin(), s->cited.end(), p.n) != s->cited.end();
    std::printf("  [%d]%s %s — %s\n", p.n, cited ? "*" : " ", p.label.c_str(), OneLine(p.text, 100).c_str());
  }
  std::fflush(stdout);
  if (!common_->quiet)
    std::fprintf(stderr, "ragd: %d model calls, %d prompt + %d completion tokens, %.1f s\n", s->model_calls,
                 s->prompt_tokens, s->completion_tokens, s->seconds);
  return 0;
}

}  // namespace ragd::cli
