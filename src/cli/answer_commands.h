// The answering commands of the ragd program: ask, chat, sessions, traces,
// and serve (the same answering behind HTTP).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/config.h"

namespace ragd::cli {

// Flags of ask and chat; optionals override ragd.toml only when given.
struct AnswerFlags {
  std::string kb;
  bool json = false;
  std::optional<std::string> backend, model, base_url, api_key, chat_template, prompts_dir, mode, strategy;
  std::optional<double> temperature, top_p, timeout, min_score;
  std::optional<int> max_tokens, retries, k, context_budget, ctx, neighbors;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
  std::vector<std::string> lora;  // --lora FILE.gguf[:scale], repeatable
  std::string json_schema_file;
  bool no_retrieval = false;
  std::optional<bool> check_sources;
  std::vector<std::string> filters;
  bool no_rerank = false;
  std::optional<int> rerank_candidates;
  // chat
  std::string session;
  std::optional<std::string> memory;
  std::optional<int> window;
};

class AnswerCommands {
 public:
  AnswerCommands(CLI::App* app, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is one of these; nullopt if not.
  std::optional<int> Run();

 private:
  int Ask();
  int Chat();
  int Sessions();
  int Traces();
  int Serve();
  int EvalAnswers();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* ask_ = nullptr;
  CLI::App* chat_ = nullptr;
  CLI::App* sessions_ = nullptr;
  CLI::App* sessions_list_ = nullptr;
  CLI::App* sessions_show_ = nullptr;
  CLI::App* sessions_delete_ = nullptr;
  CLI::App* traces_ = nullptr;
  CLI::App* serve_ = nullptr;
  CLI::App* eval_answers_ = nullptr;
  std::string eval_dir_, eval_split_ = "test", eval_out_ = "ragd-eval-answers.jsonl",
              eval_plot_ = "ragd-eval-answers.svg";
  int eval_limit_ = 0;
  std::string eval_unanswerable_;
  int eval_unanswerable_limit_ = 0;
  bool eval_no_judge_ = false;
  bool eval_resume_ = false;
  std::string host_ = "127.0.0.1";
  int port_ = 8080;
  std::string api_key_, api_key_file_;
  size_t max_body_mb_ = 64;
  size_t max_queue_ = 16;
  std::string question_;
  std::string session_id_;
  int last_ = 20;
};

}  // namespace ragd::cli
