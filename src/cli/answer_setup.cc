#include "cli/answer_setup.h"

#include <cstdio>
#include <filesystem>

#include "cli/flags.h"
#include "core/files.h"
#include "core/status_macros.h"

namespace ragd::cli {

Result<std::unique_ptr<Run>> Prepare(const CommonFlags& c, const AnswerFlags& f, KbNeed need_kb, bool open_model) {
  auto run = std::make_unique<Run>();
  auto loaded = LoadSettings(c.config);
  if (!loaded.ok()) return loaded.status();
  Settings& s = run->settings = std::move(loaded).value();
  if (!c.data_dir.empty()) s.data_dir = c.data_dir;

  // Chat backend: file < environment < flags.
  if (f.backend) {
    auto backend = ParseBackend(*f.backend);
    if (!backend.ok()) return backend.status();
    s.chat.backend = *backend;
  }
  ApplyEnvironment(s, &s.chat);
  if (f.model) s.chat.model = *f.model;
  if (f.base_url) s.chat.base_url = *f.base_url;
  if (f.api_key) s.chat.api_key = *f.api_key;
  if (f.chat_template) s.chat.chat_template = *f.chat_template;
  if (f.timeout) s.chat.timeout_seconds = *f.timeout;
  if (f.retries) s.chat.max_retries = *f.retries;
  if (f.ctx) s.chat.context_tokens = *f.ctx;
  if (c.threads > 0) s.chat.threads = c.threads;
  if (!f.lora.empty()) {
    s.chat.lora.clear();
    for (const std::string& spec : f.lora) {
      RAGD_ASSIGN_OR_RETURN(LoraAdapter a, ParseLoraAdapter(spec));
      s.chat.lora.push_back(std::move(a));
    }
  }
  // The knowledge base's own adapters ([lora] in ragd.toml) come on top.
  if (auto it = s.kb_lora.find(f.kb); !f.kb.empty() && it != s.kb_lora.end())
    s.chat.lora.insert(s.chat.lora.end(), it->second.begin(), it->second.end());

  AskOptions& a = run->ask = s.ask;
  a.kb = f.kb;
  a.generate = s.generate;
  if (f.temperature) a.generate.temperature = *f.temperature;
  if (f.top_p) a.generate.top_p = *f.top_p;
  if (f.max_tokens) a.generate.max_tokens = *f.max_tokens;
  if (f.seed) a.generate.seed = *f.seed;
  if (!f.stop.empty()) a.generate.stop = f.stop;
  if (!f.json_schema_file.empty()) {
    auto schema = files::ReadFile(f.json_schema_file, 1 << 20);
    if (!schema.ok()) return schema.status().WithContext("--json-schema");
    a.generate.json_schema = schema.value();
  }
  if (f.mode) {
    auto m = ParseSearchMode(*f.mode);
    if (!m.ok()) return m.status();
    a.mode = m.value();
  }
  if (f.strategy) {
    auto st = ParseAnswerStrategy(*f.strategy);
    if (!st.ok()) return st.status();
    a.strategy = st.value();
  }
  if (f.k) a.k = *f.k;
  if (f.min_score) a.min_score = *f.min_score;
  if (f.context_budget) a.context_budget = *f.context_budget;
  if (f.neighbors) a.neighbors = *f.neighbors;
  if (f.check_sources) a.check_sources = *f.check_sources;
  a.no_retrieval = f.no_retrieval;
  RAGD_ASSIGN_OR_RETURN(a.filters, ParseFilters(f.filters));
  a.rerank = !f.no_rerank;
  a.rerank_candidates = f.rerank_candidates.value_or(s.rerank_candidates);
  if (a.k < 1 || a.k > 100) return Status::InvalidArgument("-k must be between 1 and 100");
  if (need_kb == KbNeed::kAlways && a.kb.empty())
    return Status::InvalidArgument("--kb is required (the session is stored in the knowledge base)");
  if (need_kb == KbNeed::kUnlessNoRetrieval && a.kb.empty() && !a.no_retrieval)
    return Status::InvalidArgument("--kb is required (or --no-retrieval to talk to the model directly)");

  if (std::string path = TracePath(s, c.no_trace, c.trace_file, s.data_dir, a.kb); !path.empty())
    run->trace = std::make_shared<TraceLog>(path);

  auto prompts = Prompts::Load(f.prompts_dir ? *f.prompts_dir : s.prompts_dir);
  if (!prompts.ok()) return prompts.status();
  run->prompts = std::move(prompts).value();

  EngineOptions eo = MakeEngineOptions(s, c);
  eo.trace = run->trace;
  eo.trace_tags = run->tags;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return engine.status();
  run->engine = std::move(engine).value();
  if (!a.kb.empty()) {
    // A real knowledge base (this also checks the name), before loading the chat model.
    if (Status st = run->engine->CheckKnowledgeBase(a.kb); !st.ok()) return st;
  }
  if (!a.no_retrieval && need_kb != KbNeed::kNever) {
    // Load the embedder now so that retrieval timings are retrieval only.
    if (a.mode != SearchMode::kBm25) {
      auto e = run->engine->embedder();
      if (!e.ok()) return e.status();
    }
  }

  // The system prompt's and examples' state outlives the process (a
  // one-shot ask skips evaluating them): a cache folder beside the bases.
  if (s.chat.prompt_cache_dir.empty())
    s.chat.prompt_cache_dir = (std::filesystem::path(s.data_dir.empty() ? DefaultDataDir() : s.data_dir) /
                               ".prompt-cache").string();  // a dot: never a knowledge base name
  if (!open_model) return run;
  // The server traces per request, into each knowledge base's file.
  auto model = need_kb == KbNeed::kNever ? OpenChatModel(s.chat) : run->engine->OpenChatModel(s.chat);
  if (!model.ok()) return model.status();
  run->model = std::move(model).value();
  return run;
}

Status LoadChatModel(Run& run) {
  auto model = run.engine->OpenChatModel(run.settings.chat);
  if (!model.ok()) return model.status();
  run.model = std::move(model).value();
  return Status::OK();
}

bool Printer::operator()(std::string_view piece) {
  if (!started) {
    size_t i = 0;
    while (i < piece.size() && (piece[i] == ' ' || piece[i] == '\n')) ++i;
    piece.remove_prefix(i);
    if (piece.empty()) return true;
    started = true;
  }
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
  return true;
}

void AddModelFlags(CLI::App* cmd, AnswerFlags* f, bool serve) {
  cmd->add_option("--backend", f->backend, "chat backend: local, openai or ollama (default local)");
  cmd->add_option("--model", f->model, "local: GGUF path or packaged name; remote: the server's model name");
  cmd->add_option("--base-url", f->base_url, "remote server, e.g. http://127.0.0.1:8080/v1 (or OPENAI_BASE_URL)");
  cmd->add_option(serve ? "--backend-api-key" : "--api-key", f->api_key, "remote API key (or OPENAI_API_KEY, or .env)");
  cmd->add_option("--chat-template", f->chat_template, "local: template name when the GGUF has none (plain, gemma, chatml...)");
  cmd->add_option("--lora", f->lora,
                  "local: a LoRA adapter GGUF for the chat model, FILE.gguf[:scale] (repeatable; replaces [chat] lora)");
  cmd->add_option("--ctx", f->ctx, "local: context window in tokens (default min(trained, 4096))");
  cmd->add_option("--timeout", f->timeout, "remote: seconds to wait for the server (default 120)");
  cmd->add_option("--retries", f->retries, "remote: retries on 429/5xx/connection errors (default 3)");
  cmd->add_option("--temperature", f->temperature, "sampling temperature (default 0: greedy; sampling is opt-in)");
  cmd->add_option("--top-p", f->top_p, "nucleus sampling (default 0.95)");
  cmd->add_option("--max-tokens", f->max_tokens, "longest answer in tokens (default 512)");
  cmd->add_option("--seed", f->seed, "sampling seed, with --temperature > 0 (default random)");
  cmd->add_option("--stop", f->stop, "stop sequence (repeatable)");
  cmd->add_option("--json-schema", f->json_schema_file, "file with a JSON schema the answer must follow");
  cmd->add_option("--prompts", f->prompts_dir, "folder of prompt templates overriding the defaults");
}

void WarnTrace(const Run& run) {
  if (run.trace && !run.trace->last_error().ok())
    std::fprintf(stderr, "ragd: warning: %s\n", run.trace->last_error().ToString().c_str());
}

}  // namespace ragd::cli
