#include "server/server.h"

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/text.h"
#include "ragd/trace.h"
#include "api/json_forms.h"
#include "api/search_request.h"
#include "server/inference_queue.h"
#include "server/metrics.h"
#include "server/web_assets.h"

namespace ragd::server {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A request error: status code, message, OpenAI-style type.
struct HttpError {
  int status;
  std::string message;
};

int HttpStatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kAlreadyExists: return 409;
    default: return 500;
  }
}

const char* ErrorType(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 409: return "conflict_error";
    case 413: return "request_too_large";
    case 422: return "invalid_request_error";
    case 503: return "overloaded_error";
    default: return "server_error";
  }
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  json j = {{"error", {{"message", message}, {"type", ErrorType(status)}, {"code", status}}}};
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendJson(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// The body as a JSON object, or a 400 naming what is wrong.
std::optional<json> ParseObject(const httplib::Request& req, httplib::Response& res) {
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    SendError(res, 400, "the request body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    SendError(res, 400, "the request body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

// Typed field readers: a present field of the wrong type is a 422.
template <typename T>
bool Field(const json& j, const char* key, T* out, httplib::Response& res, const char* type_name) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  try {
    *out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    SendError(res, 422, std::string("'") + key + "' must be " + type_name);
    return false;
  }
}

}  // namespace

struct Server::Impl {
  ServeOptions options;
  Engine* engine;
  ChatModel* model;
  const Prompts* prompts;
  httplib::Server http;
  Metrics metrics;
  InferenceQueue queue;
  int bound_port = 0;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> done{false};
  std::string chat_model_id;  // the chat model's name as an OpenAI model id ("gemma-3-270m")

  Impl(const ServeOptions& o, Engine* e, ChatModel* m, const Prompts* p)
      : options(o), engine(e), model(m), prompts(p), queue(o.max_waiting_jobs) {
    for (unsigned char c : m->model()) chat_model_id += c == ' ' ? '-' : static_cast<char>(std::tolower(c));
  }

  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Registers a route: auth (except public ones), metrics, and a JSON 500
  // for anything that escapes.
  void Route(const std::string& method, const std::string& pattern, const std::string& name, bool is_public,
             Handler fn) {
    auto wrapped = [this, name, is_public, fn](const httplib::Request& req, httplib::Response& res) {
      auto t0 = Clock::now();
      if (!is_public && !Authorized(req)) {
        SendError(res, 401, "missing or wrong API key: send 'Authorization: Bearer <key>'");
      } else {
        try {
          fn(req, res);
        } catch (const std::exception& e) {
          SendError(res, 500, std::string("internal error: ") + e.what());
        }
      }
      metrics.Request(name, res.status, std::chrono::duration<double>(Clock::now() - t0).count());
    };
    if (method == "GET") http.Get(pattern, wrapped);
    else if (method == "POST") http.Post(pattern, wrapped);
    else if (method == "DELETE") http.Delete(pattern, wrapped);
  }

  bool Authorized(const httplib::Request& req) const {
    if (options.api_key.empty()) return true;
    std::string h = req.get_header_value("Authorization");
    const std::string want = "Bearer " + options.api_key;
    // Constant-time comparison: no timing hint about the key.
    if (h.size() != want.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < h.size(); ++i) diff |= static_cast<unsigned char>(h[i] ^ want[i]);
    return diff == 0;
  }

  void RegisterRoutes();
  void RegisterOpenAiRoutes();
  void RegisterKbRoutes();

  std::shared_ptr<TraceLog> TraceFor(const std::string& kb) const {
    if (!options.trace) return nullptr;
    return std::make_shared<TraceLog>(options.trace_file.empty() ? DefaultTracePath(engine->data_dir(), kb)
                                                                 : options.trace_file);
  }
};

// ---------------------------------------------------------------------------
// OpenAI-compatible routes.

namespace {

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

}  // namespace

void Server::Impl::RegisterOpenAiRoutes() {
  Route("GET", "/v1/models", "/v1/models", false, [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    data.push_back({{"id", chat_model_id}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "chat"}});
    if (auto kbs = engine->ListKnowledgeBases(); kbs.ok())
      for (const auto& kb : kbs.value())
        data.push_back({{"id", "kb:" + kb.name}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "knowledge_base"}});
    if (auto e = engine->embedder(); e.ok())
      data.push_back({{"id", (*e)->model_id()}, {"object", "model"}, {"owned_by", "ragd"}, {"kind", "embedding"}});
    SendJson(res, {{"object", "list"}, {"data", data}});
  });

  Route("POST", "/v1/embeddings", "/v1/embeddings", false, [this](const httplib::Request& req, httplib::Response& res) {
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
  });

  Route("POST", "/v1/chat/completions", "/v1/chat/completions", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseObject(req, res);
    if (!body) return;
    std::string model_name;
    bool stream = false;
    GenerateOptions g = options.ask.generate;
    if (!Field(*body, "model", &model_name, res, "a string") || !Field(*body, "stream", &stream, res, "a boolean") ||
        !Field(*body, "temperature", &g.temperature, res, "a number") ||
        !Field(*body, "top_p", &g.top_p, res, "a number") || !Field(*body, "max_tokens", &g.max_tokens, res, "an integer") ||
        !Field(*body, "seed", &g.seed, res, "an integer"))
      return;
    if (auto s = body->find("stop"); s != body->end() && !s->is_null()) {
      if (s->is_string()) g.stop = {s->get<std::string>()};
      else if (s->is_array() && std::all_of(s->begin(), s->end(), [](const json& x) { return x.is_string(); }))
        g.stop = s->get<std::vector<std::string>>();
      else return SendError(res, 422, "'stop' must be a string or an array of strings");
    }
    if (auto rf = body->find("response_format"); rf != body->end() && !rf->is_null()) {
      if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
        return SendError(res, 400, "'response_format' must be an object with a 'type' (text, json_object or json_schema)");
      std::string type = (*rf)["type"];
      if (type == "json_object") {
        g.json_object = true;
      } else if (type == "json_schema") {
        auto js = rf->find("json_schema");
        if (js == rf->end() || !js->is_object() || !js->contains("schema") || !(*js)["schema"].is_object())
          return SendError(res, 400, "'response_format.json_schema.schema' must be a JSON Schema object");
        g.json_schema = (*js)["schema"].dump();
        if (Status st = CheckOutputSchema(g.json_schema); !st.ok()) return SendError(res, 400, st.message());
      } else if (type != "text") {
        return SendError(res, 400, "response_format type '" + type + "' is not text, json_object or json_schema");
      }
    }
    if (HttpError e = ReadTools(*body, &g); e.status) return SendError(res, e.status, e.message);
    bool include_usage = body->contains("stream_options") && (*body)["stream_options"].is_object() &&
                         (*body)["stream_options"].value("include_usage", false);
    auto msgs_it = body->find("messages");
    if (msgs_it == body->end() || !msgs_it->is_array() || msgs_it->empty())
      return SendError(res, 422, "'messages' must be a non-empty array");
    std::vector<ChatMessage> messages;
    for (const auto& m : *msgs_it) {
      ChatMessage cm;
      if (HttpError e = ReadMessage(m, &cm); e.status) return SendError(res, e.status, e.message);
      messages.push_back(std::move(cm));
    }
    const std::string& last_role = messages.back().role;
    if (last_role != "user" && last_role != "tool")
      return SendError(res, 422, "the last message must be the user's (or a tool result)");
    // kb:<name> answers from a knowledge base; anything else is a direct chat.
    std::string kb;
    if (model_name.starts_with("kb:")) {
      kb = model_name.substr(3);
      if (Status st = engine->CheckKnowledgeBase(kb); !st.ok()) return SendError(res, HttpStatusOf(st), st.ToString());
      if (!g.tools.empty() || last_role != "user")
        return SendError(res, 400, "tools and tool messages are for requests to the chat model ('" + chat_model_id +
                                       "'); a knowledge base (kb:" + kb + ") answers user questions with citations");
    } else if (!model_name.empty() && model_name != chat_model_id && model_name != "default") {
      return SendError(res, 404, "model '" + model_name + "' is not served here; GET /v1/models lists '" +
                                     chat_model_id + "' and 'kb:<name>' for each knowledge base");
    }
    const std::string served = model_name.empty() ? chat_model_id : model_name;

    // The job the worker runs; pieces flow through the channel.
    auto channel = std::make_shared<StreamChannel>();
    auto result = std::make_shared<std::promise<Result<Answer>>>();
    auto answer_future = std::make_shared<std::future<Result<Answer>>>(result->get_future());
    AskOptions ask = options.ask;
    ask.kb = kb;
    ask.generate = g;
    std::shared_ptr<TraceLog> trace = TraceFor(kb);
    auto job = [this, channel, result, messages, kb, ask, trace, stream] {
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
      Result<Answer> out = Status::OK();
      if (kb.empty()) {
        auto r = m->Chat(messages, ask.generate, on_token, on_tool_call);
        if (r.ok()) {
          Answer a;
          a.text = r->text;
          a.generation = r.value();
          out = std::move(a);
        } else {
          out = r.status();
        }
      } else {
        // Earlier user/assistant pairs are the history of a transient session.
        Session session;
        session.id = "http";
        session.memory = MemoryKind::kBuffer;
        for (size_t i = 0; i + 1 < messages.size(); ++i)
          if (messages[i].role == "user" && messages[i + 1].role == "assistant")
            session.turns.push_back({"", messages[i].content, messages[i].content, messages[i + 1].content, {}});
        Assistant assistant(engine, m, prompts, tags);
        out = session.turns.empty() ? assistant.Ask(messages.back().content, ask, on_token)
                                    : assistant.ChatTurn(&session, messages.back().content, ask, on_token);
      }
      result->set_value(std::move(out));
      channel->Close();
    };
    if (!queue.Submit(job))
      return SendError(res, 503, "the server is busy: too many model requests are waiting; retry later");

    const std::string id = CompletionId();
    const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    auto finish = [this, kb](const Answer& a, json* choice_or_chunk) {
      metrics.Tokens(a.generation.prompt_tokens, a.generation.completion_tokens);
      if (!kb.empty()) {
        // The streamed text is the model's; this is it with checked citations.
        (*choice_or_chunk)["answer"] = std::string(text::Trim(a.text));
        json cites = json::array();
        for (const auto& s : a.sources) cites.push_back(api::SourceJson(s));
        (*choice_or_chunk)["citations"] = cites;
        (*choice_or_chunk)["found"] = a.found;
        (*choice_or_chunk)["refusal"] = RefusalReason(a);
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
      std::string finish_reason = a->generation.finish_reason.empty() ? "stop" : a->generation.finish_reason;
      json message = {{"role", "assistant"}, {"content", std::string(text::Trim(a->text))}};
      if (!a->generation.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : a->generation.tool_calls)
          calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
        message["tool_calls"] = calls;
        if (message["content"] == "") message["content"] = nullptr;
      }
      json out = {{"id", id},
                  {"object", "chat.completion"},
                  {"created", created},
                  {"model", served},
                  {"choices", json::array({{{"index", 0},
                                            {"message", message},
                                            {"finish_reason", finish_reason}}})},
                  {"usage", api::UsageJson(a->generation)}};
      finish(a.value(), &out);
      return SendJson(res, out);
    }

    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [=](size_t, httplib::DataSink& sink) {
          auto send = [&](const json& j) {
            std::string line = "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
            return sink.write(line.data(), line.size());
          };
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
          while (true) {
            std::deque<json> pieces;
            bool done;
            {
              std::unique_lock<std::mutex> l(channel->mu);
              channel->cv.wait(l, [&] { return channel->done || !channel->pieces.empty(); });
              pieces.swap(channel->pieces);
              done = channel->done;
            }
            for (auto& p : pieces)
              if (!send(chunk(p, nullptr))) {
                channel->cancelled = true;  // the worker stops at its next token
                return false;
              }
            if (done) break;
          }
          Result<Answer> a = answer_future->get();
          if (!a.ok()) {
            json err = {{"error", {{"message", a.status().ToString()}, {"type", ErrorType(HttpStatusOf(a.status()))},
                                   {"code", HttpStatusOf(a.status())}}}};
            send(err);
          } else {
            json last = chunk(json::object(), a->generation.finish_reason.empty() ? "stop" : a->generation.finish_reason);
            finish(a.value(), &last);
            send(last);
            if (include_usage) {
              json usage = chunk(json::object(), nullptr);
              usage["choices"] = json::array();
              usage["usage"] = api::UsageJson(a->generation);
              send(usage);
            }
          }
          std::string end = "data: [DONE]\n\n";
          sink.write(end.data(), end.size());
          sink.done();
          return true;
        },
        [channel](bool success) {
          if (!success) channel->cancelled = true;
        });
  });
}

