// Agent evaluation: a task set (JSONL) answered by plain ask, the agent
// loop and plan-and-execute, each answer checked by the task's checker.
//
// A task: {"id", "kind", "question", "check"} where check is one of
//   {"type": "number", "value": 2400, "tolerance": 0.01}  a number in the
//       answer within tolerance (or 0.5% of value): "2,400", "2400 yuan",
//       "1.5万" (15000) all count;
//   {"type": "contains", "all": [["1200", "1 200"], ["16"]]}  every group
//       has one alternative in the answer (case and thousands separators
//       ignored);
//   {"type": "refusal"}  the answer is a refusal (not found).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ragd/status.h"

namespace ragd {

struct AgentTask {
  std::string id;
  std::string kind;  // "two_lookup" | "arithmetic" | "table" | "refusal" | any
  std::string question;
  std::string check_json;
};

// Reads tasks.jsonl; a line that is not a task is InvalidArgument naming it.
Result<std::vector<AgentTask>> ReadAgentTasks(const std::string& path);

struct TaskVerdict {
  bool pass = false;
  std::string why;  // what was expected, when it failed
};

// The task's checker over an answer (found = false: it is a refusal).
TaskVerdict CheckAgentTask(const AgentTask& task, const std::string& answer, bool found);

// Numbers written in text: "2,400" 2400, "1.5%" 1.5, "5万" 50000 and 5.
std::vector<double> NumbersIn(const std::string& text);

// One task's outcome in one mode.
struct AgentTaskRecord {
  std::string id;
  std::string kind;
  std::string mode;   // "ask" | "agent" | "plan"
  std::string model;
  std::string question;
  std::string answer;
  bool found = true;
  bool pass = false;
  std::string why;
  int steps = 0;
  int tool_calls = 0;
  int valid_tool_calls = 0;  // parsed and matched their tool's schema
  int tokens = 0;            // prompt + completion, every model call
  double seconds = 0;
  std::string error;         // the run failed (counted as a failure)
};

struct AgentModeSummary {
  std::string mode;
  std::string model;
  int tasks = 0;
  double success = 0;                      // share passed
  std::map<std::string, double> by_kind;   // share passed per kind
  double mean_steps = 0;
  double valid_call_share = 0;             // of all tool calls (0 when none)
  double tokens_per_task = 0;
  double seconds_per_task = 0;
  int errors = 0;
};

// Summaries per (mode, model), in order of first appearance.
std::vector<AgentModeSummary> SummarizeAgentEval(const std::vector<AgentTaskRecord>& records);

}  // namespace ragd
