// Agents: a tool-using loop over knowledge bases and tables. The model
// chooses a tool, ragd runs it and hands back the result as a tool message,
// until the model answers or a limit is hit. Built-in tools search and read
// knowledge bases, query their tables with read-only SQL and calculate;
// more come from MCP servers (agent/mcp_client) and a tools file of HTTP
// tools. The answer cites the passages the knowledge-base tools returned,
// checked like Assistant::Ask's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ragd/answer.h"
#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/status.h"
#include "ragd/trace.h"

namespace ragd {

struct ToolResult {
  std::string content;  // what the model reads (after the passages)
  // Knowledge-base passages found: the agent numbers them across the run
  // (a passage seen twice keeps its number) and shows each to the model as
  // "[n] label\ntext" before content, so the answer can cite [n].
  std::vector<SearchHit> passages;
};

// A tool the agent may call. Run gets arguments already checked against
// spec().parameters. An error goes back to the model as the tool's result
// ("error: …"), never ends the run.
class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  // deadline_seconds: how long the call may take; tools that wait on I/O or
  // queries stop by then.
  virtual Result<ToolResult> Run(const std::string& arguments, double deadline_seconds) = 0;
};

struct BuiltinToolOptions {
  std::vector<std::string> kbs;  // the knowledge bases the tools may read (at least one)
  int default_k = 4;              // search_kb's k when the model gives none
  int max_k = 5;
  // search_kb returns at least this many passages whatever k the model
  // asks for: small models write k = 1 and miss the passage ranked second.
  int min_k = 3;
  int max_table_rows = 50;        // query_table's row limit
  int read_chars = 2000;          // read_document's characters per call at most
  // Searches of search_kb: mode, filters the user set, reranking.
  SearchMode mode = SearchMode::kHybrid;
  std::vector<FilterCondition> filters;
};

// search_kb, read_document, list_kbs, calculator, and query_table when a
// knowledge base holds tables. None runs commands or reaches the network.
Result<std::vector<std::unique_ptr<Tool>>> BuiltinTools(Engine* engine, const BuiltinToolOptions& options);

struct AgentOptions {
  int max_steps = 8;             // tool calls in all
  double max_seconds = 300;      // the whole run
  double tool_seconds = 30;      // one tool call
  // A tool result longer than this many tokens is cut (0 = a quarter of
  // the model's context, at most 1024).
  int max_result_tokens = 0;
  // Plan and execute: a planner writes the steps (JSON, constrained by a
  // schema), they are run in order, a last call answers from their results.
  bool plan = false;
  double attribute_min_overlap = 0.4;  // citation check, as AskOptions
  GenerateOptions generate;            // the model calls' options (tools are the agent's)
};

struct AgentStep {
  int index = 0;                // 1-based
  std::string tool;
  std::string arguments;        // JSON object text, as the model wrote it
  std::string thought;          // text the model wrote beside the call
  std::string result;           // what went back to the model (cut to the budget)
  bool error = false;           // the tool failed or the call was invalid
  bool valid = true;            // the call parsed and matched the tool's schema
  bool truncated = false;       // the result was cut
  std::vector<int> sources;     // source numbers of the passages it returned
  double seconds = 0;
  bool by_model = true;         // false: ragd's own first search of the task
};

struct AgentResult {
  std::string task;
  std::string language;  // "en" | "zh"
  std::string answer;
  bool found = true;     // false: a refusal (the not-found sentence), or no answer
  std::vector<AgentStep> steps;
  std::vector<Source> sources;  // passages the tools returned, numbered; cited ones marked
  bool citations_corrected = false;
  std::string plan;             // plan mode: the plan as JSON
  // Why the loop ended: "answer" (the model answered), "max_steps",
  // "repeated_call", "time" (wall time; no answer), "plan_done".
  std::string stop_reason;
  std::string stop_message;     // for people, when a limit ended it
  int model_calls = 0;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double seconds = 0;
};

// Called after each step, as it happens.
using StepFn = std::function<void(const AgentStep&)>;

// Thread-compatible: one Run at a time. The model, the prompts and the
// tools' engine must outlive the agent.
class Agent {
 public:
  // trace, when given, records each tool call (kind "tool") beside the
  // model's own calls; tags says which task they served.
  Agent(ChatModel* model, const Prompts* prompts, std::vector<std::unique_ptr<Tool>> tools,
        std::shared_ptr<TraceTags> tags = nullptr, std::shared_ptr<TraceLog> trace = nullptr);
  ~Agent();
  // Adds a tool (an MCP server's, an HTTP tool). Names must stay unique.
  Status AddTool(std::unique_ptr<Tool> tool);
  std::vector<ToolSpec> specs() const;
  // One tool call without the model, checked and cut as in a run (for
  // `ragd agent --call` and tests): the step, whose error says what failed.
  Result<AgentStep> CallTool(const std::string& name, const std::string& arguments, double seconds = 30);
  Result<AgentResult> Run(const std::string& task, const AgentOptions& options, const StepFn& on_step = {},
                          const TokenFn& on_token = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragd
