#include "cli/dataset_commands.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/answer_setup.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "core/files.h"
#include "ragd/dataset.h"

namespace ragd::cli {

using nlohmann::json;

namespace {

// FILE.jsonl -> FILE.train.jsonl and FILE.val.jsonl, beside it.
std::pair<std::string, std::string> SplitPaths(const std::string& out) {
  std::filesystem::path p(out);
  std::string ext = p.extension().string();
  if (ext.empty()) ext = ".jsonl";
  std::filesystem::path stem = p.parent_path() / p.stem();
  return {stem.string() + ".train" + ext, stem.string() + ".val" + ext};
}

}  // namespace

DatasetCommands::DatasetCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  auto* dataset = app->add_subcommand("dataset", "fine-tuning data from a knowledge base");
  dataset->require_subcommand(1);
  synth_ = dataset->add_subcommand("synth", "the chat model writes question and answer pairs from the chunks; "
                                            "kept when the chunk supports the answer and the question is new");
  synth_->add_option("--kb", f_.kb, "knowledge base to write pairs from")->required();
  synth_->add_option("--out", out_, "FILE.jsonl: writes FILE.train.jsonl and FILE.val.jsonl")->required();
  synth_->add_option("--format", format_, "openai, alpaca or sharegpt (default openai)");
  synth_->add_option("--per-chunk", per_chunk_, "pairs asked for per chunk, 1..10 (default 2)");
  synth_->add_option("--max-chunks", max_chunks_, "use this many chunks, spread over the knowledge base (default all)");
  synth_->add_option("--lang", lang_, "prompt language: auto (each chunk's), en or zh (default auto)");
  synth_->add_option("--min-support", min_support_,
                     "least share of each answer sentence's terms found in its chunk (default 0.5, as citations)");
  synth_->add_option("--max-similarity", max_similarity_, "questions this similar (cosine) to a kept one are dropped (default 0.9)");
  synth_->add_option("--validation", validation_, "share of the kept pairs for validation, 0..0.5 (default 0.1)");
  synth_->add_option("--rejected", rejected_file_,
                     "also write the dropped pairs, each with its reason, support and closest kept question (JSONL)");
  synth_->add_flag("--with-context", with_context_, "put the chunk before the question in the user turn");
  synth_->add_flag("--json", f_.json, "print the report as JSON");
  AddModelFlags(synth_, &f_);

  export_ = dataset->add_subcommand("export", "a knowledge base's chat sessions or traces as fine-tuning data");
  export_->add_option("--kb", f_.kb, "knowledge base whose sessions or traces to export")->required();
  export_->add_option("--out", out_, "the JSONL file to write")->required();
  export_->add_option("--format", format_, "openai, alpaca or sharegpt (default openai)");
  export_->add_flag("--sessions", sessions_, "one conversation per chat session");
  export_->add_flag("--traces", traces_, "one conversation per traced chat call (the prompts as the model saw them)");
  export_->add_option("--trace-file", trace_file_, "with --traces: the file (default <kb dir>/traces.jsonl)");
  export_->add_flag("--json", f_.json, "print the report as JSON");
}

std::optional<int> DatasetCommands::Run() {
  if (synth_->parsed()) return Synth();
  if (export_->parsed()) return Export();
  return std::nullopt;
}

