// Backends: where a model runs and how to reach it, shared by the chat,
// embedding and rerank models (include/ragd/models.h, embedder.h).
//   local  — llama.cpp in-process with a GGUF file;
//   openai — any OpenAI-compatible server (OpenAI, vLLM, Ollama's /v1,
//            llama.cpp's llama-server);
//   ollama — Ollama's native /api/chat and /api/embed.
//
// Plain data: safe to copy between threads.
#pragma once

#include <string>
#include <vector>

#include "ragd/status.h"

namespace ragd {

enum class Backend { kLocal, kOpenAi, kOllama };
const char* BackendName(Backend backend);  // "local" | "openai" | "ollama"
// The inverse of BackendName; anything else is InvalidArgument naming the choices.
Result<Backend> ParseBackend(const std::string& name);

// A LoRA adapter for the local chat model, applied through llama.cpp's
// adapter API: a GGUF made from a PEFT adapter by llama.cpp's
// convert_lora_to_gguf.py, for this model's architecture and shapes.
struct LoraAdapter {
  std::string path;
  float scale = 1.0f;  // 0 = no effect, 1 = as trained
};
// "adapter.gguf" or "adapter.gguf:0.5" (the scale after the last ':').
Result<LoraAdapter> ParseLoraAdapter(const std::string& spec);

// Where a model lives and how to reach it. Shared by chat, embeddings and
// rerank; fields a backend does not use are ignored.
struct BackendOptions {
  Backend backend = Backend::kLocal;
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
  // local: a folder where the key/value state of a prompt's stable prefix
  // (GenerateOptions::stable_prefix_messages) is kept across processes, so
  // a one-shot `ragd ask` does not evaluate the system prompt and examples
  // again. A cache: files that fail to load are ignored and rewritten.
  // Empty = within the process only.
  std::string prompt_cache_dir;
  // local chat model: LoRA adapters applied together, each with its scale.
  std::vector<LoraAdapter> lora;
};


}  // namespace ragd
