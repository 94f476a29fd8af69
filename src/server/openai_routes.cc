// The OpenAI-compatible routes (docs/API.md): /v1/models, /v1/embeddings
// and /v1/chat/completions, whole and streamed, with tools and
// response_format for the chat model and cited answers for kb:<name>.
// Model work goes through the inference queue, one job at a time.
#include <atomic>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

#include "api/fields.h"
#include "api/json_forms.h"
#include "core/text.h"
#include "server/http.h"
#include "ragd/agent.h"
#include "server/server_impl.h"

namespace ragd::server {
namespace {

using json = nlohmann::json;

// One message of a chat-completions request, checked: roles system, user,
// assistant (with optional tool_calls) and tool (with tool_call_id);
// content a string, null beside tool calls, or an array of text parts.
HttpError ReadMessage(const json& m, ChatMessage* out) {
  if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
    return {422, "each message needs a string 'role' and a string 'content'"};
  out->role = m["role"];
  if (out->role != "system" && out->role != "user" && out->role != "assistant" && out->role != "tool")
    return {422, "message role '" + out->role + "' is not system, user, assistant or tool"};
  auto c = m.find("content");
  if (c != m.end() && c->is_string()) {
    out->content = c->get<std::string>();
  } else if (c != m.end() && c->is_array()) {
    for (const auto& part : *c) {
      if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
        return {422, "content parts must be {\"type\": \"text\", \"text\": …}; other parts are not supported"};
      out->content += part["text"].get<std::string>();
    }
  } else if (!(out->role == "assistant" && (c == m.end() || c->is_null()) && m.contains("tool_calls"))) {
    return {422, "each message needs a string 'role' and a string 'content'"};
  }
  if (text::FindInvalidUtf8(out->content) != std::string::npos) return {400, "a message is not valid UTF-8"};
  if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
    if (out->role != "assistant" || !calls->is_array()) return {422, "'tool_calls' must be an array on an assistant message"};
    for (const auto& tc : *calls) {
      const json* f = tc.is_object() && tc.contains("function") && tc["function"].is_object() ? &tc["function"] : nullptr;
      if (!f || !f->contains("name") || !(*f)["name"].is_string())
        return {422, "each tool call needs a 'function' with a string 'name'"};
      ToolCall call;
      call.id = tc.contains("id") && tc["id"].is_string() ? tc["id"].get<std::string>() : "";
      call.name = (*f)["name"];
      if (f->contains("arguments") && (*f)["arguments"].is_string()) call.arguments = (*f)["arguments"];
      else if (f->contains("arguments") && (*f)["arguments"].is_object()) call.arguments = (*f)["arguments"].dump();
      out->tool_calls.push_back(std::move(call));
    }
  }
  if (out->role == "tool") {
    if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string())
      return {422, "a tool message needs the 'tool_call_id' of the call it answers"};
    out->tool_call_id = m["tool_call_id"];
    if (m.contains("name") && m["name"].is_string()) out->name = m["name"];
  }
  return {0, ""};
}

// tools, tool_choice and parallel_tool_calls of a request, in OpenAI's
// shapes, into g; a malformed one is a 400 naming the field.
HttpError ReadTools(const json& body, GenerateOptions* g) {
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return {400, "'tools' must be an array of {\"type\": \"function\", \"function\": {…}}"};
    for (const auto& x : *t) {
      if (!x.is_object() || x.value("type", "function") != "function" || !x.contains("function") ||
          !x["function"].is_object())
        return {400, "each tool must be {\"type\": \"function\", \"function\": {\"name\": …, \"parameters\": …}}"};
      const json& f = x["function"];
      if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty())
        return {400, "each tool's function needs a non-empty string 'name'"};
      ToolSpec spec;
      spec.name = f["name"];
      if (f.contains("description") && f["description"].is_string()) spec.description = f["description"];
      if (f.contains("parameters") && !f["parameters"].is_null()) {
        if (!f["parameters"].is_object())
          return {400, "the 'parameters' of tool '" + spec.name + "' must be a JSON Schema object"};
        spec.parameters = f["parameters"].dump();
      }
      g->tools.push_back(std::move(spec));
    }
  }
  if (auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (c->is_string()) g->tool_choice = c->get<std::string>();
    else if (c->is_object() && c->contains("function") && (*c)["function"].is_object() &&
             (*c)["function"].contains("name") && (*c)["function"]["name"].is_string())
      g->tool_choice = (*c)["function"]["name"];
    else return {400, "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}"};
  }
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) return {400, "'parallel_tool_calls' must be a boolean"};
    g->parallel_tool_calls = p->get<bool>();
  }
  if (Status st = CheckTools(*g); !st.ok()) return {400, st.message()};
  return {0, ""};
}

