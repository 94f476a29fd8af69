// The agent loop: the model picks a tool, ragd checks the call against the
// tool's schema, runs it and returns the result as a tool message, until
// the model answers or a limit ends it. Plan and execute (--plan) has the
// model write every step first, as JSON constrained by a schema.
#include "ragd/agent.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/schema_check.h"
#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "rag/context.h"

namespace ragd {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string Short(std::string_view s, size_t n) {
  std::string one(s);
  for (char& c : one)
    if (c == '\n') c = ' ';
  if (one.size() <= n) return one;
  return std::string(text::TruncateUtf8(one, n)) + "…";
}

// A model call that failed because the model's tool call does not parse
// (the backends' message for it), as opposed to a backend that failed.
bool IsBrokenCall(const Status& st) {
  return st.code() == StatusCode::kUnavailable &&
         (st.message().find("with arguments that are not a JSON object") != std::string::npos ||
          st.message().find("sent a tool call without a function name") != std::string::npos);
}

// Text that is a tool call's JSON (or its markup) rather than an answer.
bool LooksLikeCall(std::string_view text) {
  std::string_view t = text::Trim(text);
  if (t.starts_with("```json") || t.starts_with("```")) t = text::Trim(t.substr(t.find_first_of('\n') == std::string_view::npos ? t.size() : t.find_first_of('\n')));
  if (t.starts_with("<tool_call>")) return true;
  if (!t.starts_with('{')) return false;
  std::string_view head = t.substr(0, 40);
  return head.find("\"name\"") != std::string_view::npos;
}

}  // namespace

struct Agent::Impl {
  ChatModel* model;
  const Prompts* prompts;
  std::vector<std::unique_ptr<Tool>> tools;
  std::shared_ptr<TraceTags> tags;
  std::shared_ptr<TraceLog> trace;

  // One run's state.
  struct RunState {
    const AgentOptions* o = nullptr;
    AgentResult* r = nullptr;
    Clock::time_point t0;
    int result_tokens = 1024;
    std::map<std::string, int> source_of;  // passage key -> source number
  };

  Tool* Find(const std::string& name) {
    for (auto& t : tools)
      if (t->spec().name == name) return t.get();
    return nullptr;
  }

  std::string ToolNames() const {
    std::string names;
    for (const auto& t : tools) names += (names.empty() ? "" : ", ") + t->spec().name;
    return names;
  }

  // The passage's number across the run; a new passage becomes a source.
  int Number(RunState& s, const SearchHit& h) {
    std::string key = h.chunk_id ? h.doc_id + "#" + std::to_string(h.chunk_id) : h.doc_id + "|" + h.text;
    auto it = s.source_of.find(key);
    if (it != s.source_of.end()) return it->second;
    Source src;
    src.n = static_cast<int>(s.r->sources.size()) + 1;
    src.hit = h;
    s.r->sources.push_back(std::move(src));
    s.source_of[key] = static_cast<int>(s.r->sources.size());
    return s.source_of[key];
  }

  // Cuts a result to the token budget (whole code points), saying so.
  Result<std::string> Fit(const std::string& text, bool* truncated) {
    if (!model) return FitTo(text, EstimateTokens(text), truncated);  // a call without a model (--call)
    RAGD_ASSIGN_OR_RETURN(int tokens, model->CountTokens(text));
    return FitTo(text, tokens, truncated);
  }
  int budget_ = 1024;
  std::string FitTo(const std::string& text, int tokens, bool* truncated) {
    if (tokens <= budget_) return text;
    *truncated = true;
    size_t keep = static_cast<size_t>(static_cast<double>(text.size()) * budget_ / tokens * 0.9);
    std::string cut(text::TruncateUtf8(text, keep));
    return cut + "\n[cut: the result was " + std::to_string(tokens) + " tokens, the limit is " +
           std::to_string(budget_) + "; ask for less]";
  }

