// Settings of the ragd program: defaults, then ragd.toml, then a .env file
// in the working directory, then the process environment, then flags (the
// caller applies those last). docs/CONFIG.md lists every key.
#pragma once

#include <map>
#include <string>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/rag.h"
#include "ragd/status.h"

namespace ragd::cli {

// Flags shared by the program's commands (set in main).
struct CommonFlags {
  std::string data_dir;
  std::string store;  // --store: postgres://... (EngineOptions::store_url)
  std::string config;
  std::string embed_model;
  std::string reranker;  // --reranker: a cross-encoder GGUF (or a server's model name)
  int threads = 0;
  bool quiet = false;
  bool no_trace = false;
  std::string trace_file;
};

struct Settings {
  std::string data_dir;
  std::string store_url;     // [store] url, or $RAGD_STORE_URL
  BackendOptions chat;       // [chat]
  GenerateOptions generate;  // [chat] temperature, top_p, max_tokens, seed, stop
  BackendOptions embed;      // [embed]; backend local takes model as the GGUF
  BackendOptions rerank;     // [rerank]; configured when model or base_url is set
  int rerank_candidates = 0; // [rerank] candidates; 0 = max(k, 20)
  AskOptions ask;            // [ask] mode, k, min_score, context_budget, strategy
  std::string prompts_dir;   // [ask] prompts_dir
  MemoryKind memory = MemoryKind::kWindow;  // [memory] kind
  int window = 4;                           // [memory] window
  OcrOptions ocr;             // [ingest] ocr, ocr_lang, ocr_dpi, tessdata
  // [lora] <knowledge base> = ["adapter.gguf:scale", ...]: adapters the
  // local chat model takes when answering from that knowledge base (after
  // [chat] lora, which applies to all).
  std::map<std::string, std::vector<LoraAdapter>> kb_lora;
  bool trace = true;          // [trace] enabled
  std::string trace_file;     // [trace] file; empty = <kb dir>/traces.jsonl
  std::string config_path;    // the file read, empty = none
  std::map<std::string, std::string> env;  // OPENAI_*, OLLAMA_HOST, RAGD_DATA_DIR (process over .env)
};

// Reads config_path (when empty: ./ragd.toml if it exists) and the
// environment: OPENAI_BASE_URL, OPENAI_API_KEY, OLLAMA_HOST, RAGD_DATA_DIR,
// also taken from ./.env. Unknown keys in the file are errors, so typos do
// not pass silently.
Result<Settings> LoadSettings(const std::string& config_path);

// Puts the environment's base URL and API key into b for its backend
// (openai: OPENAI_BASE_URL / OPENAI_API_KEY; ollama: OLLAMA_HOST). Call
// after the backend is final and before flags are applied.
void ApplyEnvironment(const Settings& s, BackendOptions* b);

// The engine's options from the settings and the common flags: data folder,
// embedder (flag over [embed]), reranker (--reranker over [rerank]).
EngineOptions MakeEngineOptions(const Settings& s, const CommonFlags& c);

// Where traces go: the configured file, else <data dir>/<kb>/traces.jsonl,
// else <data dir>/traces.jsonl (also when kb is not a plain name). Empty
// when tracing is off.
std::string TracePath(const Settings& s, bool no_trace, const std::string& trace_file_flag,
                      const std::string& data_dir, const std::string& kb);

// KEY=VALUE lines of a .env file ("export " prefix, quotes and # comments
// understood).
Result<std::map<std::string, std::string>> ParseDotEnv(const std::string& text);

}  // namespace ragd::cli
