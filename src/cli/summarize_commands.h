// `ragd summarize`: a summary of a file or of a knowledge base's document,
// streamed, with the parts it cites.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/answer_commands.h"
#include "cli/config.h"

namespace ragd::cli {

class SummarizeCommands {
 public:
  SummarizeCommands(CLI::App* app, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is this one; nullopt if not.
  std::optional<int> Run();

 private:
  int Summarize();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* summarize_ = nullptr;
  std::string file_, doc_id_, strategy_ = "auto", lang_ = "auto", focus_;
  int words_ = 150;
  int part_tokens_ = 0;
  bool no_keep_ = false, kept_ = false;
};

}  // namespace ragd::cli
