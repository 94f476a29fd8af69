// Models: the chat and rerank interfaces (the embedding one is in
// embedder.h) and the factories that pick a backend:
//   local  — llama.cpp in-process with a GGUF file;
//   openai — any OpenAI-compatible server (OpenAI, vLLM, Ollama's /v1,
//            llama.cpp's llama-server);
//   ollama — Ollama's native /api/chat and /api/embed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/embedder.h"
#include "ragd/status.h"

namespace ragd {

// Where a model lives and how to reach it. Shared by chat, embeddings and
// rerank; fields a backend does not use are ignored.
struct BackendOptions {
  std::string backend = "local";  // "local" | "openai" | "ollama"
  // local: a GGUF path or a packaged model name; remote: the model name the
  // server knows. Empty = the packaged default (local) or the server's choice.
  std::string model;
  std::string base_url;  // remote: e.g. "http://127.0.0.1:8080/v1"
  std::string api_key;   // remote: sent as "Authorization: Bearer <key>"
  int threads = 0;       // local: CPU threads, 0 = all cores
  int context_tokens = 0;  // local: context window, 0 = min(trained, 4096)
  // local: a chat template name llama.cpp knows ("gemma", "chatml", ...) or
  // "plain" (ragd's text format for base models). Empty = the GGUF's own
  // template, or "plain" when it has none.
  std::string chat_template;
  double timeout_seconds = 120;         // remote: per request, read timeout
  double connect_timeout_seconds = 5;   // remote
  int max_retries = 3;                  // remote: on 429, 5xx, connection errors
  double retry_backoff_seconds = 0.5;   // first wait; doubles each retry
};

// "local", "openai", "ollama" → ok; anything else → InvalidArgument.
Status CheckBackendName(const std::string& name);

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct GenerateOptions {
  double temperature = 0.2;  // 0 = greedy
  double top_p = 0.95;
  int max_tokens = 512;
  int64_t seed = -1;  // -1 = random
  std::vector<std::string> stop;
  // local: penalty on tokens repeated within the last 64 (1 = off). Small
  // base models loop ("1000000…") without it.
  double repeat_penalty = 1.1;
  // local: keep generating through end-of-generation tokens until
  // max_tokens (benchmarks; llama-bench does the same).
  bool ignore_eos = false;
  // A JSON schema the output must follow. local: compiled to a grammar;
  // openai: response_format json_schema; ollama: format.
  std::string json_schema;
};

struct ChatResult {
  std::string text;
  std::string finish_reason;  // "stop" | "length" | "cancelled"
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double seconds = 0;              // whole call
  double first_token_seconds = 0;  // time to first token (0 = none generated)
};

// Called with each piece of text as it is generated. Return false to stop
// generation (the call then returns what was produced, finish_reason
// "cancelled").
using TokenFn = std::function<bool(std::string_view piece)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  virtual Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                                  const TokenFn& on_token = {}) = 0;
  // Tokens text takes. Local models count exactly; remote backends estimate
  // (see docs/MODELS.md) because OpenAI-style APIs have no tokenize call.
  virtual Result<int> CountTokens(std::string_view text) = 0;
  // Tokens the model can attend to (prompt + answer).
  virtual int context_tokens() const = 0;
  virtual std::string backend() const = 0;
  virtual std::string model() const = 0;
};

Result<std::unique_ptr<ChatModel>> OpenChatModel(const BackendOptions& options);

// Cross-encoder relevance: one score per document, higher = more relevant.
class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> documents) = 0;
  virtual std::string backend() const = 0;
  virtual std::string model() const = 0;
};

// local: a GGUF reranker (pooling type "rank"); openai: POST {base}/rerank
// (llama-server, vLLM, Jina-style APIs). Ollama has no rerank API.
Result<std::unique_ptr<Reranker>> OpenReranker(const BackendOptions& options);

// Embeddings through a backend: local wraps OpenLocalEmbedder; openai uses
// POST {base}/embeddings; ollama POST /api/embed.
Result<std::unique_ptr<Embedder>> OpenEmbedder(const BackendOptions& options, const EmbedderOptions& local);

// Rough token count for text when no tokenizer is at hand: one per CJK
// character, one per 4 bytes of other text, rounded up.
int EstimateTokens(std::string_view text);

}  // namespace ragd
