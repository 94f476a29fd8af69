#include "agent/mcp_server.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/kb_argument.h"
#include "agent/schema_check.h"
#include "core/status_macros.h"
#include "ragd/answer.h"

namespace ragd::agent {

namespace {

using nlohmann::json;

constexpr const char* kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

json Error(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json Reply(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

// The ask tool: a question answered by the caller's AskFn.
class AskTool : public Tool {
 public:
  AskTool(AskFn ask, std::vector<std::string> kbs) : ask_(std::move(ask)), kbs_(std::move(kbs)) {
    json p = WithKbArgument({{"type", "object"},
                             {"properties", {{"question", {{"type", "string"}, {"minLength", 1}}}}},
                             {"required", {"question"}}},
                            kbs_);
    spec_ = {"ask", "Answer a question from a knowledge base, with numbered cited sources (ragd ask).", p.dump()};
  }
  const ToolSpec& spec() const override { return spec_; }
  Result<ToolResult> Run(const std::string& arguments, double) override {
    json a = json::parse(arguments, nullptr, false);
    RAGD_ASSIGN_OR_RETURN(std::string kb, PickKb(a, kbs_));
    RAGD_ASSIGN_OR_RETURN(std::string text, ask_(kb, a.value("question", std::string())));
    return ToolResult{std::move(text), {}};
  }

 private:
  AskFn ask_;
  std::vector<std::string> kbs_;
  ToolSpec spec_;
};

}  // namespace

Result<std::unique_ptr<McpServer>> McpServer::Create(Engine* engine, const std::vector<std::string>& kbs, AskFn ask) {
  BuiltinToolOptions o;
  o.kbs = kbs;
  o.min_k = 1;  // an MCP client's k is taken as asked
  RAGD_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tool>> builtin, BuiltinTools(engine, o));
  std::unique_ptr<McpServer> s(new McpServer());
  s->kbs_ = kbs;
  for (auto& t : builtin) {
    const std::string& n = t->spec().name;
    if (n == "search_kb" || n == "read_document" || n == "list_kbs") s->tools_.push_back(std::move(t));
  }
  if (ask) s->tools_.push_back(std::make_unique<AskTool>(std::move(ask), kbs));
  return s;
}

std::vector<ToolSpec> McpServer::specs() const {
  std::vector<ToolSpec> out;
  for (const auto& t : tools_) out.push_back(t->spec());
  return out;
}

std::string McpServer::Handle(const std::string& message) {
  json msg = json::parse(message, nullptr, false);
  if (msg.is_discarded()) return Error(nullptr, -32700, "parse error: the message is not JSON").dump();
  if (!msg.is_object()) return Error(nullptr, -32600, "invalid request: one JSON-RPC object per message (no batches)").dump();
  const bool has_id = msg.contains("id");
  const json id = has_id ? msg["id"] : json(nullptr);
  if (!msg.contains("method")) return "";  // a response to something we never sent
  if (!msg["method"].is_string()) return Error(id, -32600, "invalid request: method must be a string").dump();
  const std::string method = msg["method"];
  if (!has_id) return "";  // notifications (initialized, cancelled) need no reply
  const json params = msg.value("params", json::object());
  if (method == "initialize") {
    std::string asked = params.is_object() ? params.value("protocolVersion", std::string()) : "";
    std::string version = kVersions[0];
    for (const char* v : kVersions)
      if (asked == v) version = v;
    return Reply(id, {{"protocolVersion", version},
                      {"capabilities", {{"tools", {{"listChanged", false}}}}},
                      {"serverInfo", {{"name", "ragd"}, {"version", "0.1"}}},
                      {"instructions", "Knowledge bases: " + json(kbs_).dump() +
                                           ". search_kb finds passages, read_document reads a document by id, ask answers with cited sources."}})
        .dump();
  }
  if (method == "ping") return Reply(id, json::object()).dump();
  if (method == "tools/list") {
    json tools = json::array();
    for (const auto& t : tools_) {
      json schema = json::parse(t->spec().parameters, nullptr, false);
      tools.push_back({{"name", t->spec().name}, {"description", t->spec().description}, {"inputSchema", schema}});
    }
    return Reply(id, {{"tools", tools}}).dump();
  }
  if (method == "tools/call") {
    if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
      return Error(id, -32602, "invalid params: tools/call needs a tool name").dump();
    const std::string name = params["name"];
    auto it = std::find_if(tools_.begin(), tools_.end(), [&](const auto& t) { return t->spec().name == name; });
    if (it == tools_.end()) return Error(id, -32602, "unknown tool '" + name + "'").dump();
    json args = params.value("arguments", json::object());
    if (!args.is_object()) return Error(id, -32602, "invalid params: arguments must be an object").dump();
    Result<ToolResult> r = [&]() -> Result<ToolResult> {
      RAGD_RETURN_IF_ERROR(CheckToolArguments((*it)->spec(), args));
      return (*it)->Run(args.dump(), 60);
    }();
    if (!r.ok()) return Reply(id, {{"content", {{{"type", "text"}, {"text", r.status().message()}}}}, {"isError", true}}).dump();
    std::string text;
    json passages = json::array();
    int n = 0;
    for (const SearchHit& h : r->passages) {
      ++n;
      text += "[" + std::to_string(n) + "] " + SourceLabel(h) + " (id " + h.doc_id + ")\n" + h.text + "\n\n";
      passages.push_back({{"n", n}, {"doc_id", h.doc_id}, {"source", h.source}, {"label", SourceLabel(h)},
                          {"score", h.score}, {"text", h.text}});
    }
    text += r->content;
    json result = {{"content", {{{"type", "text"}, {"text", text}}}}, {"isError", false}};
    if (!r->passages.empty()) result["structuredContent"] = {{"passages", passages}};
    return Reply(id, result).dump();
  }
  return Error(id, -32601, "method not found: " + method).dump();
}

}  // namespace ragd::agent