std::string CompletionId() {
  static std::atomic<uint64_t> n{0};
  return "chatcmpl-ragd-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
         std::to_string(++n);
}

// response_format: text, json_object, or json_schema whose schema can
// become a grammar; anything else is a 400.
HttpError ReadResponseFormat(const json& body, GenerateOptions* g) {
  auto rf = body.find("response_format");
  if (rf == body.end() || rf->is_null()) return {};
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
    return {400, "'response_format' must be an object with a 'type' (text, json_object or json_schema)"};
  std::string type = (*rf)["type"];
  if (type == "json_object") {
    g->json_object = true;
  } else if (type == "json_schema") {
    auto js = rf->find("json_schema");
    if (js == rf->end() || !js->is_object() || !js->contains("schema") || !(*js)["schema"].is_object())
      return {400, "'response_format.json_schema.schema' must be a JSON Schema object"};
    g->json_schema = (*js)["schema"].dump();
    if (Status st = CheckOutputSchema(g->json_schema); !st.ok()) return {400, st.message()};
  } else if (type != "text") {
    return {400, "response_format type '" + type + "' is not text, json_object or json_schema"};
  }
  return {};
}

// A chat-completions request, read and checked.
struct ChatRequest {
  std::string model;  // as asked ("" = the chat model)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  GenerateOptions generate;
  std::vector<ChatMessage> messages;
};

HttpError ReadChatRequest(const json& body, ChatRequest* r) {
  GenerateOptions& g = r->generate;
  for (Status st : {api::ReadField(body, "model", &r->model, "a string"), api::ReadField(body, "stream", &r->stream, "a boolean"),
                    api::ReadField(body, "temperature", &g.temperature, "a number"),
                    api::ReadField(body, "top_p", &g.top_p, "a number"),
                    api::ReadField(body, "max_tokens", &g.max_tokens, "an integer"),
                    api::ReadField(body, "seed", &g.seed, "an integer")})
    if (!st.ok()) return {422, st.message()};
  if (auto s = body.find("stop"); s != body.end() && !s->is_null()) {
    if (s->is_string()) g.stop = {s->get<std::string>()};
    else if (s->is_array() && std::all_of(s->begin(), s->end(), [](const json& x) { return x.is_string(); }))
      g.stop = s->get<std::vector<std::string>>();
    else return {422, "'stop' must be a string or an array of strings"};
  }
  if (HttpError e = ReadResponseFormat(body, &g); e.status) return e;
  if (HttpError e = ReadTools(body, &g); e.status) return e;
  r->include_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                     body["stream_options"].value("include_usage", false);
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array() || msgs->empty()) return {422, "'messages' must be a non-empty array"};
  for (const auto& m : *msgs) {
    ChatMessage cm;
    if (HttpError e = ReadMessage(m, &cm); e.status) return e;
    r->messages.push_back(std::move(cm));
  }
  const std::string& last_role = r->messages.back().role;
  if (last_role != "user" && last_role != "tool") return {422, "the last message must be the user's (or a tool result)"};
  return {};
}

// The assistant message of a whole (not streamed) completion.
json MessageJson(const Answer& a) {
  json message = {{"role", "assistant"}, {"content", std::string(text::Trim(a.text))}};
  if (!a.generation.tool_calls.empty()) {
    json calls = json::array();
    for (const auto& c : a.generation.tool_calls)
      calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    message["tool_calls"] = calls;
    if (message["content"] == "") message["content"] = nullptr;
  }
  return message;
}

