#include "cli/agent_commands.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/http_tools.h"
#include "agent/mcp_client.h"
#include "agent/mcp_server.h"
#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "core/status_macros.h"
#include "ragd/agent.h"
#include "ragd/agent_eval.h"

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
                         const std::vector<std::string>& mcp_commands, const std::string& tools_file,
                         bool open_model = true) {
  if (kbs.empty()) return Status::InvalidArgument("--kb is required (repeat it for more knowledge bases)");
  f.kb = kbs[0];  // traces go to the first knowledge base's file
  AgentSetup s;
  RAGD_ASSIGN_OR_RETURN(s.run, Prepare(c, f, KbNeed::kAlways, open_model));
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
  if (!tools_file.empty()) {
    RAGD_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tool>> http_tools, agent::LoadHttpTools(tools_file));
    for (auto& t : http_tools) RAGD_RETURN_IF_ERROR(s.agent->AddTool(std::move(t)));
  }
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

json TaskRecordJson(const AgentTaskRecord& r) {
  return {{"id", r.id},       {"kind", r.kind},         {"mode", r.mode},
          {"model", r.model}, {"question", r.question}, {"answer", r.answer},
          {"found", r.found}, {"pass", r.pass},         {"why", r.why},
          {"steps", r.steps}, {"tool_calls", r.tool_calls}, {"valid_tool_calls", r.valid_tool_calls},
          {"tokens", r.tokens}, {"seconds", r.seconds}, {"error", r.error}};
}

AgentTaskRecord TaskRecordFromJson(const json& j) {
  AgentTaskRecord r;
  r.id = j.value("id", std::string());
  r.kind = j.value("kind", std::string());
  r.mode = j.value("mode", std::string());
  r.model = j.value("model", std::string());
  r.question = j.value("question", std::string());
  r.answer = j.value("answer", std::string());
  r.found = j.value("found", true);
  r.pass = j.value("pass", false);
  r.why = j.value("why", std::string());
  r.steps = j.value("steps", 0);
  r.tool_calls = j.value("tool_calls", 0);
  r.valid_tool_calls = j.value("valid_tool_calls", 0);
  r.tokens = j.value("tokens", 0);
  r.seconds = j.value("seconds", 0.0);
  r.error = j.value("error", std::string());
  return r;
}


}  // namespace

AgentCommands::AgentCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  agent_ = app->add_subcommand("agent", "answer a task with tools: searches of knowledge bases, their tables, a calculator, MCP servers");
  agent_->add_option("task", task_, "the task or question");
  agent_->add_flag("--list-tools", list_tools_, "list the tools the agent would have (built-in, --mcp, --tools) and exit");
  agent_->add_option("--call", call_tool_, "run one tool with --args, without the model, and print its result");
  agent_->add_option("--args", call_args_, "--call's arguments, a JSON object (default {})");
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

  if (CLI::App* eval = app->get_subcommand("eval")) {
    eval_agent_ = eval->add_subcommand("agent", "run a task set (JSONL) with ask, the agent loop and plan-and-execute; score each answer");
    eval_agent_->add_option("tasks", tasks_file_, "tasks.jsonl (see eval/agent-tasks)")->required();
    eval_agent_->add_option("--kb", kbs_, "knowledge base the tasks are about (repeatable)")->required()->allow_extra_args(false);
    eval_agent_->add_option("--modes", eval_modes_, "ask, agent, plan (default all three)")->delimiter(',');
    eval_agent_->add_option("--limit", eval_limit_, "only the first N tasks (default all)");
    eval_agent_->add_option("--out", eval_out_, "per-task JSONL, appended to (default ragd-eval-agent.jsonl)");
    eval_agent_->add_option("--max-steps", max_steps_, "tool calls per task at most (default 8)");
    eval_agent_->add_option("--max-seconds", max_seconds_, "seconds per task at most (default 300)");
    eval_agent_->add_flag("--json", f_.json, "print the summary as JSON");
    AddModelFlags(eval_agent_, &f_);
  }
}

std::optional<int> AgentCommands::Run() {
  if (*agent_) return Agent();
  if (*mcp_) return Mcp();
  if (eval_agent_ && *eval_agent_) return EvalAgent();
  return std::nullopt;
}

