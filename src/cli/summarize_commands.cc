#include "cli/summarize_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/output.h"
#include "core/text.h"
#include "ragd/summarize.h"
#include "ragd/summary_eval.h"

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
  summarize_->add_option("--parallel", parallel_, "map calls at once for remote backends (default 4; the local model runs one)");
  summarize_->add_flag("--no-keep", no_keep_, "with --kb: do not keep the summary with the document");
  summarize_->add_flag("--kept", kept_, "with --kb: print the summary kept with the document, without the model");
  summarize_->add_flag("--json", f_.json, "print the summary as JSON (text, parts, citations, usage)");
  AddModelFlags(summarize_, &f_);

  if (CLI::App* eval = app->get_subcommand("eval")) {
    eval_ = eval->add_subcommand("summaries", "summarize a folder's documents and score them against reference summaries "
                                              "(ROUGE, BERTScore, length, faithfulness), with lead-N and central baselines");
    eval_->add_option("folder", eval_folder_, "folder with docs.jsonl and summaries.jsonl")->required();
    eval_->add_option("--docs", eval_docs_, "the documents' file in the folder (default docs.jsonl)");
    eval_->add_option("--refs", eval_refs_, "the references' file in the folder (default summaries.jsonl)");
    eval_->add_option("--methods", eval_methods_, "lead, central, auto, stuff, map-reduce, refine (default lead,central,auto)")
        ->delimiter(',');
    eval_->add_option("--limit", eval_limit_, "only the first N documents (default all)");
    eval_->add_option("--words", eval_words_, "summary length in words, Chinese characters (default: each first reference's)");
    eval_->add_flag("--no-title", no_title_, "do not show the model the title (when it is the reference's headline)");
    eval_->add_flag("--skip-leaked", skip_leaked_, "leave out documents whose text holds a reference's opening verbatim");
    eval_->add_flag("--no-judge", no_judge_, "skip faithfulness (the model judging each summary sentence)");
    eval_->add_option("--bertscore-model", bertscore_model_,
                      "embedding model for BERTScore and the central baseline (default all-MiniLM-L6-v2 for English, "
                      "multilingual-e5-small for Chinese)");
    eval_->add_option("--out", eval_out_, "per-summary JSONL, appended to; records already there are kept, not redone "
                                          "(default ragd-eval-summaries.jsonl)");
    eval_->add_flag("--json", f_.json, "print the table as JSON");
    AddModelFlags(eval_, &f_);
  }
}

