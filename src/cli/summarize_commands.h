// `ragd summarize`: a summary of a file or of a knowledge base's document,
// streamed, with the parts it cites; `ragd eval summaries`: summaries of a
// folder of documents scored against reference summaries.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

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
  int EvalSummaries();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* summarize_ = nullptr;
  std::string file_, doc_id_, strategy_ = "auto", lang_ = "auto", focus_;
  int words_ = 150;
  int part_tokens_ = 0;
  int parallel_ = 0;
  bool no_keep_ = false, kept_ = false;
  // eval summaries
  CLI::App* eval_ = nullptr;
  std::string eval_folder_, eval_docs_ = "docs.jsonl", eval_refs_ = "summaries.jsonl";
  std::string eval_out_ = "ragd-eval-summaries.jsonl", bertscore_model_;
  std::vector<std::string> eval_methods_;
  int eval_limit_ = 0, eval_words_ = 0;
  bool no_title_ = false, no_judge_ = false, skip_leaked_ = false;
};

}  // namespace ragd::cli
