#include "cli/tune_commands.h"

#include <cstdio>
#include <iostream>

#include "cli/answer_setup.h"
#include "cli/output.h"
#include "cli/progress.h"

namespace ragd::cli {

using nlohmann::json;

namespace {

json TrialJson(const FusionTrial& t) {
  json j{{"name", t.name},
         {"fusion", FusionName(t.choice.fusion)},
         {"lexical_weight", t.choice.lexical_weight},
         {"ndcg@10_tune_half", t.ndcg_tune},
         {"ndcg@10_check_half", t.ndcg_check},
         {"ndcg@10", t.ndcg_all}};
  if (t.choice.fusion == Fusion::kRrf) j["rrf_k"] = t.choice.rrf_k;
  if (t.choice.mmr_lambda >= 0) j["mmr_lambda"] = t.choice.mmr_lambda;
  return j;
}

}  // namespace

json FusionTuningJson(const FusionTuning& t) {
  json grid = json::array();
  for (const auto& x : t.trials) grid.push_back(TrialJson(x));
  return json{{"questions", t.questions}, {"bm25", TrialJson(t.bm25)},       {"dense", TrialJson(t.dense)},
              {"default", TrialJson(t.default_fusion)}, {"dispersion", TrialJson(t.dispersion)},
              {"chosen", TrialJson(t.chosen)},          {"oracle", TrialJson(t.oracle)},
              {"grid", grid},                           {"seconds", t.seconds}};
}

void PrintFusionTuning(const FusionTuning& t) {
  std::printf("%d questions; nDCG@10 on the half chosen on, the held-out half, and all:\n", t.questions);
  std::printf("  %-34s %8s %8s %8s\n", "", "chosen on", "held out", "all");
  auto row = [](const char* label, const FusionTrial& x) {
    std::printf("  %-34s %8.4f %8.4f %8.4f\n", (std::string(label) + x.name).c_str(), x.ndcg_tune, x.ndcg_check,
                x.ndcg_all);
  };
  row("", t.bm25);
  row("", t.dense);
  row("", t.default_fusion);
  row("", t.dispersion);
  row("tuned: ", t.chosen);
  row("best on all (oracle): ", t.oracle);
  std::printf("  %zu choices scored in %.1fs\n", t.trials.size(), t.seconds);
}

TuneCommands::TuneCommands(CLI::App* kb, CommonFlags* common) : common_(common) {
  tune_ = kb->add_subcommand("tune", "choose the knowledge base's fusion from questions the chat model writes "
                                     "from its chunks (no labels needed); kept in its settings");
  tune_->add_option("name", options_.kb)->required();
  tune_->add_option("--sample", options_.sample_chunks, "chunks to write questions from (default 60)");
  tune_->add_option("--per-chunk", options_.per_chunk, "questions asked for per chunk, 1..10 (default 2)");
  tune_->add_flag("--dry-run", dry_run_, "show the choice without keeping it");
  tune_->add_flag("--json", f_.json, "print the report as JSON");
  AddModelFlags(tune_, &f_);
}

std::optional<int> TuneCommands::Run() {
  if (tune_->parsed()) return Tune();
  return std::nullopt;
}

int TuneCommands::Tune() {
  TuneOptions o = options_;
  o.store = !dry_run_;
  f_.kb = o.kb;
  return RunTune(*common_, f_, o, f_.json ? TuneOutput::kJson : TuneOutput::kTable);
}

int RunTune(const CommonFlags& common, const AnswerFlags& flags, const TuneOptions& options, TuneOutput output) {
  const bool json_out = output == TuneOutput::kJson;
  auto prepared = Prepare(common, flags, KbNeed::kAlways);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  ProgressBar bar("tune", common.quiet || json_out);
  auto report = TuneKnowledgeBase(*run.engine, *run.model, run.prompts, options,
                                  [&](const std::string& stage, int64_t done, int64_t total) {
                                    bar.Update(IngestProgress{done, total, 0, stage});
                                  });
  bar.Finish();
  WarnTrace(run);
  if (!report.ok()) return Fail(report.status().WithContext("tuning '" + options.kb + "'"));
  const TuneReport& r = *report;
  if (json_out) {
    json out = FusionTuningJson(r.tuning);
    out["kb"] = options.kb;
    out["stored"] = options.store;
    out["chunks"] = r.chunks;
    out["generated"] = r.generated;
    out["dropped"] = r.dropped;
    out["generic"] = r.generic;
    out["used"] = r.used;
    out["model"] = r.model;
    out["model_seconds"] = r.model_seconds;
    out["total_seconds"] = r.seconds;
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (output == TuneOutput::kNote) {
    std::fprintf(stderr, "ragd: tuned '%s' on %lld questions: %s (held-out nDCG@10 %.3f, default %.3f)\n",
                 options.kb.c_str(), static_cast<long long>(r.used), r.tuning.chosen.choice.Describe().c_str(),
                 r.tuning.chosen.ndcg_check, r.tuning.default_fusion.ndcg_check);
    return 0;
  }
  std::printf("%lld chunks -> %lld questions written by %s in %.0fs; %lld dropped by the filters, %lld generic; %lld used\n",
              static_cast<long long>(r.chunks), static_cast<long long>(r.generated), r.model.c_str(), r.model_seconds,
              static_cast<long long>(r.dropped), static_cast<long long>(r.generic), static_cast<long long>(r.used));
  PrintFusionTuning(r.tuning);
  std::printf("%s '%s': %s (%.0fs in all)\n", options.store ? "kept for" : "would keep for (--dry-run)",
              options.kb.c_str(), r.tuning.chosen.choice.Describe().c_str(), r.seconds);
  return 0;
}

}  // namespace ragd::cli
