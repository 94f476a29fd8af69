// The agent commands of the ragd program: agent (the tool loop), mcp (ragd
// as an MCP server on stdio) and eval agent (a task set scored per mode).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/answer_commands.h"
#include "cli/config.h"

namespace ragd::cli {

class AgentCommands {
 public:
  AgentCommands(CLI::App* app, CommonFlags* common);
  // Runs the subcommand that was parsed, if it is one of these; nullopt if not.
  std::optional<int> Run();

 private:
  int Agent();
  int Mcp();
  int EvalAgent();

  CommonFlags* common_;
  AnswerFlags f_;
  CLI::App* agent_ = nullptr;
  CLI::App* mcp_ = nullptr;
  CLI::App* eval_agent_ = nullptr;
  std::string task_;
  std::vector<std::string> kbs_;
  std::string tools_file_;
  std::vector<std::string> mcp_commands_;
  int max_steps_ = 8;
  double max_seconds_ = 300;
  double tool_seconds_ = 30;
  bool plan_ = false;
  bool list_tools_ = false;
  std::string call_tool_, call_args_ = "{}";
  // eval agent
  std::string tasks_file_;
  std::string eval_out_ = "ragd-eval-agent.jsonl";
  std::vector<std::string> eval_modes_;
  int eval_limit_ = 0;
};

}  // namespace ragd::cli
