// Remote backends: OpenAI-compatible HTTP (chat completions with and without
// SSE streaming, embeddings, rerank) and Ollama's native API (/api/chat with
// NDJSON streaming, /api/embed).
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "models/http_client.h"
#include "models/model_factory.h"

namespace ragd {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Tool-call arguments travel as a JSON string in OpenAI's API and as an
// object in Ollama's.
json ArgumentsObject(const std::string& arguments) {
  auto j = json::parse(arguments.empty() ? "{}" : arguments, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

json Messages(std::span<const ChatMessage> messages, bool ollama) {
  json arr = json::array();
  for (const auto& m : messages) {
    json j = {{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& c : m.tool_calls) {
        if (ollama) calls.push_back({{"function", {{"name", c.name}, {"arguments", ArgumentsObject(c.arguments)}}}});
        else calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      }
      j["tool_calls"] = calls;
    }
    if (m.role == "tool") {
      if (ollama) {
        if (!m.name.empty()) j["tool_name"] = m.name;
      } else {
        j["tool_call_id"] = m.tool_call_id;
      }
    }
    arr.push_back(std::move(j));
  }
  return arr;
}

// The tools a request offers, in OpenAI's shape (Ollama takes the same).
// tool_choice "none" offers none; a named choice offers only that one to a
// server that cannot be told which (Ollama).
json ToolsJson(const GenerateOptions& g, bool only_named) {
  json arr = json::array();
  if (g.tool_choice == "none") return arr;
  const bool named = IsNamedToolChoice(g.tool_choice);
  for (const auto& t : g.tools) {
    if (only_named && named && t.name != g.tool_choice) continue;
    json params = t.parameters.empty() ? json{{"type", "object"}, {"properties", json::object()}}
                                       : json::parse(t.parameters, nullptr, false);
    arr.push_back({{"type", "function"},
                   {"function", {{"name", t.name}, {"description", t.description}, {"parameters", params}}}});
  }
  return arr;
}

// Reads OpenAI-shaped tool calls (message.tool_calls); arguments must be a
// JSON object, as a string or (some servers) an object.
Result<std::vector<ToolCall>> ReadToolCalls(const json& calls, const std::string& where) {
  std::vector<ToolCall> out;
  if (!calls.is_array()) return out;
  for (const auto& c : calls) {
    const json* f = c.is_object() && c.contains("function") ? &c["function"] : nullptr;
    if (!f || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string())
      return Status::Unavailable("the server at " + where + " sent a tool call without a function name: " +
                                 std::string(text::TruncateUtf8(c.dump(), 200)));
    ToolCall t;
    t.id = c.is_object() && c.contains("id") && c["id"].is_string() ? c["id"].get<std::string>() : "";
    t.name = (*f)["name"];
    json args = f->contains("arguments") ? (*f)["arguments"] : json::object();
    if (args.is_string()) args = json::parse(args.get<std::string>().empty() ? "{}" : args.get<std::string>(), nullptr, false);
    if (args.is_discarded() || !args.is_object())
      return Status::Unavailable("the model called '" + t.name + "' with arguments that are not a JSON object: " +
                                 std::string(text::TruncateUtf8(f->value("arguments", json()).dump(), 200)));
    t.arguments = args.dump();
    out.push_back(std::move(t));
  }
  return out;
}

Result<json> ParseSchema(const std::string& schema) {
  auto j = json::parse(schema, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("the JSON schema is not a JSON object");
  return j;
}

// Field readers that never throw on a server's odd JSON (null, wrong type).
std::string StringOr(const json& j, const char* key, const std::string& fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
int IntOr(const json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? static_cast<int>(it->get<double>()) : fallback;
}

int EstimateMessages(std::span<const ChatMessage> messages) {
  int n = 0;
  for (const auto& m : messages) n += EstimateTokens(m.content) + 4;
  return n;
}

// Pulls the "data:" payloads out of an SSE stream, line by line.
class SseReader {
 public:
  // Returns the payload of a data line, or nullopt for other lines.
  static std::optional<std::string_view> Data(std::string_view line) {
    if (!line.starts_with("data:")) return std::nullopt;
    line.remove_prefix(5);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    return line;
  }
};

// Calls at once a remote chat model offers its callers (summaries' map
// step): a new connection each, so nothing is shared between them.
constexpr int kRemoteParallelCalls = 4;

class OpenAiChatModel final : public ChatModel {
 public:
  OpenAiChatModel(http::Endpoint ep, const BackendOptions& o) : client_(std::move(ep), o), opt_(o) {}

  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& g,
                          const TokenFn& on_token, const ToolCallFn& on_tool_call) override {
    auto t0 = Clock::now();
    RAGD_RETURN_IF_ERROR(CheckTools(g));
    json req = {{"messages", Messages(messages, false)}, {"temperature", g.temperature}, {"top_p", g.top_p}};
    if (!opt_.model.empty()) req["model"] = opt_.model;
    if (g.max_tokens > 0) req["max_tokens"] = g.max_tokens;
    if (g.seed >= 0) req["seed"] = g.seed;
    if (!g.stop.empty()) req["stop"] = g.stop;
    if (!g.json_schema.empty()) {
      RAGD_ASSIGN_OR_RETURN(json schema, ParseSchema(g.json_schema));
      req["response_format"] = {{"type", "json_schema"},
                                {"json_schema", {{"name", "output"}, {"schema", schema}, {"strict", true}}}};
    } else if (g.json_object) {
      req["response_format"] = {{"type", "json_object"}};
    }
    if (json tools = ToolsJson(g, false); !tools.empty()) {
      req["tools"] = tools;
      req["parallel_tool_calls"] = g.parallel_tool_calls;
      if (g.tool_choice == "auto" || g.tool_choice == "required") req["tool_choice"] = g.tool_choice;
      else if (!g.tool_choice.empty()) req["tool_choice"] = {{"type", "function"}, {"function", {{"name", g.tool_choice}}}};
    }
    ChatResult out;
    const std::string& where = client_.endpoint().display;
    if (!on_token && !on_tool_call) {
      req["stream"] = false;
      RAGD_ASSIGN_OR_RETURN(http::Response r, client_.PostJson("/chat/completions", req.dump()));
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
        return Status::Unavailable("the server at " + where + " sent a reply that is not a chat completion: " +
                                   http::ErrorDetail(r.body));
      const auto& c = j["choices"][0];
      if (c.contains("message") && c["message"].contains("content") && c["message"]["content"].is_string())
        out.text = c["message"]["content"].get<std::string>();
      if (c.contains("message") && c["message"].contains("tool_calls")) {
        RAGD_ASSIGN_OR_RETURN(out.tool_calls, ReadToolCalls(c["message"]["tool_calls"], where));
      }
      out.finish_reason = StringOr(c, "finish_reason", "stop");
      ReadUsage(j, &out);
      out.first_token_seconds = out.seconds = Since(t0);
    } else {
      req["stream"] = true;
      req["stream_options"] = {{"include_usage", true}};
      bool done = false;
      Status bad;
      bool cancelled = false;
      json calls = json::array();  // tool calls assembled from their deltas
      auto on_line = [&](std::string_view line) {
        auto data = SseReader::Data(line);
        if (!data) return true;
        if (*data == "[DONE]") {
          done = true;
          return true;
        }
        auto j = json::parse(*data, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          bad = Status::Unavailable("the server at " + where + " sent a malformed stream event: '" +
                                    std::string(text::TruncateUtf8(*data, 80)) + "'");
          return false;
        }
        if (j.contains("error")) {
          bad = Status::Unavailable("the server at " + where + " reported an error mid-stream: " +
                                    http::ErrorDetail(std::string(*data)));
          return false;
        }
        ReadUsage(j, &out);
        if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
          const auto& c = j["choices"][0];
          if (c.contains("delta") && c["delta"].contains("content") && c["delta"]["content"].is_string()) {
            std::string piece = c["delta"]["content"].get<std::string>();
            if (!piece.empty()) {
              if (out.text.empty()) out.first_token_seconds = Since(t0);
              out.text += piece;
              if (on_token && !on_token(piece)) {
                cancelled = true;
                return false;
              }
            }
          }
          if (c.contains("delta") && c["delta"].contains("tool_calls") && c["delta"]["tool_calls"].is_array()) {
            for (const auto& d : c["delta"]["tool_calls"]) {
              if (!d.is_object()) continue;
              int index = IntOr(d, "index", static_cast<int>(calls.size()));
              if (index < 0 || index > 128) {
                bad = Status::Unavailable("the server at " + where + " sent a tool-call delta with index " +
                                          std::to_string(index));
                return false;
              }
              while (static_cast<int>(calls.size()) <= index)
                calls.push_back({{"id", ""}, {"function", {{"name", ""}, {"arguments", ""}}}});
              ToolCallDelta td;
              td.index = index;
              td.id = StringOr(d, "id", "");
              if (d.contains("function") && d["function"].is_object()) {
                td.name = StringOr(d["function"], "name", "");
                td.arguments = StringOr(d["function"], "arguments", "");
              }
              auto& call = calls[index];
              if (!td.id.empty()) call["id"] = td.id;
              call["function"]["name"] = call["function"]["name"].get<std::string>() + td.name;
              call["function"]["arguments"] = call["function"]["arguments"].get<std::string>() + td.arguments;
              if (on_tool_call && !on_tool_call(td)) {
                cancelled = true;
                return false;
              }
            }
          }
          if (c.contains("finish_reason") && c["finish_reason"].is_string())
            out.finish_reason = c["finish_reason"].get<std::string>();
        }
        return true;
      };
      RAGD_ASSIGN_OR_RETURN(http::Response r, client_.PostJson("/chat/completions", req.dump(), on_line));
      (void)r;
      if (!bad.ok()) return bad;
      if (!cancelled) {
        RAGD_ASSIGN_OR_RETURN(out.tool_calls, ReadToolCalls(calls, where));
      }
      if (cancelled) {
        out.finish_reason = "cancelled";
      } else if (!done && out.finish_reason.empty()) {
        return Status::Unavailable("the stream from " + where + " ended before the answer was complete (no " +
                                   "finish_reason, no [DONE]) after " + std::to_string(out.text.size()) + " bytes");
      }
      out.seconds = Since(t0);
    }
    if (out.finish_reason.empty()) out.finish_reason = "stop";
    if (out.prompt_tokens == 0) out.prompt_tokens = EstimateMessages(messages);
    if (out.completion_tokens == 0) out.completion_tokens = EstimateTokens(out.text);
    return out;
  }

  Result<int> CountTokens(std::string_view text) override { return EstimateTokens(text); }
  int context_tokens() const override { return opt_.context_tokens > 0 ? opt_.context_tokens : 8192; }
  int max_parallel_calls() const override { return kRemoteParallelCalls; }
  std::string backend() const override { return "openai"; }
  std::string model() const override { return opt_.model.empty() ? "(server default)" : opt_.model; }

 private:
  static void ReadUsage(const json& j, ChatResult* out) {
    if (!j.contains("usage") || !j["usage"].is_object()) return;
    const auto& u = j["usage"];
    out->prompt_tokens = IntOr(u, "prompt_tokens", out->prompt_tokens);
    out->completion_tokens = IntOr(u, "completion_tokens", out->completion_tokens);
  }

  http::Client client_;
  BackendOptions opt_;
};

class OllamaChatModel final : public ChatModel {
 public:
  OllamaChatModel(http::Endpoint ep, const BackendOptions& o) : client_(std::move(ep), o), opt_(o) {}

  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& g,
                          const TokenFn& on_token, const ToolCallFn& on_tool_call) override {
    auto t0 = Clock::now();
    json options = {{"temperature", g.temperature}, {"top_p", g.top_p}};
    if (g.max_tokens > 0) options["num_predict"] = g.max_tokens;
    if (g.seed >= 0) options["seed"] = g.seed;
    if (!g.stop.empty()) options["stop"] = g.stop;
    RAGD_RETURN_IF_ERROR(CheckTools(g));
    const bool stream = on_token || on_tool_call;
    json req = {{"model", opt_.model}, {"messages", Messages(messages, true)}, {"stream", stream},
                {"options", options}};
    if (!g.json_schema.empty()) {
      RAGD_ASSIGN_OR_RETURN(json schema, ParseSchema(g.json_schema));
      req["format"] = schema;
    } else if (g.json_object) {
      req["format"] = "json";
    }
    // Ollama has no tool_choice: "none" sends no tools, a named choice only
    // that one, "required" is the model's choice (docs/MODELS.md).
    if (json tools = ToolsJson(g, true); !tools.empty()) req["tools"] = tools;
    ChatResult out;
    const std::string& where = client_.endpoint().display;
    bool done = false, cancelled = false;
    Status bad;
    // Each NDJSON line (and the whole non-streamed body) has the same shape.
    auto take = [&](const json& j) {
      if (j.contains("error")) {
        bad = Status::Unavailable("the Ollama server at " + where + " reported: " + http::ErrorDetail(j.dump()));
        return false;
      }
      if (j.contains("message") && j["message"].contains("content") && j["message"]["content"].is_string()) {
        std::string piece = j["message"]["content"].get<std::string>();
        if (!piece.empty()) {
          if (out.text.empty()) out.first_token_seconds = Since(t0);
          out.text += piece;
          if (on_token && !on_token(piece)) {
            cancelled = true;
            return false;
          }
        }
      }
      if (j.contains("message") && j["message"].is_object() && j["message"].contains("tool_calls")) {
        auto calls = ReadToolCalls(j["message"]["tool_calls"], where);
        if (!calls.ok()) {
          bad = calls.status();
          return false;
        }
        for (auto& c : *calls) {
          // Ollama sends whole calls without ids: one delta each, ids made here.
          c.id = "call_" + std::to_string(out.tool_calls.size() + 1);
          ToolCallDelta td{static_cast<int>(out.tool_calls.size()), c.id, c.name, c.arguments};
          out.tool_calls.push_back(c);
          if (on_tool_call && !on_tool_call(td)) {
            cancelled = true;
            return false;
          }
        }
      }
      if (auto d = j.find("done"); d != j.end() && d->is_boolean() && d->get<bool>()) {
        done = true;
        out.finish_reason = StringOr(j, "done_reason", "stop");
        out.prompt_tokens = IntOr(j, "prompt_eval_count", 0);
        out.completion_tokens = IntOr(j, "eval_count", 0);
      }
      return true;
    };
    auto on_line = [&](std::string_view line) {
      if (text::Trim(line).empty()) return true;
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        bad = Status::Unavailable("the Ollama server at " + where + " sent a malformed stream line: '" +
                                  std::string(text::TruncateUtf8(line, 80)) + "'");
        return false;
      }
      return take(j);
    };
    RAGD_ASSIGN_OR_RETURN(http::Response r,
                          client_.PostJson("/api/chat", req.dump(), stream ? http::LineFn(on_line) : http::LineFn()));
    if (!stream) {
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        return Status::Unavailable("the Ollama server at " + where + " sent a reply that is not JSON");
      take(j);
    }
    if (!bad.ok()) return bad;
    if (cancelled) out.finish_reason = "cancelled";
    else if (!done)
      return Status::Unavailable("the stream from " + where + " ended before the answer was complete");
    else if (!out.tool_calls.empty() && out.finish_reason == "stop")
      out.finish_reason = "tool_calls";
    out.seconds = Since(t0);
    if (out.prompt_tokens == 0) out.prompt_tokens = EstimateMessages(messages);
    if (out.completion_tokens == 0) out.completion_tokens = EstimateTokens(out.text);
    return out;
  }

  Result<int> CountTokens(std::string_view text) override { return EstimateTokens(text); }
  int context_tokens() const override { return opt_.context_tokens > 0 ? opt_.context_tokens : 8192; }
  int max_parallel_calls() const override { return kRemoteParallelCalls; }
  std::string backend() const override { return "ollama"; }
  std::string model() const override { return opt_.model; }

 private:
  http::Client client_;
  BackendOptions opt_;
};

// Embeddings over HTTP. The dimension is learnt from a first call at open,
// which also proves the server is there.
class RemoteEmbedder final : public Embedder {
 public:
  RemoteEmbedder(http::Endpoint ep, const BackendOptions& o, bool ollama)
      : client_(std::move(ep), o), opt_(o), ollama_(ollama) {}