// ---------------------------------------------------------------------------
// Knowledge-base REST routes.

namespace {

// A knowledge base as the API shows it: without its path on the server.
json KbPublicJson(const KbInfo& k) {
  json j = api::KbJson(k);
  j.erase("path");
  return j;
}

// An uploaded file's name reduced to a safe base name: no folders, no
// leading dots, no control characters. Empty when nothing is left.
std::string SafeFileName(const std::string& name) {
  std::string base = name;
  size_t slash = base.find_last_of("/\\");
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string out;
  for (unsigned char c : base)
    if (c >= 0x20 && c != 0x7F && c != ':' && c != '*' && c != '?' && c != '"' && c != '<' && c != '>' && c != '|')
      out += static_cast<char>(c);
  while (!out.empty() && (out.front() == '.' || out.front() == ' ' || out.front() == '-')) out.erase(0, 1);
  if (text::FindInvalidUtf8(out) != std::string::npos) return "";
  return std::string(text::TruncateUtf8(out, 200));
}

}  // namespace

void Server::Impl::RegisterKbRoutes() {
  Route("GET", "/api/kbs", "/api/kbs", false, [this](const httplib::Request&, httplib::Response& res) {
    auto kbs = engine->ListKnowledgeBases();
    if (!kbs.ok()) return SendError(res, HttpStatusOf(kbs.status()), kbs.status().ToString());
    json arr = json::array();
    for (const auto& k : kbs.value()) arr.push_back(KbPublicJson(k));
    SendJson(res, {{"knowledge_bases", arr}});
  });
  Route("POST", "/api/kbs", "/api/kbs", false, [this](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseObject(req, res);
    if (!body) return;
    std::string name;
    if (!Field(*body, "name", &name, res, "a string")) return;
    if (name.empty()) return SendError(res, 422, "'name' is required");
    auto kb = engine->CreateKnowledgeBase(name);
    if (!kb.ok()) return SendError(res, HttpStatusOf(kb.status()), kb.status().ToString());
    SendJson(res, KbPublicJson(kb.value()), 201);
  });
  Route("GET", R"(/api/kbs/([^/]+))", "/api/kbs/{kb}", false, [this](const httplib::Request& req, httplib::Response& res) {
    auto kb = engine->GetKnowledgeBase(req.matches[1]);
    if (!kb.ok()) return SendError(res, HttpStatusOf(kb.status()), kb.status().ToString());
    SendJson(res, KbPublicJson(kb.value()));
  });
  Route("DELETE", R"(/api/kbs/([^/]+))", "/api/kbs/{kb}", false, [this](const httplib::Request& req, httplib::Response& res) {
    Status st = engine->DeleteKnowledgeBase(req.matches[1]);
    if (!st.ok()) return SendError(res, HttpStatusOf(st), st.ToString());
    SendJson(res, {{"deleted", std::string(req.matches[1])}});
  });
  Route("GET", R"(/api/kbs/([^/]+)/documents)", "/api/kbs/{kb}/documents", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    auto docs = engine->ListDocuments(req.matches[1]);
    if (!docs.ok()) return SendError(res, HttpStatusOf(docs.status()), docs.status().ToString());
    json arr = json::array();
    for (const auto& d : docs.value()) arr.push_back(api::DocumentJson(d));
    SendJson(res, {{"kb", std::string(req.matches[1])}, {"documents", arr}});
  });
  Route("POST", R"(/api/kbs/([^/]+)/documents)", "/api/kbs/{kb}/documents", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    const std::string kb = req.matches[1];
    if (!req.is_multipart_form_data())
      return SendError(res, 400, "upload files as multipart/form-data (field name 'files')");
    auto info = engine->GetKnowledgeBase(kb);
    if (!info.ok()) return SendError(res, HttpStatusOf(info.status()), info.status().ToString());
    // Files are kept under the knowledge base's uploads/ folder: re-uploading
    // a file of the same name replaces its document (same path, new hash).
    fs::path dir = fs::path(info->path) / "uploads";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return SendError(res, 500, "cannot create " + dir.string() + ": " + ec.message());
    std::vector<std::string> paths;
    json rejected = json::array();
    IngestOptions o;
    // Metadata for every file of the upload: a form field "meta" holding a
    // JSON object of strings, e.g. {"team": "cards", "year": "2024"}.
    if (auto it = req.files.find("meta"); it != req.files.end() && it->second.filename.empty()) {
      json meta = json::parse(it->second.content, nullptr, false);
      if (!meta.is_object()) return SendError(res, 422, "the 'meta' field must be a JSON object of strings");
      for (const auto& [key, value] : meta.items()) {
        if (!value.is_string()) return SendError(res, 422, "metadata '" + key + "' must be a string");
        if (Status st = ValidateMetadata(key, value.get<std::string>()); !st.ok())
          return SendError(res, 422, st.message());
        o.metadata[key] = value.get<std::string>();
      }
    }
    for (const auto& [field, file] : req.files) {
      if (field == "meta" && file.filename.empty()) continue;
      std::string name = SafeFileName(file.filename);
      if (name.empty()) {
        rejected.push_back({{"filename", file.filename}, {"error", "not a usable file name"}});
        continue;
      }
      fs::path p = dir / name;
      if (Status st = files::WriteFileAtomic(p.string(), file.content); !st.ok())
        return SendError(res, 500, st.ToString());
      paths.push_back(p.string());
    }
    if (paths.empty()) return SendError(res, 422, "no file with a usable name in the upload");
    o.kb = kb;
    o.paths = paths;
    auto rep = engine->IngestFiles(o);
    if (!rep.ok()) return SendError(res, HttpStatusOf(rep.status()), rep.status().ToString());
    metrics.Ingest(rep->files_added + rep->files_updated, rep->chunks_written, static_cast<int64_t>(rep->failures.size()));
    json failures = json::array();
    for (const auto& f : rep->failures)
      failures.push_back({{"filename", fs::path(f.path).filename().string()}, {"error", f.status.ToString()}});
    for (const auto& r : rejected) failures.push_back(r);
    SendJson(res, {{"kb", kb},
                   {"added", rep->files_added},
                   {"updated", rep->files_updated},
                   {"unchanged", rep->files_unchanged},
                   {"chunks", rep->chunks_written},
                   {"failed", failures}},
             failures.size() == paths.size() + rejected.size() ? 422 : 201);
  });
  Route("GET", R"(/api/kbs/([^/]+)/documents/(.+))", "/api/kbs/{kb}/documents/{id}", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    auto d = engine->GetDocument(req.matches[1], req.matches[2]);
    if (!d.ok()) return SendError(res, HttpStatusOf(d.status()), d.status().ToString());
    json chunks = json::array();
    for (const auto& c : d->chunks)
      chunks.push_back({{"chunk_id", c.chunk_id}, {"chunk_index", c.chunk_index}, {"page", c.page},
                        {"heading_path", c.heading_path}, {"row", c.row}, {"char_start", c.char_start},
                        {"char_end", c.char_end}, {"text", c.text}});
    json out = api::DocumentJson(d->info);
    out["chunks"] = chunks;
    SendJson(res, out);
  });
  Route("DELETE", R"(/api/kbs/([^/]+)/documents/(.+))", "/api/kbs/{kb}/documents/{id}", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    Status st = engine->DeleteDocument(req.matches[1], req.matches[2]);
    if (!st.ok()) return SendError(res, HttpStatusOf(st), st.ToString());
    SendJson(res, {{"deleted", std::string(req.matches[2])}});
  });
  Route("POST", R"(/api/kbs/([^/]+)/search)", "/api/kbs/{kb}/search", false,
        [this](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseObject(req, res);
    if (!body) return;
    auto o = api::SearchOptionsFromJson(*body, req.matches[1]);
    if (!o.ok()) return SendError(res, 422, o.status().message());
    auto r = engine->Search(*o);
    if (!r.ok()) return SendError(res, HttpStatusOf(r.status()), r.status().ToString());
    SendJson(res, api::SearchResultJson(*o, *r));
  });
}

