// `ragd interactions import`, `ragd recommend` and `ragd eval recommend`
// (docs/RECOMMEND.md); and `ragd ingest --records`, one document per record.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/answer_commands.h"
#include "cli/config.h"
#include "ragd/engine.h"

namespace ragd::cli {

class RecommendCommands {
 public:
  RecommendCommands(CLI::App* app, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is one of these; nullopt if not.
  std::optional<int> Run();

 private:
  int Import();
  int Recommend();
  int Eval();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* import_ = nullptr;
  CLI::App* recommend_ = nullptr;
  CLI::App* eval_ = nullptr;
  std::string import_kb_, import_file_;
  bool import_json_ = false;
  std::string user_, query_, rerank_ = "none";
  std::vector<std::string> like_, weights_;
  int k_ = 10, rerank_top_ = 20, repeats_ = 3, candidates_ = 200;
  bool explain_ = false, include_seen_ = false;
  // eval recommend
  std::string eval_folder_, eval_items_ = "items.jsonl", eval_rows_ = "interactions.csv", eval_kb_,
              eval_out_ = "ragd-eval-recommend.jsonl";
  std::vector<std::string> eval_methods_;
  int eval_users_ = 0, eval_llm_users_ = 50;
};

// `ragd ingest --records FILE…`: each file's records as documents.
// Returns the exit code (3 when a file failed, as ingest does).
int IngestRecords(Engine& engine, const std::string& kb, const std::vector<std::string>& paths,
                  const RecordFields& fields, const SplitOptions& split,
                  const std::map<std::string, std::string>& metadata, bool json, bool quiet);

}  // namespace ragd::cli