  Status Probe() {
    std::vector<std::string> one{"dimension probe"};
    RAGD_ASSIGN_OR_RETURN(auto rows, Call(one));
    dim_ = static_cast<int>(rows[0].size());
    if (dim_ == 0) return Status::Unavailable("the server at " + client_.endpoint().display + " returned an empty embedding");
    return Status::OK();
  }

  Status Embed(std::span<const std::string> texts, EmbedKind, float* out) override {
    for (size_t start = 0; start < texts.size(); start += 64) {
      size_t n = std::min<size_t>(64, texts.size() - start);
      RAGD_ASSIGN_OR_RETURN(auto rows, Call(texts.subspan(start, n)));
      for (size_t i = 0; i < n; ++i) {
        if (static_cast<int>(rows[i].size()) != dim_)
          return Status::Unavailable("the server at " + client_.endpoint().display + " returned a " +
                                     std::to_string(rows[i].size()) + "-dimensional vector, expected " +
                                     std::to_string(dim_));
        double norm = 0;
        for (float v : rows[i]) norm += double(v) * v;
        float inv = norm > 0 ? float(1.0 / std::sqrt(norm)) : 0.f;
        for (int d = 0; d < dim_; ++d) out[(start + i) * dim_ + d] = rows[i][d] * inv;
      }
    }
    return Status::OK();
  }
  Result<int> CountTokens(std::string_view text) override { return EstimateTokens(text); }
  int dim() const override { return dim_; }
  int max_tokens() const override { return opt_.context_tokens > 0 ? opt_.context_tokens : 512; }
  std::string model_id() const override {
    return (ollama_ ? "ollama:" : "openai:") + opt_.model + "/" + std::to_string(dim_);
  }