void Server::Impl::RegisterRoutes() {
  Route("GET", "/health", "/health", true, [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, {{"status", "ok"}, {"model", chat_model_id}, {"backend", model->backend()},
                   {"queue_waiting", queue.waiting()}});
  });
  Route("GET", "/metrics", "/metrics", false, [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(queue.waiting()), "text/plain; version=0.0.4");
  });
  RegisterOpenAiRoutes();
  RegisterKbRoutes();
  // The web UI is public: it asks for the API key itself when a call gets 401.
  for (const auto& [name, content] : WebAssets()) {
    const std::string path = name == "index.html" ? "/" : "/" + name;
    const char* type = name.ends_with(".html") ? "text/html; charset=utf-8"
                       : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                : "text/javascript; charset=utf-8";
    const std::string* body = &content;
    Route("GET", path, "/ui", true, [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_content(*body, type);
    });
  }
  // Errors httplib raises itself (413 over the body limit, 404 for unknown
  // paths) get the same JSON shape.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) SendError(res, 413, "the request body is larger than the server's limit");
    else if (res.status == 404) SendError(res, 404, "no route " + req.method + " " + req.path);
    else SendError(res, res.status, "request failed");
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Create(const ServeOptions& options, Engine* engine, ChatModel* model,
                                               const Prompts* prompts) {
  auto impl = std::make_unique<Impl>(options, engine, model, prompts);
  impl->http.set_payload_max_length(options.max_body_bytes);
  int threads = options.http_threads > 0 ? options.http_threads : static_cast<int>(options.max_waiting_jobs) + 8;
  impl->http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->RegisterRoutes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::Bind() {
  int port = impl_->options.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(impl_->options.host);
    if (port <= 0) return Status::IOError("cannot listen on " + impl_->options.host + " (any port)");
  } else if (!impl_->http.bind_to_port(impl_->options.host, port)) {
    return Status::IOError("cannot listen on " + impl_->options.host + ":" + std::to_string(port) +
                           " (in use, or not allowed); pick another --port");
  }
  impl_->bound_port = port;
  return Status::OK();
}

int Server::port() const { return impl_->bound_port; }

Status Server::Serve() {
  bool ok = impl_->stop_requested || impl_->http.listen_after_bind();
  impl_->done = true;
  if (!ok) return Status::IOError("the server stopped listening");
  return Status::OK();
}

void Server::Stop() {
  impl_->stop_requested = true;
  impl_->http.stop();  // a no-op until the listen loop runs: callers repeat until done()
}

bool Server::done() const { return impl_->done; }

}  // namespace ragd::server