  // Runs one call: checks it, runs the tool, numbers its passages, cuts the result.
  AgentStep RunCall(RunState& s, const ToolCall& call, const std::string& thought) {
    AgentStep step;
    step.index = static_cast<int>(s.r->steps.size()) + 1;
    step.tool = call.name;
    step.arguments = call.arguments;
    step.thought = thought;
    const auto t0 = Clock::now();
    auto fail = [&](const std::string& msg, bool invalid) {
      step.error = true;
      step.valid = !invalid;
      step.result = "error: " + msg;
    };
    Tool* tool = Find(call.name);
    json args = json::parse(call.arguments.empty() ? "{}" : call.arguments, nullptr, false);
    if (!tool) {
      fail("there is no tool '" + call.name + "'; the tools are " + ToolNames(), true);
    } else if (!args.is_object()) {
      fail("the arguments of " + call.name + " are not a JSON object: " + Short(call.arguments, 200), true);
    } else if (Status st = agent::CheckToolArguments(tool->spec(), args); !st.ok()) {
      fail(st.message(), true);
    } else {
      const double left = s.o->max_seconds - Since(s.t0);
      Result<ToolResult> out = tool->Run(args.dump(), std::max(0.1, std::min(s.o->tool_seconds, left)));
      if (!out.ok()) {
        fail(out.status().message(), false);
      } else {
        std::string text;
        for (const SearchHit& h : out->passages) {
          int n = Number(s, h);
          step.sources.push_back(n);
          text += "[" + std::to_string(n) + "] (" + SourceLabel(h) + ") " + h.text + "\n\n";
        }
        text += out->content;
        if (text.empty()) text = "(no output)";
        Result<std::string> fitted = Fit(text, &step.truncated);
        step.result = fitted.ok() ? *fitted : text;
      }
    }
    step.seconds = Since(t0);
    if (step.seconds > s.o->tool_seconds && !step.error) {
      step.error = true;
      step.result = "error: " + call.name + " took " + std::to_string(static_cast<int>(step.seconds)) +
                    " s, over the per-tool limit of " + std::to_string(static_cast<int>(s.o->tool_seconds)) + " s";
    }
    Trace(call, step);
    return step;
  }

  void Trace(const ToolCall& call, const AgentStep& step) {
    if (!trace) return;
    TraceRecord rec;
    rec.time = files::NowIso8601();
    rec.kind = "tool";
    rec.backend = "agent";
    rec.model = call.name;
    rec.input_json = call.arguments;
    rec.output = step.result;
    rec.latency_seconds = step.seconds;
    if (step.error) rec.error = step.result;
    if (tags) {
      rec.session = tags->session;
      rec.question = tags->question;
    }
    trace->Append(rec);
  }

  Result<ChatResult> Call(RunState& s, const std::vector<ChatMessage>& messages, const GenerateOptions& g,
                          const TokenFn& on_token, const ToolCallFn& on_tool_call = {}) {
    RAGD_ASSIGN_OR_RETURN(ChatResult c, model->Chat(messages, g, on_token, on_tool_call));
    s.r->model_calls++;
    s.r->prompt_tokens += c.prompt_tokens;
    s.r->completion_tokens += c.completion_tokens;
    return c;
  }

  // The answer's citations checked against the sources; a refusal is not found.
  Status Finish(RunState& s, std::string answer, const std::string& not_found) {
    AgentResult& r = *s.r;
    r.answer = std::string(text::Trim(answer));
    r.found = !r.answer.empty() && !IsRefusal(r.answer, not_found);
    if (r.found && s.o->attribute_min_overlap >= 0 && !r.sources.empty())
      r.answer = AttributeCitations(r.answer, r.sources, s.o->attribute_min_overlap, &r.citations_corrected);
    if (!r.found && r.answer.empty()) r.answer = not_found;
    for (int n : ExtractCitations(r.answer))
      if (n >= 1 && n <= static_cast<int>(r.sources.size())) r.sources[n - 1].cited = true;
    return Status::OK();
  }

  // The first step is ragd's own: a search of each knowledge base for the
  // task as written, as ask does. Measured: the packaged models, made to
  // call search_kb first, query one half of a two-part question and miss
  // what ask finds (docs/AGENTS.md). The model chooses from there.
  std::vector<std::pair<ToolCall, AgentStep>> FirstSearch(RunState& s, const std::string& task, const StepFn& on_step) {
    std::vector<std::pair<ToolCall, AgentStep>> out;
    Tool* search = Find("search_kb");
    if (!search) return out;
    const json params = json::parse(search->spec().parameters, nullptr, false);
    std::vector<std::string> kbs = {""};  // one knowledge base: no kb argument
    if (params.is_object() && params.contains("properties") && params["properties"].contains("kb"))
      kbs = params["properties"]["kb"].value("enum", std::vector<std::string>{""});
    for (const std::string& kb : kbs) {
      if (static_cast<int>(s.r->steps.size()) >= s.o->max_steps) break;
      json args = {{"query", task}};
      if (!kb.empty()) args["kb"] = kb;
      ToolCall call{"call_search_" + std::to_string(s.r->steps.size() + 1), "search_kb", args.dump()};
      AgentStep step = RunCall(s, call, "");
      step.by_model = false;
      s.r->steps.push_back(step);
      if (on_step) on_step(step);
      out.emplace_back(std::move(call), std::move(step));
    }
    return out;
  }

