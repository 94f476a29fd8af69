#include "cli/config.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <toml++/toml.h>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "ragd/engine.h"
#include "ragd/trace.h"

namespace ragd::cli {

namespace {

namespace fs = std::filesystem;

// Every key ragd.toml may hold, by table.
const std::map<std::string, std::set<std::string>>& KnownKeys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"", {"data_dir"}},
      {"chat",
       {"backend", "model", "base_url", "api_key", "threads", "context_tokens", "chat_template", "timeout_seconds",
        "connect_timeout_seconds", "max_retries", "retry_backoff_seconds", "temperature", "top_p", "max_tokens", "seed",
        "stop", "lora"}},
      {"embed", {"backend", "model", "base_url", "api_key", "threads", "timeout_seconds", "max_retries"}},
      {"rerank", {"backend", "model", "base_url", "api_key", "threads", "timeout_seconds", "max_retries", "candidates"}},
      {"ask", {"mode", "k", "min_score", "context_budget", "strategy", "prompts_dir", "neighbors", "check_sources"}},
      {"memory", {"kind", "window"}},
      {"ingest", {"ocr", "ocr_lang", "ocr_dpi", "tessdata"}},
      {"trace", {"enabled", "file"}},
      {"store", {"url"}},
  };
  return keys;
}

Status Check(const toml::table& root, const std::string& path) {
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (v.is_table()) {
      if (key == "lora") continue;  // knowledge-base names as keys
      auto it = KnownKeys().find(key);
      if (it == KnownKeys().end() || key.empty())
        return Status::InvalidArgument(path + ": unknown table [" + key + "] (known: chat, embed, rerank, ask, memory, ingest, lora, trace, store)");
      for (const auto& [k2, v2] : *v.as_table())
        if (!it->second.count(std::string(k2.str())))
          return Status::InvalidArgument(path + ": unknown key '" + std::string(k2.str()) + "' in [" + key + "]");
    } else if (!KnownKeys().at("").count(key)) {
      return Status::InvalidArgument(path + ": unknown top-level key '" + key + "'");
    }
  }
  return Status::OK();
}

template <typename T>
void Take(const toml::table& t, const char* table, const char* key, T* out) {
  if (auto v = t[table][key].value<T>()) *out = *v;
}

Status TakeBackend(const toml::table& t, const char* table, BackendOptions* b) {
  std::string name;
  Take(t, table, "backend", &name);
  if (!name.empty()) {
    auto parsed = ParseBackend(name);
    if (!parsed.ok()) return parsed.status();
    b->backend = *parsed;
  }
  Take(t, table, "model", &b->model);
  Take(t, table, "base_url", &b->base_url);
  Take(t, table, "api_key", &b->api_key);
  Take(t, table, "threads", &b->threads);
  Take(t, table, "context_tokens", &b->context_tokens);
  Take(t, table, "chat_template", &b->chat_template);
  Take(t, table, "timeout_seconds", &b->timeout_seconds);
  Take(t, table, "connect_timeout_seconds", &b->connect_timeout_seconds);
  Take(t, table, "max_retries", &b->max_retries);
  Take(t, table, "retry_backoff_seconds", &b->retry_backoff_seconds);
  return Status::OK();
}

std::string Unquote(std::string_view v) {
  v = text::Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    std::string out(v.substr(1, v.size() - 2));
    if (v.front() == '"') {
      std::string r;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\\' && i + 1 < out.size()) {
          char c = out[++i];
          r += c == 'n' ? '\n' : c;
        } else {
          r += out[i];
        }
      }
      return r;
    }
    return out;
  }
  // Unquoted: a " #" starts a comment.
  size_t hash = v.find(" #");
  return std::string(text::Trim(v.substr(0, hash)));
}

}  // namespace

Result<std::map<std::string, std::string>> ParseDotEnv(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  int line_no = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = std::string_view(text).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    ++line_no;
    start = nl == std::string::npos ? text.size() + 1 : nl + 1;
    line = text::Trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line.remove_prefix(7);
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument(".env line " + std::to_string(line_no) + " is not KEY=VALUE");
    out[std::string(text::Trim(line.substr(0, eq)))] = Unquote(line.substr(eq + 1));
  }
  return out;
}

Result<Settings> LoadSettings(const std::string& config_path) {
  Settings s;
  std::string path = config_path;
  std::error_code ec;
  if (path.empty() && fs::is_regular_file("ragd.toml", ec)) path = "ragd.toml";
  if (!path.empty()) {
    if (!fs::is_regular_file(path, ec)) return Status::NotFound("config file not found: " + path);
    RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, 1 << 20));
    toml::table t;
    try {
      t = toml::parse(raw, path);
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                                     std::string(e.description()));
    }
    RAGD_RETURN_IF_ERROR(Check(t, path));
    s.config_path = path;
    if (auto v = t["data_dir"].value<std::string>()) s.data_dir = *v;
    RAGD_RETURN_IF_ERROR(TakeBackend(t, "chat", &s.chat).WithContext(path + " [chat]"));
    RAGD_RETURN_IF_ERROR(TakeBackend(t, "embed", &s.embed).WithContext(path + " [embed]"));
    RAGD_RETURN_IF_ERROR(TakeBackend(t, "rerank", &s.rerank).WithContext(path + " [rerank]"));
    Take(t, "rerank", "candidates", &s.rerank_candidates);
    Take(t, "chat", "temperature", &s.generate.temperature);
    Take(t, "chat", "top_p", &s.generate.top_p);
    Take(t, "chat", "max_tokens", &s.generate.max_tokens);
    Take(t, "chat", "seed", &s.generate.seed);
    if (auto* arr = t["chat"]["stop"].as_array())
      for (const auto& x : *arr)
        if (auto v = x.value<std::string>()) s.generate.stop.push_back(*v);
    std::string mode, strategy, memory;
    Take(t, "ask", "mode", &mode);
    if (!mode.empty()) { RAGD_ASSIGN_OR_RETURN(s.ask.mode, ParseSearchMode(mode)); }
    Take(t, "ask", "k", &s.ask.k);
    if (auto v = t["ask"]["min_score"].value<double>()) s.ask.min_score = *v;
    Take(t, "ask", "context_budget", &s.ask.context_budget);
    Take(t, "ask", "neighbors", &s.ask.neighbors);
    Take(t, "ask", "check_sources", &s.ask.check_sources);
    Take(t, "ask", "strategy", &strategy);
    if (!strategy.empty()) { RAGD_ASSIGN_OR_RETURN(s.ask.strategy, ParseAnswerStrategy(strategy)); }
    Take(t, "ask", "prompts_dir", &s.prompts_dir);
    Take(t, "memory", "kind", &memory);
    if (!memory.empty()) { RAGD_ASSIGN_OR_RETURN(s.memory, ParseMemoryKind(memory)); }
    Take(t, "memory", "window", &s.window);
    // LoRA adapters: strings "file.gguf[:scale]", relative to the file's folder.
    auto adapters = [&](const toml::node_view<const toml::node>& list, const std::string& where,
                        std::vector<LoraAdapter>* out) -> Status {
      if (!list) return Status::OK();
      const toml::array* arr = list.as_array();
      if (!arr) return Status::InvalidArgument(path + ": " + where + " must be a list of \"file.gguf[:scale]\" strings");
      for (const auto& x : *arr) {
        auto spec = x.value<std::string>();
        if (!spec) return Status::InvalidArgument(path + ": " + where + " must be a list of \"file.gguf[:scale]\" strings");
        RAGD_ASSIGN_OR_RETURN(LoraAdapter a, ParseLoraAdapter(*spec));
        if (!a.path.starts_with('/')) a.path = (fs::path(path).parent_path() / a.path).lexically_normal().string();
        out->push_back(std::move(a));
      }
      return Status::OK();
    };
    const toml::table& ct = t;
    RAGD_RETURN_IF_ERROR(adapters(ct["chat"]["lora"], "[chat] lora", &s.chat.lora));
    if (const toml::table* kbs = ct["lora"].as_table())
      for (const auto& [kb, list] : *kbs)
        RAGD_RETURN_IF_ERROR(adapters(ct["lora"][kb.str()], "[lora] " + std::string(kb.str()), &s.kb_lora[std::string(kb.str())]));
    Take(t, "ingest", "ocr", &s.ocr.enabled);
    Take(t, "ingest", "ocr_lang", &s.ocr.languages);
    Take(t, "ingest", "ocr_dpi", &s.ocr.dpi);
    Take(t, "ingest", "tessdata", &s.ocr.tessdata);
    Take(t, "trace", "enabled", &s.trace);
    Take(t, "trace", "file", &s.trace_file);
    Take(t, "store", "url", &s.store_url);
  }

  // The environment: a .env file fills in what the process lacks.
  std::map<std::string, std::string> env;
  if (fs::is_regular_file(".env", ec)) {
    RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(".env", 1 << 20));
    RAGD_ASSIGN_OR_RETURN(env, ParseDotEnv(raw));
  }
  for (const char* key : {"OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST", "RAGD_DATA_DIR", "RAGD_STORE_URL"})
    if (const char* v = std::getenv(key); v && *v) env[key] = v;
  s.env = std::move(env);
  if (s.env.count("RAGD_DATA_DIR") && s.data_dir.empty()) s.data_dir = s.env["RAGD_DATA_DIR"];
  if (s.env.count("RAGD_STORE_URL") && s.store_url.empty()) s.store_url = s.env["RAGD_STORE_URL"];
  return s;
}