int AgentCommands::Agent() {
  const bool no_model = list_tools_ || !call_tool_.empty();
  if (!no_model && task_.empty()) return Fail(Status::InvalidArgument("give a task (or --list-tools, or --call TOOL)"));
  auto setup = Setup(*common_, f_, kbs_, mcp_commands_, tools_file_, !no_model);
  if (!setup.ok()) return Fail(setup.status());
  if (list_tools_) {
    json tools = json::array();
    for (const ToolSpec& t : setup->agent->specs())
      tools.push_back({{"name", t.name}, {"description", t.description}, {"parameters", json::parse(t.parameters, nullptr, false)}});
    if (f_.json) {
      std::cout << tools.dump(2) << "\n";
    } else {
      for (const auto& t : tools) std::printf("%-16s %s\n", t["name"].get<std::string>().c_str(), OneLine(t["description"].get<std::string>(), 120).c_str());
    }
    return 0;
  }
  if (!call_tool_.empty()) {
    auto step = setup->agent->CallTool(call_tool_, call_args_, tool_seconds_);
    if (!step.ok()) return Fail(step.status());
    if (f_.json) std::cout << api::AgentStepJson(*step).dump(2) << "\n";
    else std::printf("%s\n", step->result.c_str());
    return step->error ? 1 : 0;
  }
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
    return api::AnswerText(answer);
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

int AgentCommands::EvalAgent() {
  auto tasks = ReadAgentTasks(tasks_file_);
  if (!tasks.ok()) return Fail(tasks.status());
  if (eval_limit_ > 0 && static_cast<size_t>(eval_limit_) < tasks->size()) tasks->resize(eval_limit_);
  std::vector<std::string> modes = eval_modes_.empty() ? std::vector<std::string>{"ask", "agent", "plan"} : eval_modes_;
  for (const auto& m : modes)
    if (m != "ask" && m != "agent" && m != "plan")
      return Fail(Status::InvalidArgument("--modes: '" + m + "' is not ask, agent or plan"));
  auto setup = Setup(*common_, f_, kbs_, {}, "");
  if (!setup.ok()) return Fail(setup.status());
  cli::Run& run = *setup->run;
  const std::string model = run.model->model();
  // Records already in --out (an earlier, stopped run) are kept, not redone.
  std::set<std::string> done;
  std::vector<AgentTaskRecord> records = ReadEarlierRecords<AgentTaskRecord>(
      eval_out_, TaskRecordFromJson, [](const AgentTaskRecord& r) { return r.mode + "\t" + r.model + "\t" + r.id; },
      &done);
  std::ofstream out(eval_out_, std::ios::app);
  if (!out) return Fail(Status::IOError("cannot write " + eval_out_));
  Assistant assistant(run.engine.get(), run.model.get(), &run.prompts, run.tags);
  AgentOptions o;
  o.max_steps = max_steps_;
  o.max_seconds = max_seconds_;
  o.tool_seconds = tool_seconds_;
  o.generate = run.ask.generate;
  o.attribute_min_overlap = run.ask.attribute_min_overlap;
  size_t n = 0, total = modes.size() * tasks->size();
  for (const std::string& mode : modes) {
    for (const AgentTask& t : *tasks) {
      ++n;
      if (done.count(mode + "\t" + model + "\t" + t.id)) continue;
      AgentTaskRecord r{t.id, t.kind, mode, model, t.question};
      if (mode == "ask") {
        AskOptions a = run.ask;
        a.kb = kbs_[0];
        auto answer = assistant.Ask(t.question, a);
        if (!answer.ok()) {
          r.error = answer.status().ToString();
        } else {
          r.answer = answer->text;
          r.found = answer->found;
          r.tokens = answer->generation.prompt_tokens + answer->generation.completion_tokens;
          r.seconds = answer->retrieval_seconds + answer->prompt_seconds + answer->generation_seconds;
        }
      } else {
        o.plan = mode == "plan";
        auto result = setup->agent->Run(t.question, o);
        if (!result.ok()) {
          r.error = result.status().ToString();
        } else {
          r.answer = result->answer;
          r.found = result->found;
          r.steps = static_cast<int>(result->steps.size());
          for (const auto& s : result->steps) {
            if ((s.tool.empty() && s.valid) || !s.by_model) continue;  // not run, or ragd's own search
            ++r.tool_calls;
            r.valid_tool_calls += s.valid;
          }
          r.tokens = result->prompt_tokens + result->completion_tokens;
          r.seconds = result->seconds;
        }
      }
      if (r.error.empty()) {
        TaskVerdict v = CheckAgentTask(t, r.answer, r.found);
        r.pass = v.pass;
        r.why = v.why;
      } else {
        r.why = "the run failed";
      }
      out << TaskRecordJson(r).dump() << "\n";
      out.flush();
      if (!common_->quiet)
        std::fprintf(stderr, "[%zu/%zu] %s %s: %s (%.1f s)\n", n, total, mode.c_str(), t.id.c_str(),
                     r.pass ? "pass" : ("FAIL, " + r.why).c_str(), r.seconds);
      records.push_back(std::move(r));
    }
  }
  std::vector<AgentModeSummary> summary = SummarizeAgentEval(records);
  if (f_.json) {
    json j = json::array();
    for (const auto& s : summary)
      j.push_back({{"mode", s.mode}, {"model", s.model}, {"tasks", s.tasks}, {"success", s.success},
                   {"by_kind", s.by_kind}, {"mean_steps", s.mean_steps}, {"valid_call_share", s.valid_call_share},
                   {"tokens_per_task", s.tokens_per_task}, {"seconds_per_task", s.seconds_per_task}, {"errors", s.errors}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%-6s %-36s %5s %8s %10s %11s %9s %9s\n", "mode", "model", "tasks", "success", "mean steps",
                "valid calls", "tokens", "seconds");
    for (const auto& s : summary)
      std::printf("%-6s %-36s %5d %8.3f %10.2f %11.3f %9.0f %9.1f\n", s.mode.c_str(), s.model.c_str(), s.tasks,
                  s.success, s.mean_steps, s.valid_call_share, s.tokens_per_task, s.seconds_per_task);
    for (const auto& s : summary) {
      std::printf("%s/%s by kind:", s.mode.c_str(), s.model.c_str());
      for (const auto& [k, v] : s.by_kind) std::printf(" %s %.2f", k.c_str(), v);
      std::printf("\n");
    }
  }
  WarnTrace(run);
  return 0;
}

}  // namespace ragd::cli