 private:
  Result<std::vector<std::vector<float>>> Call(std::span<const std::string> texts) {
    json req = {{"model", opt_.model}, {"input", json::array()}};
    for (const auto& t : texts) req["input"].push_back(t);
    RAGD_ASSIGN_OR_RETURN(http::Response r, client_.PostJson(ollama_ ? "/api/embed" : "/embeddings", req.dump()));
    auto j = json::parse(r.body, nullptr, false);
    std::vector<std::vector<float>> rows(texts.size());
    const std::string bad = "the server at " + client_.endpoint().display + " sent a reply that is not an embedding list";
    if (j.is_discarded() || !j.is_object()) return Status::Unavailable(bad);
    try {
      if (ollama_) {
        const auto& e = j.at("embeddings");
        if (e.size() != texts.size()) return Status::Unavailable(bad + " of " + std::to_string(texts.size()));
        for (size_t i = 0; i < texts.size(); ++i) rows[i] = e[i].get<std::vector<float>>();
      } else {
        const auto& d = j.at("data");
        if (d.size() != texts.size()) return Status::Unavailable(bad + " of " + std::to_string(texts.size()));
        for (size_t i = 0; i < d.size(); ++i) {
          int idx = IntOr(d[i], "index", static_cast<int>(i));
          if (idx < 0 || idx >= static_cast<int>(rows.size())) return Status::Unavailable(bad + " (index out of range)");
          rows[idx] = d[i].at("embedding").get<std::vector<float>>();
        }
      }
    } catch (const json::exception&) {
      return Status::Unavailable(bad);
    }
    return rows;
  }