EngineOptions MakeEngineOptions(const Settings& s, const CommonFlags& c) {
  EngineOptions eo;
  eo.data_dir = !c.data_dir.empty() ? c.data_dir : s.data_dir;
  eo.store_url = !c.store.empty() ? c.store : s.store_url;
  eo.embedder.backend = s.embed;
  ApplyEnvironment(s, &eo.embedder.backend);
  if (!c.embed_model.empty()) eo.embedder.backend.model = c.embed_model;
  if (c.threads > 0) eo.embedder.backend.threads = c.threads;
  if (!c.reranker.empty() || !s.rerank.model.empty() || !s.rerank.base_url.empty()) {
    BackendOptions r = s.rerank;
    ApplyEnvironment(s, &r);
    if (!c.reranker.empty()) r.model = c.reranker;
    if (c.threads > 0) r.threads = c.threads;
    eo.reranker = r;
  }
  return eo;
}

std::string TracePath(const Settings& s, bool no_trace, const std::string& trace_file_flag,
                      const std::string& data_dir, const std::string& kb) {
  if (!s.trace || no_trace) return "";
  if (!trace_file_flag.empty()) return trace_file_flag;
  if (!s.trace_file.empty()) return s.trace_file;
  return DefaultTracePath(data_dir.empty() ? DefaultDataDir() : data_dir, kb);
}

void ApplyEnvironment(const Settings& s, BackendOptions* b) {
  auto get = [&](const char* k) { return s.env.count(k) ? s.env.at(k) : std::string(); };
  if (b->backend == Backend::kOpenAi) {
    if (!get("OPENAI_BASE_URL").empty()) b->base_url = get("OPENAI_BASE_URL");
    if (!get("OPENAI_API_KEY").empty()) b->api_key = get("OPENAI_API_KEY");
  } else if (b->backend == Backend::kOllama && !get("OLLAMA_HOST").empty()) {
    std::string host = get("OLLAMA_HOST");
    b->base_url = host.starts_with("http") ? host : "http://" + host;
  }
}

}  // namespace ragd::cli
