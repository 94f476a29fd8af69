// What the server's parts share (private to ragd_server): the state, the
// route table and the named handlers. The handlers live by concern:
// openai_routes.cc (/v1/...), kb_routes.cc (/api/kbs/...), server.cc
// (health, metrics, the web UI, binding and serving).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "ragd/agent.h"
#include "ragd/summarize.h"
#include "ragd/trace.h"
#include "server/inference_queue.h"
#include "server/metrics.h"
#include "server/server.h"

namespace ragd::server {

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

  Impl(const ServeOptions& o, Engine* e, ChatModel* m, const Prompts* p);

  using Req = httplib::Request;
  using Res = httplib::Response;
  using Handler = void (Impl::*)(const Req&, Res&);
  enum class Access { kPublic, kApiKey };

  // Adds a route: the API key (unless public), metrics under name, and a
  // JSON 500 for an exception that escapes the handler.
  void Route(const char* method, const std::string& pattern, const std::string& name, Access access,
             std::function<void(const Req&, Res&)> handler);
  void Route(const char* method, const std::string& pattern, const std::string& name, Handler handler) {
    Route(method, pattern, name, Access::kApiKey, [this, handler](const Req& q, Res& s) { (this->*handler)(q, s); });
  }
  bool Authorized(const Req& req) const;

  void RegisterRoutes();
  void RegisterOpenAiRoutes();
  void RegisterKbRoutes();
  void RegisterWebUi();
  void RegisterMcpRoute();
  void RegisterSummaryRoute();

  // Where model calls for kb (empty: none) are traced; null = not traced.
  std::shared_ptr<TraceLog> TraceFor(const std::string& kb) const;

  // health and metrics (server.cc)
  void Health(const Req& req, Res& res);
  void MetricsText(const Req& req, Res& res);
  // OpenAI-compatible (openai_routes.cc)
  void ListModels(const Req& req, Res& res);
  void Embeddings(const Req& req, Res& res);
  void ChatCompletions(const Req& req, Res& res);
  // model "agent:<kb>[,<kb>...]": the tool loop, run by the worker; steps are
  // kept in *steps and, when streaming, pushed as agent_step deltas.
  Result<Answer> RunAgent(const std::vector<std::string>& kbs, const std::string& task, const AskOptions& ask,
                          ChatModel* m, std::shared_ptr<TraceTags> tags, std::shared_ptr<TraceLog> trace,
                          std::shared_ptr<StreamChannel> channel, bool stream, std::vector<AgentStep>* steps);
  // knowledge bases (kb_routes.cc)
  void ListKbs(const Req& req, Res& res);
  void CreateKb(const Req& req, Res& res);
  void GetKb(const Req& req, Res& res);
  void DeleteKb(const Req& req, Res& res);
  void ListDocuments(const Req& req, Res& res);
  void UploadDocuments(const Req& req, Res& res);
  void GetDocument(const Req& req, Res& res);
  void DeleteDocument(const Req& req, Res& res);
  // a document's summary (summary_route.cc), written by the worker
  void Summarize(const Req& req, Res& res);
  void Search(const Req& req, Res& res);
  void Recommend(const Req& req, Res& res);
  // MCP over Streamable HTTP (mcp_route.cc)
  void Mcp(const Req& req, Res& res);
};

}  // namespace ragd::server