  Result<AgentResult> Loop(RunState& s, const std::string& task, const StepFn& on_step, const TokenFn& on_token) {
    AgentResult& r = *s.r;
    const AgentOptions& o = *s.o;
    RAGD_ASSIGN_OR_RETURN(const std::string not_found, prompts->Render("not_found", r.language, {}));
    RAGD_ASSIGN_OR_RETURN(std::string system, prompts->Render("agent_system", r.language, {{"not_found", not_found}}));
    std::vector<ChatMessage> messages = {{"system", system}, {"user", task}};
    GenerateOptions g = o.generate;
    for (const auto& t : tools) g.tools.push_back(t->spec());
    g.tool_choice = "required";  // the first call: a tool, not an answer from memory
    g.parallel_tool_calls = false;  // one step at a time: each sees the last one's result
    g.stable_prefix_messages = 1;
    std::set<std::string> seen_calls;
    if (auto first = FirstSearch(s, task, on_step); !first.empty()) {
      ChatMessage assistant{"assistant", ""};
      for (const auto& [call, step] : first) {
        assistant.tool_calls.push_back(call);
        seen_calls.insert(call.name + " " + json::parse(call.arguments).dump());
      }
      messages.push_back(assistant);
      for (const auto& [call, step] : first) {
        ChatMessage tool_msg{"tool", step.result};
        tool_msg.tool_call_id = call.id;
        tool_msg.name = call.name;
        messages.push_back(std::move(tool_msg));
      }
      g.tool_choice = "auto";
    }
    std::string why;  // set when a limit ends the loop
    while (why.empty()) {
      if (Since(s.t0) > o.max_seconds) {
        r.stop_reason = "time";
        r.stop_message = "stopped: the run took longer than " + std::to_string(static_cast<int>(o.max_seconds)) +
                         " s (--max-seconds) before the model answered";
        r.found = false;
        r.answer = not_found;
        return std::move(r);
      }
      // Without parallel calls, generation stops when a second call begins.
      ToolCallFn one_call = [&](const ToolCallDelta& d) { return g.parallel_tool_calls || d.index < 1; };
      Result<ChatResult> called = Call(s, messages, g, {}, one_call);
      // A reply that is a call the backend could not read (JSON without its
      // markup, cut or malformed) is a broken call, not an answer.
      if (called.ok() && called->tool_calls.empty() && LooksLikeCall(called->text))
        called = Status::Unavailable("the model called a tool with arguments that are not a JSON object: '" +
                                     Short(called->text, 200) + "'");
      if (!called.ok() && IsBrokenCall(called.status()) && static_cast<int>(r.steps.size()) < o.max_steps) {
        // The model wrote a call that does not parse: a failed step it is
        // told about, so the next call (a different prompt) can do better.
        AgentStep step;
        step.index = static_cast<int>(r.steps.size()) + 1;
        step.error = true;
        step.valid = false;
        step.result = "error: " + called.status().message();
        r.steps.push_back(step);
        if (on_step) on_step(step);
        messages.push_back({"user", "Your last tool call was not valid JSON (" + called.status().message() +
                                        "). Call the tool again with a JSON object of arguments, or answer."});
        continue;
      }
      if (!called.ok()) return called.status();
      ChatResult c = std::move(called).value();
      if (c.tool_calls.empty()) {
        r.stop_reason = "answer";
        RAGD_RETURN_IF_ERROR(Finish(s, c.text, not_found));
        return std::move(r);
      }
      g.tool_choice = "auto";
      // One call per step: a small model given a forced call may write the
      // same call over and over in one reply; the rest would not see the
      // first one's result anyway.
      if (!g.parallel_tool_calls && c.tool_calls.size() > 1) c.tool_calls.resize(1);
      ChatMessage assistant{"assistant", c.text};
      assistant.tool_calls = c.tool_calls;
      messages.push_back(assistant);
      for (const ToolCall& call : c.tool_calls) {
        json args = json::parse(call.arguments.empty() ? "{}" : call.arguments, nullptr, false);
        std::string key = call.name + " " + (args.is_discarded() ? call.arguments : args.dump());
        AgentStep step;
        if (!why.empty()) {
          step.result = "error: not run (" + why + ")";
        } else if (static_cast<int>(r.steps.size()) >= o.max_steps) {
          why = "the limit of " + std::to_string(o.max_steps) + " tool calls (--max-steps) was reached";
          r.stop_reason = "max_steps";
          step.result = "error: not run (" + why + ")";
        } else if (!seen_calls.insert(key).second) {
          why = "the model repeated the call " + Short(key, 160);
          r.stop_reason = "repeated_call";
          step.result = "error: not run (" + why + "); its result is above";
        } else {
          step = RunCall(s, call, c.text);
          r.steps.push_back(step);
          if (on_step) on_step(step);
        }
        ChatMessage tool_msg{"tool", step.result};
        tool_msg.tool_call_id = call.id;
        tool_msg.name = call.name;
        messages.push_back(std::move(tool_msg));
      }
    }
    // A limit ended the loop: one last call, without tools, answers from what was found.
    r.stop_message = "stopped: " + why + "; answered from the results so far";
    RAGD_ASSIGN_OR_RETURN(std::string final_note,
                          prompts->Render("agent_final", r.language, {{"why", why}, {"not_found", not_found}}));
    messages.push_back({"user", final_note});
    GenerateOptions last = o.generate;
    last.tools = g.tools;  // the template still describes them; none may be called
    last.tool_choice = "none";
    RAGD_ASSIGN_OR_RETURN(ChatResult c, Call(s, messages, last, on_token));
    RAGD_RETURN_IF_ERROR(Finish(s, c.text, not_found));
    return std::move(r);
  }

