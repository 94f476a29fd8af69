// ragd serve's plumbing: the route table, the API key, metrics per route,
// one JSON shape for every error, binding and serving. The routes are in
// openai_routes.cc and kb_routes.cc.
#include "server/server.h"

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "server/http.h"
#include "server/server_impl.h"
#include "server/web_assets.h"

namespace ragd::server {

using Clock = std::chrono::steady_clock;

Server::Impl::Impl(const ServeOptions& o, Engine* e, ChatModel* m, const Prompts* p)
    : options(o), engine(e), model(m), prompts(p), queue(o.max_waiting_jobs) {
  for (unsigned char c : m->model()) chat_model_id += c == ' ' ? '-' : static_cast<char>(std::tolower(c));
}

void Server::Impl::Route(const char* method, const std::string& pattern, const std::string& name, Access access,
                         std::function<void(const Req&, Res&)> handler) {
  auto wrapped = [this, name, access, handler](const Req& req, Res& res) {
    auto t0 = Clock::now();
    if (access == Access::kApiKey && !Authorized(req)) {
      SendError(res, 401, "missing or wrong API key: send 'Authorization: Bearer <key>'");
    } else {
      try {
        handler(req, res);
      } catch (const std::exception& e) {
        SendError(res, 500, std::string("internal error: ") + e.what());
      }
    }
    metrics.Request(name, res.status, std::chrono::duration<double>(Clock::now() - t0).count());
  };
  const std::string m = method;
  if (m == "GET") http.Get(pattern, wrapped);
  else if (m == "POST") http.Post(pattern, wrapped);
  else if (m == "DELETE") http.Delete(pattern, wrapped);
}

bool Server::Impl::Authorized(const Req& req) const {
  if (options.api_key.empty()) return true;
  std::string h = req.get_header_value("Authorization");
  const std::string want = "Bearer " + options.api_key;
  // Constant-time comparison: no timing hint about the key.
  if (h.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < h.size(); ++i) diff |= static_cast<unsigned char>(h[i] ^ want[i]);
  return diff == 0;
}

std::shared_ptr<TraceLog> Server::Impl::TraceFor(const std::string& kb) const {
  if (!options.trace) return nullptr;
  return std::make_shared<TraceLog>(options.trace_file.empty() ? DefaultTracePath(engine->data_dir(), kb)
                                                               : options.trace_file);
}

void Server::Impl::Health(const Req&, Res& res) {
  SendJson(res, {{"status", "ok"}, {"model", chat_model_id}, {"backend", model->backend()},
                 {"queue_waiting", queue.waiting()}});
}

void Server::Impl::MetricsText(const Req&, Res& res) {
  res.set_content(metrics.Render(queue.waiting()), "text/plain; version=0.0.4");
}

// The web UI is public: it asks for the API key itself when a call gets 401.
void Server::Impl::RegisterWebUi() {
  for (const auto& [name, content] : WebAssets()) {
    const std::string path = name == "index.html" ? "/" : "/" + name;
    const char* type = name.ends_with(".html") ? "text/html; charset=utf-8"
                       : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                : "text/javascript; charset=utf-8";
    const std::string* body = &content;
    Route("GET", path, "/ui", Access::kPublic, [body, type](const Req&, Res& res) { res.set_content(*body, type); });
  }
}

void Server::Impl::RegisterRoutes() {
  Route("GET", "/health", "/health", Access::kPublic, [this](const Req& q, Res& s) { Health(q, s); });
  Route("GET", "/metrics", "/metrics", &Impl::MetricsText);
  RegisterOpenAiRoutes();
  RegisterKbRoutes();
  RegisterMcpRoute();
  RegisterSummaryRoute();
  RegisterWebUi();
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