int DatasetCommands::Synth() {
  auto format = ParseDatasetFormat(format_);
  if (!format.ok()) return Fail(format.status());
  auto prepared = Prepare(*common_, f_, KbNeed::kAlways);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  SynthOptions o;
  o.kb = f_.kb;
  o.per_chunk = per_chunk_;
  o.max_chunks = max_chunks_;
  o.language = lang_;
  o.min_support = min_support_;
  o.max_similarity = max_similarity_;
  o.validation_fraction = validation_;
  o.with_context = with_context_;
  if (f_.max_tokens) o.max_tokens = *f_.max_tokens;
  std::vector<SynthPair> pairs, rejected;
  ProgressBar bar("synth", common_->quiet || f_.json);
  auto report = SynthesizeDataset(
      *run.engine, *run.model, run.prompts, o, &pairs,
      [&](int64_t done, int64_t total) {
        bar.Update(IngestProgress{done, total, static_cast<int64_t>(pairs.size()), "chunk " + std::to_string(done)});
      },
      &rejected);
  bar.Finish();
  WarnTrace(run);
  // What was kept is written even when a model call failed part way.
  std::vector<Conversation> train, val;
  for (const SynthPair& p : pairs) (p.validation ? val : train).push_back(PairConversation(p, with_context_));
  auto [train_path, val_path] = SplitPaths(out_);
  if (Status st = WriteConversations(train_path, train, *format); !st.ok()) return Fail(st);
  if (Status st = WriteConversations(val_path, val, *format); !st.ok()) return Fail(st);
  if (!rejected_file_.empty()) {
    std::string lines;
    for (const SynthPair& p : rejected)
      lines += json{{"reason", p.dropped}, {"question", p.question}, {"answer", p.answer}, {"doc_id", p.doc_id},
                    {"chunk_id", p.chunk_id}, {"support", p.support}, {"similarity", p.similarity}, {"closest", p.closest}}
                   .dump(-1, ' ', false, json::error_handler_t::replace) +
               "\n";
    if (Status st = files::WriteFileAtomic(rejected_file_, lines); !st.ok()) return Fail(st);
  }
  if (!report.ok()) return Fail(report.status().WithContext("after " + std::to_string(pairs.size()) +
                                                           " kept pairs (written to " + train_path + ")"));
  const SynthReport& r = *report;
  if (f_.json) {
    std::cout << json{{"kb", o.kb}, {"format", DatasetFormatName(*format)}, {"train_file", train_path},
                      {"validation_file", val_path}, {"chunks", r.chunks}, {"generated", r.generated},
                      {"dropped",
                       {{"malformed", r.malformed}, {"not_questions", r.not_questions}, {"unsupported", r.unsupported},
                        {"duplicates", r.duplicates}}},
                      {"kept", r.kept}, {"train", r.train}, {"validation", r.validation},
                      {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}, {"seconds", r.seconds}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%lld chunks -> %lld pairs written by the model; dropped: %lld malformed, %lld not questions, %lld "
              "unsupported by their chunk, %lld near-duplicate questions; kept %lld (%lld train -> %s, %lld validation -> "
              "%s) in %.1fs\n",
              static_cast<long long>(r.chunks), static_cast<long long>(r.generated), static_cast<long long>(r.malformed),
              static_cast<long long>(r.not_questions),
              static_cast<long long>(r.unsupported), static_cast<long long>(r.duplicates), static_cast<long long>(r.kept),
              static_cast<long long>(r.train), train_path.c_str(), static_cast<long long>(r.validation), val_path.c_str(),
              r.seconds);
  return 0;
}

int DatasetCommands::Export() {
  auto format = ParseDatasetFormat(format_);
  if (!format.ok()) return Fail(format.status());
  if (sessions_ == traces_) return Fail(Status::InvalidArgument("give one of --sessions and --traces"));
  if (!trace_file_.empty() && !traces_) return Fail(Status::InvalidArgument("--trace-file goes with --traces"));
  AnswerFlags f = f_;
  f.no_retrieval = true;
  auto prepared = Prepare(*common_, f, KbNeed::kAlways, false);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  int64_t skipped = 0;
  Result<std::vector<Conversation>> conversations = std::vector<Conversation>{};
  if (sessions_) {
    conversations = SessionConversations(*run.engine, f_.kb);
  } else {
    std::string file = trace_file_;
    if (file.empty()) {
      auto info = run.engine->GetKnowledgeBase(f_.kb);
      if (!info.ok()) return Fail(info.status());
      file = (std::filesystem::path(info->path) / "traces.jsonl").string();
    }
    conversations = TraceConversations(file, &skipped);
  }
  if (!conversations.ok()) return Fail(conversations.status());
  if (Status st = WriteConversations(out_, *conversations, *format); !st.ok()) return Fail(st);
  if (f_.json) {
    std::cout << json{{"kb", f_.kb}, {"from", sessions_ ? "sessions" : "traces"}, {"format", DatasetFormatName(*format)},
                      {"file", out_}, {"conversations", conversations->size()}, {"skipped", skipped}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%zu conversations from %s of '%s' written to %s (%s)%s\n", conversations->size(),
              sessions_ ? "sessions" : "traces", f_.kb.c_str(), out_.c_str(), DatasetFormatName(*format),
              skipped ? (", " + std::to_string(skipped) + " unreadable records skipped").c_str() : "");
  return 0;
}

}  // namespace ragd::cli