std::string FinishReason(const Answer& a) {
  return a.generation.finish_reason.empty() ? "stop" : a.generation.finish_reason;
}

// kb:<name> answers carry, beside OpenAI's fields, what `ragd ask --json`
// prints of an answer (api::AnswerJson): its checked text, found, refusal
// and sources.
void AddAnswerFields(const Answer& a, json* choice_or_chunk) { choice_or_chunk->update(api::AnswerJson(a)); }

}  // namespace

void Server::Impl::RegisterOpenAiRoutes() {
  Route("GET", "/v1/models", "/v1/models", &Impl::ListModels);
  Route("POST", "/v1/embeddings", "/v1/embeddings", &Impl::Embeddings);
  Route("POST", "/v1/chat/completions", "/v1/chat/completions", &Impl::ChatCompletions);
}

void Server::Impl::ListModels(const Req&, Res& res) {
  json data = json::array();
  data.push_back({{"id", chat_model_id}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "chat"}});
  if (auto kbs = engine->ListKnowledgeBases(); kbs.ok())
    for (const auto& kb : kbs.value()) {
      data.push_back({{"id", "kb:" + kb.name}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "knowledge_base"}});
      data.push_back({{"id", "agent:" + kb.name}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "agent"}});
    }
  if (auto e = engine->embedder(); e.ok())
    data.push_back({{"id", (*e)->model_id()}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "embedding"}});
  SendJson(res, {{"object", "list"}, {"data", data}});
}

