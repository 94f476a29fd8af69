#include "cli/agent_commands.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/mcp_client.h"
#include "agent/mcp_server.h"
#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "core/status_macros.h"
#include "ragd/agent.h"

namespace ragd::cli {

namespace {

using nlohmann::json;

struct AgentSetup {
  std::unique_ptr<Run> run;
  std::unique_ptr<ragd::Agent> agent;
};

// The run (engine, model, prompts, trace), the built-in tools over kbs, and
// the tools of each MCP server started.
Result<AgentSetup> Setup(const CommonFlags& c, AnswerFlags f, const std::vector<std::string>& kbs,
                         const std::vector<std::string>& mcp_commands, const std::string& tools_file) {
  if (kbs.empty()) return Status::InvalidArgument("--kb is required (repeat it for more knowledge bases)");
  f.kb = kbs[0];  // traces go to the first knowledge base's file
  AgentSetup s;
  RAGD_ASSIGN_OR_RETURN(s.run, Prepare(c, f, KbNeed::kAlways));
  BuiltinToolOptions bo;
  bo.kbs = kbs;
  bo.mode = s.run->ask.mode;
  bo.filters = s.run->ask.filters;
  RAGD_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tool>> tools, BuiltinTools(s.run->engine.get(), bo));
  s.agent = std::make_unique<ragd::Agent>(s.run->model.get(), &s.run->prompts, std::move(tools), s.run->tags, s.run->trace);
  for (const std::string& cmd : mcp_commands) {
    RAGD_ASSIGN_OR_RETURN(std::shared_ptr<agent::McpClient> client, agent::McpClient::Start(cmd));
    std::vector<std::string> taken;
    for (const auto& spec : s.agent->specs()) taken.push_back(spec.name);
    RAGD_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tool>> more, client->Tools(taken));
    for (auto& t : more) RAGD_RETURN_IF_ERROR(s.agent->AddTool(std::move(t)));
  }
  if (!tools_file.empty()) return Status::InvalidArgument("--tools is not implemented yet");
  return s;
}

void PrintStep(const AgentStep& s) {
  std::printf("step %d  %s %s\n", s.index, s.tool.c_str(), OneLine(s.arguments, 200).c_str());
  std::string what;
  if (!s.sources.empty()) {
    for (int n : s.sources) what += (what.empty() ? "" : " ") + ("[" + std::to_string(n) + "]");
    what = "passages " + what;
  } else {
    what = OneLine(s.result, 160);
  }
  std::printf("        → %s%s (%.2f s)\n", what.c_str(), s.truncated ? " (cut to the limit)" : "", s.seconds);
  std::fflush(stdout);
}

void PrintResult(const AgentResult& r, bool quiet) {
  std::printf("\n%s\n", r.answer.c_str());
  bool any = false;
  for (const auto& s : r.sources) any = any || s.cited;
  if (any) {
    std::printf("\nSources:\n");
    for (const auto& s : r.sources)
      if (s.cited) std::printf("  [%d] %s — %s\n", s.n, SourceLabel(s.hit).c_str(), OneLine(s.hit.text, 160).c_str());
  }
  if (!r.stop_message.empty()) std::fprintf(stderr, "ragd: %s\n", r.stop_message.c_str());
  std::fflush(stdout);
  if (!quiet)
    std::fprintf(stderr, "(%zu tool calls · %d model calls · %d prompt + %d answer tokens · %.1f s)\n", r.steps.size(),
                 r.model_calls, r.prompt_tokens, r.completion_tokens, r.seconds);
}

// An answer with its cited sources, as the MCP ask tool returns it.
std::string AnswerText(const Answer& a) {
  std::string out = std::string(a.text);
  bool header = false;
  for (const auto& s : a.sources) {
    if (!s.cited) continue;
    if (!header) out += "\n\nSources:";
    header = true;
    out += "\n[" + std::to_string(s.n) + "] " + SourceLabel(s.hit) + " (id " + s.hit.doc_id + ")";
  }
  return out;
}

}  // namespace