  // Plan and execute: the plan is JSON that must follow a schema built from
  // the tools' own (each step one tool with its arguments).
  Result<AgentResult> Plan(RunState& s, const std::string& task, const StepFn& on_step, const TokenFn& on_token) {
    AgentResult& r = *s.r;
    const AgentOptions& o = *s.o;
    RAGD_ASSIGN_OR_RETURN(const std::string not_found, prompts->Render("not_found", r.language, {}));
    json alternatives = json::array();
    std::string described;
    for (const auto& t : tools) {
      json params = json::parse(t->spec().parameters.empty() ? "{}" : t->spec().parameters, nullptr, false);
      if (!params.is_object()) params = {{"type", "object"}};
      alternatives.push_back({{"type", "object"},
                              {"properties", {{"tool", {{"const", t->spec().name}}}, {"arguments", params}}},
                              {"required", {"tool", "arguments"}}});
      described += "- " + t->spec().name + ": " + t->spec().description + "\n  arguments: " + params.dump() + "\n";
    }
    json schema = {{"type", "object"},
                   {"properties",
                    {{"steps", {{"type", "array"}, {"minItems", 1}, {"maxItems", o.max_steps}, {"items", {{"anyOf", alternatives}}}}}}},
                   {"required", {"steps"}}};
    RAGD_ASSIGN_OR_RETURN(std::string system, prompts->Render("agent_plan", r.language, {{"tools", described}}));
    GenerateOptions g = o.generate;
    g.json_schema = schema.dump();
    RAGD_ASSIGN_OR_RETURN(ChatResult planned, Call(s, {{"system", system}, {"user", task}}, g, {}));
    json plan = json::parse(planned.text, nullptr, false);
    if (!plan.is_object() || !plan.contains("steps") || !plan["steps"].is_array())
      return Status::InvalidArgument("the planner's output is not a plan (" + Short(planned.text, 200) +
                                     "); the model does not follow JSON schemas, try the plain loop (without --plan)");
    r.plan = plan.dump();
    std::string results;
    for (const auto& [call, step] : FirstSearch(s, task, on_step))
      results += "Step " + std::to_string(step.index) + ": " + call.name + " " + call.arguments + "\n" + step.result + "\n\n";
    int index = 0;
    for (const json& st : plan["steps"]) {
      if (Since(s.t0) > o.max_seconds) {
        r.stop_reason = "time";
        r.stop_message = "stopped: the run took longer than " + std::to_string(static_cast<int>(o.max_seconds)) + " s";
        r.found = false;
        r.answer = not_found;
        return std::move(r);
      }
      if (static_cast<int>(r.steps.size()) >= o.max_steps) break;
      ToolCall call{"plan-" + std::to_string(++index), st.value("tool", std::string()),
                    st.contains("arguments") ? st["arguments"].dump() : "{}"};
      AgentStep step = RunCall(s, call, "");
      r.steps.push_back(step);
      if (on_step) on_step(step);
      results += "Step " + std::to_string(step.index) + ": " + call.name + " " + call.arguments + "\n" + step.result + "\n\n";
    }
    r.stop_reason = "plan_done";
    {
      // Every step's result goes to one call: cut the whole to what the
      // context leaves (a plan of several long results overflowed it).
      const int room = (model ? model->context_tokens() : 4096) - std::max(256, o.generate.max_tokens) - 512;
      const int saved = budget_;
      budget_ = std::max(256, room);
      bool cut = false;
      Result<std::string> fitted = Fit(results, &cut);
      budget_ = saved;
      if (fitted.ok()) results = *fitted;
    }
    RAGD_ASSIGN_OR_RETURN(std::string system2, prompts->Render("agent_system", r.language, {{"not_found", not_found}}));
    RAGD_ASSIGN_OR_RETURN(std::string user, prompts->Render("agent_answer", r.language,
                                                            {{"results", results}, {"question", task}, {"not_found", not_found}}));
    RAGD_ASSIGN_OR_RETURN(ChatResult c, Call(s, {{"system", system2}, {"user", user}}, o.generate, on_token));
    RAGD_RETURN_IF_ERROR(Finish(s, c.text, not_found));
    return std::move(r);
  }
};

