// `ragd dataset synth` and `ragd dataset export`: fine-tuning data from a
// knowledge base (docs/DATASETS.md).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/answer_commands.h"
#include "cli/config.h"

namespace ragd::cli {

class DatasetCommands {
 public:
  DatasetCommands(CLI::App* app, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is one of these; nullopt if not.
  std::optional<int> Run();

 private:
  int Synth();
  int Export();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* synth_ = nullptr;
  CLI::App* export_ = nullptr;
  std::string out_, format_ = "openai", lang_ = "auto", trace_file_, rejected_file_;
  int per_chunk_ = 2, max_chunks_ = 0;
  double min_support_ = 0.5, max_similarity_ = 0.9, validation_ = 0.1;
  bool with_context_ = false, sessions_ = false, traces_ = false;
};

}  // namespace ragd::cli