  http::Client client_;
  BackendOptions opt_;
  bool ollama_;
  int dim_ = 0;
};

class OpenAiReranker final : public Reranker {
 public:
  OpenAiReranker(http::Endpoint ep, const BackendOptions& o) : client_(std::move(ep), o), opt_(o) {}
  Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> docs) override {
    json req = {{"query", query}, {"documents", json::array()}, {"top_n", docs.size()}};
    if (!opt_.model.empty()) req["model"] = opt_.model;
    for (const auto& d : docs) req["documents"].push_back(d);
    RAGD_ASSIGN_OR_RETURN(http::Response r, client_.PostJson("/rerank", req.dump()));
    auto j = json::parse(r.body, nullptr, false);
    std::vector<double> scores(docs.size(), -1e30);
    const std::string bad = "the server at " + client_.endpoint().display + " sent a reply that is not a rerank result";
    if (j.is_discarded() || !j.contains("results") || !j["results"].is_array()) return Status::Unavailable(bad);
    for (const auto& x : j["results"]) {
      if (!x.is_object()) return Status::Unavailable(bad);
      int idx = IntOr(x, "index", -1);
      auto score = x.find("relevance_score");
      if (idx < 0 || idx >= static_cast<int>(docs.size()) || score == x.end() || !score->is_number())
        return Status::Unavailable(bad);
      scores[idx] = score->get<double>();
    }
    return scores;
  }
  std::string backend() const override { return "openai"; }
  std::string model() const override { return opt_.model; }