std::optional<int> SummarizeCommands::Run() {
  if (*summarize_) return Summarize();
  if (eval_ && *eval_) return EvalSummaries();
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
  o.parallel = parallel_;
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
  if (Status st = LoadChatModel(run); !st.ok()) return Fail(st);
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

namespace {

using nlohmann::json;

json RecordJson(const SummaryEvalRecord& r) {
  json judged = json::array();
  for (const auto& j : r.judged) judged.push_back({{"sentence", j.sentence}, {"parts", j.parts}, {"supported", j.supported}});
  json out = {{"id", r.id}, {"method", r.method}, {"model", r.model}, {"language", r.language}, {"summary", r.summary},
              {"references", r.references}, {"rouge1", r.rouge1}, {"rouge2", r.rouge2}, {"rougeL", r.rougeL},
              {"bert_precision", r.bert_precision}, {"bert_recall", r.bert_recall}, {"bert_f1", r.bert_f1},
              {"bert_model", r.bert_model}, {"length", r.length}, {"reference_length", r.reference_length},
              {"length_ratio", r.length_ratio}, {"faithfulness", nullptr}, {"judged", judged},
              {"strategy", r.strategy}, {"parts", r.parts}, {"model_calls", r.model_calls},
              {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}, {"seconds", r.seconds},
              {"error", r.error}};
  if (r.faithfulness) out["faithfulness"] = *r.faithfulness;
  return out;
}

SummaryEvalRecord RecordFromJson(const json& j) {
  SummaryEvalRecord r;
  r.id = j.value("id", std::string());
  r.method = j.value("method", std::string());
  r.model = j.value("model", std::string());
  r.language = j.value("language", std::string());
  r.summary = j.value("summary", std::string());
  r.references = j.value("references", std::vector<std::string>());
  r.rouge1 = j.value("rouge1", 0.0), r.rouge2 = j.value("rouge2", 0.0), r.rougeL = j.value("rougeL", 0.0);
  r.bert_precision = j.value("bert_precision", 0.0), r.bert_recall = j.value("bert_recall", 0.0);
  r.bert_f1 = j.value("bert_f1", 0.0);
  r.bert_model = j.value("bert_model", std::string());
  r.length = j.value("length", 0), r.reference_length = j.value("reference_length", 0);
  r.length_ratio = j.value("length_ratio", 0.0);
  if (j.contains("faithfulness") && j["faithfulness"].is_number()) r.faithfulness = j["faithfulness"].get<double>();
  if (j.contains("judged") && j["judged"].is_array())
    for (const auto& x : j["judged"])
      r.judged.push_back({x.value("sentence", std::string()), x.value("parts", std::vector<int>()), x.value("supported", false)});
  r.strategy = j.value("strategy", std::string());
  r.parts = j.value("parts", 0), r.model_calls = j.value("model_calls", 0);
  r.prompt_tokens = j.value("prompt_tokens", 0), r.completion_tokens = j.value("completion_tokens", 0);
  r.seconds = j.value("seconds", 0.0);
  r.error = j.value("error", std::string());
  return r;
}

}  // namespace

int SummarizeCommands::EvalSummaries() {
  std::vector<std::string> methods = eval_methods_.empty() ? std::vector<std::string>{"lead", "central", "auto"} : eval_methods_;
  if (Status st = CheckSummaryEvalMethods(methods); !st.ok()) return Fail(st);
  auto docs = ReadSummaryEvalSet(eval_folder_, eval_docs_, eval_refs_);
  if (!docs.ok()) return Fail(docs.status());
  const size_t leaked = std::count_if(docs->begin(), docs->end(), [](const SummaryEvalDoc& d) { return d.reference_in_text; });
  if (skip_leaked_) std::erase_if(*docs, [](const SummaryEvalDoc& d) { return d.reference_in_text; });
  if (leaked && !common_->quiet)
    std::fprintf(stderr, "ragd: %zu of the folder's documents hold a reference's opening verbatim (lead-N copies it)%s\n",
                 leaked, skip_leaked_ ? "; left out" : "; --skip-leaked leaves them out");
  if (docs->empty()) return Fail(Status::InvalidArgument("no documents left to evaluate"));
  if (eval_limit_ > 0 && static_cast<size_t>(eval_limit_) < docs->size()) docs->resize(eval_limit_);
  if (eval_words_ != 0 && (eval_words_ < 10 || eval_words_ > 2000))
    return Fail(Status::InvalidArgument("--words must be between 10 and 2000, got " + std::to_string(eval_words_)));
  const bool need_model = std::any_of(methods.begin(), methods.end(), IsModelSummaryMethod);
  AnswerFlags f = f_;
  f.no_retrieval = true;
  auto prepared = Prepare(*common_, f, KbNeed::kUnlessNoRetrieval, false);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  if (need_model) {
    if (Status st = LoadChatModel(run); !st.ok()) return Fail(st);
  }
  const std::string model_name = run.model ? run.model->model() : "";
  // The BERTScore (and central) embedder of each language, opened once.
  std::map<std::string, std::unique_ptr<Embedder>> embedders;
  SummaryScorers scorers;
  scorers.embedder = [&](const std::string& language) -> Result<Embedder*> {
    std::string name = !bertscore_model_.empty() ? bertscore_model_
                       : language == "zh"        ? "multilingual-e5-small"
                                                 : "all-MiniLM-L6-v2";
    auto& slot = embedders[name];
    if (!slot) {
      EmbedderOptions eo;
      eo.backend.model = name;
      auto e = OpenEmbedder(eo);
      if (!e.ok()) return e.status().WithContext("BERTScore model");
      slot = std::move(e).value();
    }
    return slot.get();
  };
  SummaryEvalOptions o;
  o.methods = methods;
  o.words = eval_words_;
  o.use_title = !no_title_;
  o.judge = !no_judge_;
  o.summarize.generate = run.ask.generate;
  if (!f_.max_tokens) o.summarize.generate.max_tokens = 0;  // from the length
  // Records already in --out (an earlier, stopped run) are kept, not redone.
  std::set<std::string> done;
  auto key = [](const SummaryEvalRecord& r) { return r.method + "\t" + r.model + "\t" + r.id; };
  std::vector<SummaryEvalRecord> records = ReadEarlierRecords<SummaryEvalRecord>(eval_out_, RecordFromJson, key, &done);
  std::ofstream out(eval_out_, std::ios::app);
  if (!out) return Fail(Status::IOError("cannot write " + eval_out_));
  std::set<std::string> wanted_ids;
  for (const auto& d : *docs) wanted_ids.insert(d.id);
  size_t n = 0, total = methods.size() * docs->size(), reused = 0;
  for (const std::string& method : methods) {
    const bool model_method = IsModelSummaryMethod(method);
    for (const SummaryEvalDoc& d : *docs) {
      ++n;
      if (done.count(method + "\t" + (model_method ? model_name : "") + "\t" + d.id)) {
        ++reused;
        continue;
      }
      run.tags->question = "eval summaries: " + method + " " + d.id;
      auto r = EvaluateSummary(d, method, run.model.get(), &run.prompts, o, scorers);
      WarnTrace(run);
      if (!r.ok()) return Fail(r.status().WithContext(d.id + " (" + method + ")"));
      out << RecordJson(*r).dump() << "\n";
      out.flush();
      if (!common_->quiet) {
        if (r->error.empty())
          std::fprintf(stderr, "[%zu/%zu] %s %s: ROUGE-L %.3f, BERTScore F1 %.3f, length %.2f%s (%.1f s)\n", n, total,
                       method.c_str(), d.id.c_str(), r->rougeL, r->bert_f1, r->length_ratio,
                       r->faithfulness ? (", faithful " + std::to_string(*r->faithfulness).substr(0, 4)).c_str() : "",
                       r->seconds);
        else
          std::fprintf(stderr, "[%zu/%zu] %s %s: FAILED, %s\n", n, total, method.c_str(), d.id.c_str(), r->error.c_str());
      }
      records.push_back(std::move(r).value());
    }
  }
  // The table covers this run's documents and methods (the file may hold more).
  std::erase_if(records, [&](const SummaryEvalRecord& r) {
    return !wanted_ids.count(r.id) || std::find(methods.begin(), methods.end(), r.method) == methods.end() ||
           (IsModelSummaryMethod(r.method) && r.model != model_name);
  });
  std::vector<SummaryMethodReport> table = SummarizeSummaryEval(records);
  std::set<std::string> bert_models;
  for (const auto& r : records)
    if (!r.bert_model.empty()) bert_models.insert(r.bert_model);
  if (f_.json) {
    json rows = json::array();
    for (const auto& m : table) {
      json row = {{"method", m.method}, {"model", m.model}, {"docs", m.docs}, {"errors", m.errors},
                  {"rouge1", m.rouge1}, {"rouge2", m.rouge2}, {"rougeL", m.rougeL},
                  {"bert_precision", m.bert_precision}, {"bert_recall", m.bert_recall}, {"bert_f1", m.bert_f1},
                  {"length_ratio", m.length_ratio}, {"faithfulness", nullptr}, {"judged", m.judged},
                  {"seconds_per_doc", m.seconds_per_doc}, {"tokens_per_doc", m.tokens_per_doc},
                  {"rougeL_above_lead", m.rougeL_above_lead}, {"paired_with_lead", m.paired_with_lead}};
      if (m.faithfulness) row["faithfulness"] = *m.faithfulness;
      rows.push_back(row);
    }
    std::cout << json{{"folder", eval_folder_}, {"docs", docs->size()}, {"reused", reused}, {"out", eval_out_},
                      {"reference_in_text", leaked}, {"skipped_leaked", skip_leaked_},
                      {"bertscore_models", bert_models}, {"methods", rows}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%-10s %-36s %4s %6s %6s %6s %6s %6s %6s %5s %5s %7s %8s %s\n", "method", "model", "docs", "R-1", "R-2",
              "R-L", "BS-P", "BS-R", "BS-F1", "len", "faith", "s/doc", "tok/doc", "R-L>lead");
  for (const auto& m : table) {
    std::string faith = m.faithfulness ? std::to_string(*m.faithfulness).substr(0, 4) : "-";
    std::string vs_lead = m.paired_with_lead ? std::to_string(m.rougeL_above_lead) + "/" + std::to_string(m.paired_with_lead) : "-";
    std::printf("%-10s %-36s %4d %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %5.2f %5s %7.1f %8.0f %s%s\n", m.method.c_str(),
                m.model.empty() ? "-" : m.model.c_str(), m.docs, m.rouge1, m.rouge2, m.rougeL, m.bert_precision,
                m.bert_recall, m.bert_f1, m.length_ratio, faith.c_str(), m.seconds_per_doc, m.tokens_per_doc,
                vs_lead.c_str(), m.errors ? (" (" + std::to_string(m.errors) + " failed)").c_str() : "");
  }
  for (const auto& b : bert_models) std::printf("BERTScore: %s\n", b.c_str());
  if (reused) std::printf("(%zu summaries reused from %s)\n", reused, eval_out_.c_str());
  return 0;
}

}  // namespace ragd::cli
