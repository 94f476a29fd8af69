// ragd serve: the OpenAI-compatible endpoints, the knowledge-base REST API,
// health and metrics on one port (docs/API.md). The server owns no policy
// of its own: it calls the Engine, the chat model (through the inference
// queue) and the Assistant, and turns Status values into JSON errors.
#pragma once

#include <memory>
#include <string>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/rag.h"
#include "ragd/status.h"

namespace ragd::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port
  std::string api_key;  // empty = no auth
  size_t max_body_bytes = 64u << 20;  // uploads included
  size_t max_waiting_jobs = 16;       // inference queue; beyond it: 503
  // Request threads; 0 = max_waiting_jobs + 8, so that requests waiting for
  // the model can never take every thread from health, search and uploads.
  int http_threads = 0;
  AskOptions ask;                     // defaults for kb:<name> chats
  std::string trace_file;             // empty = <kb dir>/traces.jsonl per knowledge base
  bool trace = true;
};

class Server {
 public:
  // engine, model and prompts must outlive the server.
  static Result<std::unique_ptr<Server>> Create(const ServeOptions& options, Engine* engine, ChatModel* model,
                                                const Prompts* prompts);
  ~Server();
  // Binds (port 0 picks one) and serves until Stop(). Returns when stopped.
  Status Bind();
  int port() const;
  Status Serve();
  // Asks Serve() to return; safe from any thread, also before Serve() runs.
  void Stop();
  // True once Serve() has returned.
  bool done() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragd::server