 private:
  http::Client client_;
  BackendOptions opt_;
};

Result<http::Endpoint> RemoteEndpoint(const BackendOptions& o, const char* fallback) {
  return http::ParseBaseUrl(o.base_url.empty() ? fallback : o.base_url);
}

}  // namespace

Result<std::unique_ptr<ChatModel>> OpenOpenAiChatModel(const BackendOptions& o) {
  RAGD_ASSIGN_OR_RETURN(auto ep, RemoteEndpoint(o, "https://api.openai.com/v1"));
  return std::unique_ptr<ChatModel>(std::make_unique<OpenAiChatModel>(std::move(ep), o));
}

Result<std::unique_ptr<ChatModel>> OpenOllamaChatModel(const BackendOptions& o) {
  if (o.model.empty()) return Status::InvalidArgument("the ollama backend needs a model name (e.g. --model llama3.2)");
  RAGD_ASSIGN_OR_RETURN(auto ep, RemoteEndpoint(o, "http://127.0.0.1:11434"));
  return std::unique_ptr<ChatModel>(std::make_unique<OllamaChatModel>(std::move(ep), o));
}

Result<std::unique_ptr<Embedder>> OpenOpenAiEmbedder(const BackendOptions& o) {
  RAGD_ASSIGN_OR_RETURN(auto ep, RemoteEndpoint(o, "https://api.openai.com/v1"));
  auto e = std::make_unique<RemoteEmbedder>(std::move(ep), o, false);
  RAGD_RETURN_IF_ERROR(e->Probe());
  return std::unique_ptr<Embedder>(std::move(e));
}

Result<std::unique_ptr<Embedder>> OpenOllamaEmbedder(const BackendOptions& o) {
  if (o.model.empty()) return Status::InvalidArgument("the ollama backend needs an embedding model name");
  RAGD_ASSIGN_OR_RETURN(auto ep, RemoteEndpoint(o, "http://127.0.0.1:11434"));
  auto e = std::make_unique<RemoteEmbedder>(std::move(ep), o, true);
  RAGD_RETURN_IF_ERROR(e->Probe());
  return std::unique_ptr<Embedder>(std::move(e));
}

Result<std::unique_ptr<Reranker>> OpenOpenAiReranker(const BackendOptions& o) {
  RAGD_ASSIGN_OR_RETURN(auto ep, RemoteEndpoint(o, "http://127.0.0.1:8080/v1"));
  return std::unique_ptr<Reranker>(std::make_unique<OpenAiReranker>(std::move(ep), o));
}

}  // namespace ragd
