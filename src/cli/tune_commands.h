// `ragd kb tune` (fusion chosen from the knowledge base's own questions)
// and the grid table `ragd eval retrieval --grid` prints (docs/RETRIEVAL.md).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/answer_commands.h"
#include "cli/config.h"
#include <nlohmann/json.hpp>

#include "ragd/tune.h"

namespace ragd::cli {

class TuneCommands {
 public:
  // Adds `tune` under the `kb` command.
  TuneCommands(CLI::App* kb, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is one of these; nullopt if not.
  std::optional<int> Run();

 private:
  int Tune();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* tune_ = nullptr;
  TuneOptions options_;
  bool dry_run_ = false;
};

// Tunes kb with the configured chat model, with progress on stderr, and
// prints what it chose: the table, the report as JSON, or (kNote, after an
// ingest whose own output must stay alone on stdout) one line on stderr.
// 0 or the exit code of the failure.
enum class TuneOutput { kTable, kJson, kNote };
int RunTune(const CommonFlags& common, const AnswerFlags& flags, const TuneOptions& options, TuneOutput output);

// The grid's table: BM25, dense, the default, dispersion, the choice on
// half the questions and the best on all, nDCG@10 on each half and all.
void PrintFusionTuning(const FusionTuning& t);
nlohmann::json FusionTuningJson(const FusionTuning& t);

}  // namespace ragd::cli
