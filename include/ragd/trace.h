// Traces: every model call (chat, embeddings, rerank; local or remote) as
// one JSON line — what went in, what came out, tokens, latency, errors and
// the session and question it served. Evaluation, the web UI and metrics
// read them back.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ragd/models.h"
#include "ragd/status.h"

namespace ragd {

struct TraceRecord {
  std::string time;     // ISO 8601 UTC, when the call started
  std::string kind;     // "chat" | "embed" | "rerank"
  std::string backend;  // "local" | "openai" | "ollama"
  std::string model;
  std::string input_json;   // chat: the messages; embed/rerank: the texts (JSON)
  std::string output;       // chat: the answer; embed: "<n> vectors of <dim>"; rerank: scores (JSON)
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double latency_seconds = 0;
  double first_token_seconds = 0;
  std::string error;  // empty = success
  std::string session;
  std::string question;
};

// What the next calls are for; set by the caller (ask, chat) before it calls.
struct TraceTags {
  std::string session;
  std::string question;
};

// Appends records to a JSONL file. Thread-safe. A failed write never fails
// the model call it describes: it is kept in last_error() for the caller.
class TraceLog {
 public:
  explicit TraceLog(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  void Append(const TraceRecord& record);
  Status last_error() const;

 private:
  std::string path_;
  mutable std::mutex mu_;
  Status last_error_;
};

// The last n records of a trace file (n <= 0: all), oldest first. Lines that
// are not trace records are skipped and counted in *skipped.
Result<std::vector<TraceRecord>> ReadTraces(const std::string& path, int last_n, int* skipped = nullptr);
std::string TraceToJson(const TraceRecord& record);

// Wrappers that record every call of the wrapped model into log, tagged
// with *tags at the time of the call.
std::unique_ptr<ChatModel> TraceChatModel(std::unique_ptr<ChatModel> model, std::shared_ptr<TraceLog> log,
                                          std::shared_ptr<const TraceTags> tags);
// The same around a model owned elsewhere (it must outlive the wrapper).
std::unique_ptr<ChatModel> TraceChatModel(ChatModel* model, std::shared_ptr<TraceLog> log,
                                          std::shared_ptr<const TraceTags> tags);

// Where a knowledge base's traces go by default: <data dir>/<kb>/traces.jsonl,
// or <data dir>/traces.jsonl for calls of no knowledge base (also when kb
// is not a plain name, so a name never steers the file out of the folder).
std::string DefaultTracePath(const std::string& data_dir, const std::string& kb);
std::unique_ptr<Embedder> TraceEmbedder(std::unique_ptr<Embedder> model, std::string backend,
                                        std::shared_ptr<TraceLog> log, std::shared_ptr<const TraceTags> tags);
std::unique_ptr<Reranker> TraceReranker(std::unique_ptr<Reranker> model, std::shared_ptr<TraceLog> log,
                                        std::shared_ptr<const TraceTags> tags);

}  // namespace ragd
