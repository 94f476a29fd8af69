// POST /mcp: ragd's MCP server (agent/mcp_server) over Streamable HTTP, as
// JSON responses (no server-sent stream: every tool answers in one
// message). Behind the same API key as the rest; each request offers the
// knowledge bases that exist at that moment. The ask tool's model calls go
// through the inference queue like /v1/chat/completions.
#include <future>
#include <nlohmann/json.hpp>

#include "agent/mcp_server.h"
#include "api/json_forms.h"
#include "server/http.h"
#include "server/server_impl.h"

namespace ragd::server {

using nlohmann::json;

void Server::Impl::Mcp(const Req& req, Res& res) {
  json msg = json::parse(req.body, nullptr, false);
  if (msg.is_object() && !msg.contains("id")) {  // a notification or a response: accepted, nothing to say
    res.status = 202;
    return;
  }
  auto kbs = engine->ListKnowledgeBases();
  if (!kbs.ok()) return SendError(res, HttpStatusOf(kbs.status()), kbs.status().ToString());
  std::vector<std::string> names;
  for (const auto& k : *kbs) names.push_back(k.name);
  if (names.empty()) return SendError(res, 404, "there are no knowledge bases to offer over MCP; create one first");
  agent::AskFn ask = [this](const std::string& kb, const std::string& question) -> Result<std::string> {
    auto promise = std::make_shared<std::promise<Result<std::string>>>();
    auto future = promise->get_future();
    AskOptions a = options.ask;
    a.kb = kb;
    bool queued = queue.Submit([this, promise, a, question, trace = TraceFor(kb)] {
      auto tags = std::make_shared<TraceTags>();
      std::unique_ptr<ChatModel> traced = trace ? TraceChatModel(model, trace, tags) : nullptr;
      Assistant assistant(engine, traced ? traced.get() : model, prompts, tags);
      Result<Answer> answer = assistant.Ask(question, a);
      promise->set_value(answer.ok() ? Result<std::string>(api::AnswerText(*answer)) : Result<std::string>(answer.status()));
    });
    if (!queued) return Status::Unavailable("the server is busy: too many model requests are waiting; retry later");
    return future.get();
  };
  auto server = agent::McpServer::Create(engine, names, ask);
  if (!server.ok()) return SendError(res, HttpStatusOf(server.status()), server.status().ToString());
  res.set_content((*server)->Handle(req.body), "application/json");
}

void Server::Impl::RegisterMcpRoute() {
  Route("POST", "/mcp", "/mcp", &Impl::Mcp);
  // No server-initiated stream is offered; the specification's answer to GET is 405.
  Route("GET", "/mcp", "/mcp", Access::kApiKey, [](const Req&, Res& res) {
    res.set_header("Allow", "POST");
    SendError(res, 405, "GET /mcp: this server sends no event stream; POST JSON-RPC messages");
  });
}

}  // namespace ragd::server