AgentCommands::AgentCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  agent_ = app->add_subcommand("agent", "answer a task with tools: searches of knowledge bases, their tables, a calculator, MCP servers");
  agent_->add_option("task", task_, "the task or question")->required();
  agent_->add_option("--kb", kbs_, "a knowledge base the tools may read (repeatable)")->required()->allow_extra_args(false);
  agent_->add_option("--mcp", mcp_commands_, "start an MCP server over stdio and offer its tools, e.g. \"uvx mcp-server-time\" (repeatable)")->allow_extra_args(false);
  agent_->add_option("--tools", tools_file_, "a TOML or JSON file of HTTP tools");
  agent_->add_option("--max-steps", max_steps_, "tool calls at most (default 8)");
  agent_->add_option("--max-seconds", max_seconds_, "the whole run at most (default 300)");
  agent_->add_option("--tool-seconds", tool_seconds_, "one tool call at most (default 30)");
  agent_->add_flag("--plan", plan_, "plan and execute: the model writes every step first (JSON), then answers from their results");
  agent_->add_option("--mode", f_.mode, "search_kb's retrieval: bm25, dense or hybrid (default hybrid)");
  AddRetrievalFlags(agent_, &f_.filters, &f_.no_rerank, &f_.rerank_candidates);
  agent_->add_flag("--json", f_.json, "print the run as JSON (steps, answer, sources)");
  AddModelFlags(agent_, &f_);

  mcp_ = app->add_subcommand("mcp", "serve knowledge bases to MCP clients over stdio (search_kb, ask, list_kbs, read_document)");
  mcp_->add_option("--kb", kbs_, "a knowledge base to offer (repeatable)")->required()->allow_extra_args(false);
  mcp_->add_option("--mode", f_.mode, "retrieval: bm25, dense or hybrid (default hybrid)");
  AddModelFlags(mcp_, &f_);
}

std::optional<int> AgentCommands::Run() {
  if (*agent_) return Agent();
  if (*mcp_) return Mcp();
  return std::nullopt;
}

int AgentCommands::Agent() {
  auto setup = Setup(*common_, f_, kbs_, mcp_commands_, tools_file_);
  if (!setup.ok()) return Fail(setup.status());
  AgentOptions o;
  o.max_steps = max_steps_;
  o.max_seconds = max_seconds_;
  o.tool_seconds = tool_seconds_;
  o.plan = plan_;
  o.generate = setup->run->ask.generate;
  o.attribute_min_overlap = setup->run->ask.attribute_min_overlap;
  auto r = setup->agent->Run(task_, o, f_.json ? StepFn() : StepFn(PrintStep));
  WarnTrace(*setup->run);
  if (!r.ok()) return Fail(r.status());
  if (f_.json) std::cout << api::AgentResultJson(*r).dump(2) << "\n";
  else PrintResult(*r, common_->quiet);
  return 0;
}

int AgentCommands::Mcp() {
  if (kbs_.empty()) return Fail(Status::InvalidArgument("--kb is required"));
  AnswerFlags f = f_;
  f.kb = kbs_[0];
  auto prepared = Prepare(*common_, f, KbNeed::kAlways);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  Assistant assistant(run.engine.get(), run.model.get(), &run.prompts, run.tags);
  auto ask = [&](const std::string& kb, const std::string& question) -> Result<std::string> {
    AskOptions a = run.ask;
    a.kb = kb;
    RAGD_ASSIGN_OR_RETURN(Answer answer, assistant.Ask(question, a));
    return AnswerText(answer);
  };
  auto server = agent::McpServer::Create(run.engine.get(), kbs_, ask);
  if (!server.ok()) return Fail(server.status());
  // stdout carries only JSON-RPC, one message per line; people read stderr.
  if (!common_->quiet) std::fprintf(stderr, "ragd: MCP server on stdio for %s\n", json(kbs_).dump().c_str());
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty() || line == "\r") continue;
    std::string reply = (*server)->Handle(line);
    if (!reply.empty()) {
      std::fwrite(reply.data(), 1, reply.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
  }
  WarnTrace(run);
  return 0;
}

}  // namespace ragd::cli