void Server::Impl::Embeddings(const Req& req, Res& res) {
  auto body = ParseObject(req, res);
  if (!body) return;
  std::vector<std::string> inputs;
  auto in = body->find("input");
  if (in == body->end()) return SendError(res, 422, "'input' is required (a string or an array of strings)");
  if (in->is_string()) inputs.push_back(in->get<std::string>());
  else if (in->is_array() && !in->empty() && std::all_of(in->begin(), in->end(), [](const json& x) { return x.is_string(); }))
    inputs = in->get<std::vector<std::string>>();
  else return SendError(res, 422, "'input' must be a string or a non-empty array of strings");
  if (inputs.size() > 2048) return SendError(res, 413, "at most 2048 inputs per request");
  auto e = engine->embedder();
  if (!e.ok()) return SendError(res, 503, e.status().ToString());
  std::vector<float> vecs(inputs.size() * (*e)->dim());
  // Embedding is model work: it goes through the queue like generation.
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  Embedder* embedder = e.value();
  if (!queue.Submit([&, done] { done->set_value(embedder->Embed(inputs, EmbedKind::kPassage, vecs.data())); }))
    return SendError(res, 503, "the server is busy: too many model requests are waiting; retry later");
  Status st = fut.get();
  if (!st.ok()) return SendError(res, HttpStatusOf(st), st.ToString());
  json data = json::array();
  int tokens = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i},
                    {"embedding", std::vector<float>(vecs.begin() + i * embedder->dim(),
                                                     vecs.begin() + (i + 1) * embedder->dim())}});
    tokens += EstimateTokens(inputs[i]);
  }
  metrics.Tokens(tokens, 0);
  SendJson(res, {{"object", "list"}, {"data", data}, {"model", embedder->model_id()},
                 {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

Result<Answer> Server::Impl::RunAgent(const std::vector<std::string>& kbs, const std::string& task, const AskOptions& ask,
                                      ChatModel* m, std::shared_ptr<TraceTags> tags, std::shared_ptr<TraceLog> trace,
                                      std::shared_ptr<StreamChannel> channel, bool stream, std::vector<AgentStep>* steps) {
  BuiltinToolOptions bo;
  bo.kbs = kbs;
  bo.mode = ask.mode;
  bo.filters = ask.filters;
  RAGD_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tool>> tools, BuiltinTools(engine, bo));
  Agent agent(m, prompts, std::move(tools), tags, trace);
  AgentOptions o;
  o.generate = ask.generate;
  o.attribute_min_overlap = ask.attribute_min_overlap;
  // Each step as it happens: an extra delta field, which OpenAI clients ignore.
  StepFn on_step = [channel, stream, steps](const AgentStep& s) {
    steps->push_back(s);
    if (stream) channel->Push(json{{"agent_step", api::AgentStepJson(s)}});
  };
  RAGD_ASSIGN_OR_RETURN(AgentResult r, agent.Run(task, o, on_step));
  if (stream) channel->Push(json{{"content", r.answer}});
  Answer a;
  a.question = task;
  a.language = r.language;
  a.text = r.answer;
  a.found = r.found;
  a.sources = r.sources;
  a.citations_corrected = r.citations_corrected;
  a.generation.text = r.answer;
  a.generation.finish_reason = "stop";
  a.generation.prompt_tokens = r.prompt_tokens;
  a.generation.completion_tokens = r.completion_tokens;
  a.generation.seconds = r.seconds;
  return a;
}

void Server::Impl::ChatCompletions(const Req& req, Res& res) {
  auto body = ParseObject(req, res);
  if (!body) return;
  ChatRequest r;
  r.generate = options.ask.generate;
  if (HttpError e = ReadChatRequest(*body, &r); e.status) return SendError(res, e.status, e.message);
  // kb:<name> answers from a knowledge base; anything else is a direct chat.
  std::string kb;
  std::vector<std::string> agent_kbs;  // agent:<kb>[,<kb>…]: the tool loop over them
  if (r.model.starts_with("agent:")) {
    for (size_t at = 6; at <= r.model.size();) {
      size_t comma = std::min(r.model.find(',', at), r.model.size());
      if (comma > at) agent_kbs.push_back(r.model.substr(at, comma - at));
      at = comma + 1;
    }
    if (agent_kbs.empty()) return SendError(res, 400, "agent:<kb>[,<kb>...] needs at least one knowledge base");
    for (const auto& k : agent_kbs)
      if (Status st = engine->CheckKnowledgeBase(k); !st.ok()) return SendStatus(res, st);
    if (!r.generate.tools.empty() || r.messages.back().role != "user")
      return SendError(res, 400, "an agent (" + r.model + ") brings its own tools and answers the last user message; "
                                 "send tools to the chat model ('" + chat_model_id + "')");
    kb = agent_kbs[0];  // traces and answer fields as for kb:<name>
  } else if (r.model.starts_with("kb:")) {
    kb = r.model.substr(3);
    if (Status st = engine->CheckKnowledgeBase(kb); !st.ok()) return SendStatus(res, st);
    if (!r.generate.tools.empty() || r.messages.back().role != "user")
      return SendError(res, 400, "tools and tool messages are for requests to the chat model ('" + chat_model_id +
                                     "'); a knowledge base (kb:" + kb + ") answers user questions with citations");
  } else if (!r.model.empty() && r.model != chat_model_id && r.model != "default") {
    return SendError(res, 404, "model '" + r.model + "' is not served here; GET /v1/models lists '" + chat_model_id +
                                   "' and 'kb:<name>' for each knowledge base");
  }
  const std::string served = r.model.empty() ? chat_model_id : r.model;

  // The job the worker runs; pieces flow through the channel.
  auto channel = std::make_shared<StreamChannel>();
  auto result = std::make_shared<std::promise<Result<Answer>>>();
  auto answer_future = std::make_shared<std::future<Result<Answer>>>(result->get_future());
  AskOptions ask = options.ask;
  ask.kb = kb;
  ask.generate = r.generate;
  const bool stream = r.stream;
  auto steps = std::make_shared<std::vector<AgentStep>>();
  auto job = [this, channel, result, messages = r.messages, kb, ask, trace = TraceFor(kb), stream, agent_kbs, steps] {
    auto tags = std::make_shared<TraceTags>();
    std::unique_ptr<ChatModel> traced = trace ? TraceChatModel(model, trace, tags) : nullptr;
    ChatModel* m = traced ? traced.get() : model;
    TokenFn on_token = [channel, stream](std::string_view piece) {
      if (channel->cancelled) return false;  // the client went away: stop generating
      if (stream) channel->Push(json{{"content", std::string(piece)}});
      return true;
    };
    ToolCallFn on_tool_call = [channel, stream](const ToolCallDelta& d) {
      if (channel->cancelled) return false;
      if (!stream) return true;
      json call = {{"index", d.index}, {"function", {{"arguments", d.arguments}}}};
      if (!d.id.empty()) call["id"] = d.id, call["type"] = "function";
      if (!d.name.empty()) call["function"]["name"] = d.name;
      channel->Push(json{{"tool_calls", json::array({call})}});
      return true;
    };
    result->set_value([&]() -> Result<Answer> {
      if (kb.empty()) {
        RAGD_ASSIGN_OR_RETURN(ChatResult c, m->Chat(messages, ask.generate, on_token, on_tool_call));
        Answer a;
        a.text = c.text;
        a.generation = std::move(c);
        return a;
      }
      if (!agent_kbs.empty()) return RunAgent(agent_kbs, messages.back().content, ask, m, tags, trace, channel, stream, steps.get());
      Session session = SessionFromMessages(messages);
      Assistant assistant(engine, m, prompts, tags);
      return session.turns.empty() ? assistant.Ask(messages.back().content, ask, on_token)
                                   : assistant.ChatTurn(&session, messages.back().content, ask, on_token);
    }());
    channel->Close();
  };
  if (!queue.Submit(job)) return SendError(res, 503, "the server is busy: too many model requests are waiting; retry later");

  const std::string id = CompletionId();
  const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto finish = [this, kb, steps, is_agent = !agent_kbs.empty()](const Answer& a, json* choice_or_chunk) {
    metrics.Tokens(a.generation.prompt_tokens, a.generation.completion_tokens);
    if (!kb.empty()) AddAnswerFields(a, choice_or_chunk);
    if (is_agent) {
      json list = json::array();
      for (const auto& s : *steps) list.push_back(api::AgentStepJson(s));
      (*choice_or_chunk)["agent_steps"] = list;
    }
  };
  if (!stream) {
    Result<Answer> a = answer_future->get();
    if (!a.ok()) {
      // A request the model cannot serve as asked (a schema, a template
      // without tools) is the client's to fix: 400, as OpenAI answers.
      int status = a.status().code() == StatusCode::kInvalidArgument ? 400 : HttpStatusOf(a.status());
      return SendError(res, status, a.status().ToString());
    }
    json out = {{"id", id},
                {"object", "chat.completion"},
                {"created", created},
                {"model", served},
                {"choices", json::array({{{"index", 0}, {"message", MessageJson(*a)}, {"finish_reason", FinishReason(*a)}}})},
                {"usage", api::UsageJson(a->generation)}};
    finish(a.value(), &out);
    return SendJson(res, out);
  }

  // Server-sent events: the role, each piece as it comes, the last chunk
  // with the finish reason (and citations), usage when asked, [DONE].
  const bool include_usage = r.include_usage;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [=](size_t, httplib::DataSink& sink) {
        auto send = [&](const json& j) { return SendEvent(sink, j); };
        auto chunk = [&](const json& delta, const json& finish_reason) {
          return json{{"id", id},
                      {"object", "chat.completion.chunk"},
                      {"created", created},
                      {"model", served},
                      {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}})}};
        };
        if (!send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr))) {
          channel->cancelled = true;
          return false;
        }
        // The worker stops at its next token when the client went away.
        if (!channel->Drain([&](const json& p) { return send(chunk(p, nullptr)); })) return false;
        Result<Answer> a = answer_future->get();
        if (!a.ok()) {
          const int status = HttpStatusOf(a.status());
          send({{"error", {{"message", a.status().ToString()}, {"type", ErrorType(status)}, {"code", status}}}});
        } else {
          json last = chunk(json::object(), FinishReason(*a));
          finish(a.value(), &last);
          send(last);
          if (include_usage) {
            json usage = chunk(json::object(), nullptr);
            usage["choices"] = json::array();
            usage["usage"] = api::UsageJson(a->generation);
            send(usage);
          }
        }
        EndEvents(sink);
        return true;
      },
      [channel](bool success) {
        if (!success) channel->cancelled = true;
      });
}

}  // namespace ragd::server