Agent::Agent(ChatModel* model, const Prompts* prompts, std::vector<std::unique_ptr<Tool>> tools,
             std::shared_ptr<TraceTags> tags, std::shared_ptr<TraceLog> trace)
    : impl_(new Impl{model, prompts, std::move(tools), std::move(tags), std::move(trace)}) {}

Agent::~Agent() = default;

Status Agent::AddTool(std::unique_ptr<Tool> tool) {
  if (impl_->Find(tool->spec().name))
    return Status::AlreadyExists("two tools are named '" + tool->spec().name + "'; tool names must be unique");
  impl_->tools.push_back(std::move(tool));
  return Status::OK();
}

std::vector<ToolSpec> Agent::specs() const {
  std::vector<ToolSpec> out;
  for (const auto& t : impl_->tools) out.push_back(t->spec());
  return out;
}

Result<AgentStep> Agent::CallTool(const std::string& name, const std::string& arguments, double seconds) {
  AgentResult r;
  AgentOptions o;
  o.tool_seconds = seconds;
  Impl::RunState s;
  s.o = &o;
  s.r = &r;
  s.t0 = std::chrono::steady_clock::now();
  impl_->budget_ = 1 << 20;
  return impl_->RunCall(s, ToolCall{"call-1", name, arguments}, "");
}

Result<AgentResult> Agent::Run(const std::string& task, const AgentOptions& options, const StepFn& on_step,
                               const TokenFn& on_token) {
  if (std::string_view(text::Trim(task)).empty()) return Status::InvalidArgument("the task is empty");
  if (options.max_steps < 1) return Status::InvalidArgument("--max-steps must be at least 1");
  if (options.max_seconds <= 0 || options.tool_seconds <= 0) return Status::InvalidArgument("time limits must be positive");
  if (impl_->tools.empty()) return Status::InvalidArgument("the agent has no tools");
  AgentResult r;
  r.task = task;
  r.language = DetectLanguage(task);
  Impl::RunState s;
  s.o = &options;
  s.r = &r;
  s.t0 = Clock::now();
  impl_->budget_ = options.max_result_tokens > 0 ? options.max_result_tokens
                                                  : std::min(1024, std::max(128, impl_->model->context_tokens() / 4));
  if (impl_->tags) impl_->tags->question = task;
  Result<AgentResult> out = options.plan ? impl_->Plan(s, task, on_step, on_token) : impl_->Loop(s, task, on_step, on_token);
  if (out.ok()) out->seconds = Since(s.t0);
  return out;
}

}  // namespace ragd
