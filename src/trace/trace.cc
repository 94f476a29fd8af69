// Trace records as JSONL, and the wrappers that write them around any model.
#include "ragd/trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/text.h"

namespace ragd {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Long ingest batches would make traces as large as the corpus: embedding
// inputs are cut to a sample (documented in docs/MODELS.md).
constexpr size_t kMaxTracedTexts = 16;
constexpr size_t kMaxTracedTextBytes = 300;

std::string TextsJson(std::span<const std::string> texts, bool sample) {
  json arr = json::array();
  size_t n = sample ? std::min(texts.size(), kMaxTracedTexts) : texts.size();
  for (size_t i = 0; i < n; ++i)
    arr.push_back(sample ? std::string(text::TruncateUtf8(texts[i], kMaxTracedTextBytes)) : texts[i]);
  if (n < texts.size()) arr.push_back("(+" + std::to_string(texts.size() - n) + " more)");
  return arr.dump(-1, ' ', false, json::error_handler_t::replace);
}

json CallsJson(const std::vector<ToolCall>& calls) {
  json arr = json::array();
  for (const auto& c : calls) arr.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
  return arr;
}

class TracedChat final : public ChatModel {
 public:
  // owned may be null when m is owned elsewhere.
  TracedChat(ChatModel* m, std::unique_ptr<ChatModel> owned, std::shared_ptr<TraceLog> log,
             std::shared_ptr<const TraceTags> tags)
      : owned_(std::move(owned)), m_(m), log_(std::move(log)), tags_(std::move(tags)) {}

  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                          const TokenFn& on_token, const ToolCallFn& on_tool_call) override {
    TraceRecord r = Start("chat");
    json msgs = json::array();
    for (const auto& m : messages) {
      json j = {{"role", m.role}, {"content", m.content}};
      if (!m.tool_calls.empty()) j["tool_calls"] = CallsJson(m.tool_calls);
      if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
      msgs.push_back(std::move(j));
    }
    r.input_json = msgs.dump(-1, ' ', false, json::error_handler_t::replace);
    auto t0 = Clock::now();
    auto res = m_->Chat(messages, options, on_token, on_tool_call);
    r.latency_seconds = Since(t0);
    if (res.ok()) {
      // Tool calls are part of the output: one JSON line after the text.
      r.output = res->text;
      if (!res->tool_calls.empty())
        r.output += (r.output.empty() ? "" : "\n") +
                    json{{"tool_calls", CallsJson(res->tool_calls)}}.dump(-1, ' ', false, json::error_handler_t::replace);
      r.prompt_tokens = res->prompt_tokens;
      r.completion_tokens = res->completion_tokens;
      r.first_token_seconds = res->first_token_seconds;
    } else {
      r.error = res.status().ToString();
    }
    log_->Append(r);
    return res;
  }
  Result<int> CountTokens(std::string_view text) override { return m_->CountTokens(text); }
  int context_tokens() const override { return m_->context_tokens(); }
  int default_context_budget() const override { return m_->default_context_budget(); }
  int max_parallel_calls() const override { return m_->max_parallel_calls(); }
  std::string backend() const override { return m_->backend(); }
  std::string model() const override { return m_->model(); }

 private:
  TraceRecord Start(const char* kind) {
    TraceRecord r;
    r.time = files::NowIso8601();
    r.kind = kind;
    r.backend = m_->backend();
    r.model = m_->model();
    if (tags_) r.session = tags_->session, r.question = tags_->question;
    return r;
  }
  std::unique_ptr<ChatModel> owned_;
  ChatModel* m_;
  std::shared_ptr<TraceLog> log_;
  std::shared_ptr<const TraceTags> tags_;
};

class TracedEmbedder final : public Embedder {
 public:
  TracedEmbedder(std::unique_ptr<Embedder> m, std::string backend, std::shared_ptr<TraceLog> log,
                 std::shared_ptr<const TraceTags> tags)
      : m_(std::move(m)), backend_(std::move(backend)), log_(std::move(log)), tags_(std::move(tags)) {}

  Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) override {
    TraceRecord r;
    r.time = files::NowIso8601();
    r.kind = "embed";
    r.backend = backend_;
    r.model = m_->model_id();
    if (tags_) r.session = tags_->session, r.question = tags_->question;
    r.input_json = TextsJson(texts, true);
    for (const auto& t : texts) r.prompt_tokens += EstimateTokens(t);
    auto t0 = Clock::now();
    Status st = m_->Embed(texts, kind, out);
    r.latency_seconds = Since(t0);
    if (st.ok()) r.output = std::to_string(texts.size()) + " vectors of " + std::to_string(m_->dim());
    else r.error = st.ToString();
    log_->Append(r);
    return st;
  }
  Result<int> CountTokens(std::string_view text) override { return m_->CountTokens(text); }
  Result<TokenVectors> EmbedTokens(std::string_view text) override { return m_->EmbedTokens(text); }
  int dim() const override { return m_->dim(); }
  int max_tokens() const override { return m_->max_tokens(); }
  std::string model_id() const override { return m_->model_id(); }

 private:
  std::unique_ptr<Embedder> m_;
  std::string backend_;
  std::shared_ptr<TraceLog> log_;
  std::shared_ptr<const TraceTags> tags_;
};

class TracedReranker final : public Reranker {
 public:
  TracedReranker(std::unique_ptr<Reranker> m, std::shared_ptr<TraceLog> log, std::shared_ptr<const TraceTags> tags)
      : m_(std::move(m)), log_(std::move(log)), tags_(std::move(tags)) {}
  Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> docs) override {
    TraceRecord r;
    r.time = files::NowIso8601();
    r.kind = "rerank";
    r.backend = m_->backend();
    r.model = m_->model();
    if (tags_) r.session = tags_->session, r.question = tags_->question;
    r.input_json = json{{"query", std::string(query)}, {"documents", json::parse(TextsJson(docs, true))}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
    auto t0 = Clock::now();
    auto res = m_->Rerank(query, docs);
    r.latency_seconds = Since(t0);
    if (res.ok()) r.output = json(res.value()).dump();
    else r.error = res.status().ToString();
    log_->Append(r);
    return res;
  }
  std::string backend() const override { return m_->backend(); }
  std::string model() const override { return m_->model(); }

 private:
  std::unique_ptr<Reranker> m_;
  std::shared_ptr<TraceLog> log_;
  std::shared_ptr<const TraceTags> tags_;
};

}  // namespace

std::string TraceToJson(const TraceRecord& r) {
  json j = {{"time", r.time},
            {"kind", r.kind},
            {"backend", r.backend},
            {"model", r.model},
            {"prompt_tokens", r.prompt_tokens},
            {"completion_tokens", r.completion_tokens},
            {"latency_seconds", r.latency_seconds},
            {"first_token_seconds", r.first_token_seconds},
            {"error", r.error},
            {"session", r.session},
            {"question", r.question},
            {"output", r.output}};
  auto input = json::parse(r.input_json, nullptr, false);
  j["input"] = input.is_discarded() ? json(r.input_json) : input;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void TraceLog::Append(const TraceRecord& record) {
  std::string line = TraceToJson(record) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  // O_APPEND: concurrent writers (a server and a CLI) interleave whole lines.
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {  // its folder (a new knowledge base's) is not there yet
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (fd < 0) {
    last_error_ = Status::IOError("cannot open the trace file " + path_ + ": " + files::ErrnoText(errno));
    return;
  }
  ssize_t n = ::write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    last_error_ = Status::IOError("cannot write the trace file " + path_ + ": " + files::ErrnoText(errno));
  ::close(fd);
}

Status TraceLog::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

Result<std::vector<TraceRecord>> ReadTraces(const std::string& path, int last_n, int* skipped) {
  std::ifstream in(path);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return std::vector<TraceRecord>{};  // nothing traced yet
    return Status::IOError("cannot read the trace file " + path + ": " + files::ErrnoText(errno));
  }
  std::deque<TraceRecord> out;
  int bad = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (text::Trim(line).empty()) continue;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("kind")) {
      ++bad;  // a torn last line after a crash, or a foreign line
      continue;
    }
    TraceRecord r;
    try {
      r.time = j.value("time", "");
      r.kind = j.value("kind", "");
      r.backend = j.value("backend", "");
      r.model = j.value("model", "");
      r.input_json = j.contains("input") ? j["input"].dump() : "";
      r.output = j.value("output", "");
      r.prompt_tokens = j.value("prompt_tokens", 0);
      r.completion_tokens = j.value("completion_tokens", 0);
      r.latency_seconds = j.value("latency_seconds", 0.0);
      r.first_token_seconds = j.value("first_token_seconds", 0.0);
      r.error = j.value("error", "");
      r.session = j.value("session", "");
      r.question = j.value("question", "");
    } catch (const json::exception&) {
      ++bad;  // a line of the right shape with fields of the wrong types
      continue;
    }
    out.push_back(std::move(r));
    if (last_n > 0 && static_cast<int>(out.size()) > last_n) out.pop_front();
  }
  if (skipped) *skipped = bad;
  return std::vector<TraceRecord>(out.begin(), out.end());
}

std::unique_ptr<ChatModel> TraceChatModel(std::unique_ptr<ChatModel> model, std::shared_ptr<TraceLog> log,
                                          std::shared_ptr<const TraceTags> tags) {
  ChatModel* raw = model.get();
  return std::make_unique<TracedChat>(raw, std::move(model), std::move(log), std::move(tags));
}
std::unique_ptr<ChatModel> TraceChatModel(ChatModel* model, std::shared_ptr<TraceLog> log,
                                          std::shared_ptr<const TraceTags> tags) {
  return std::make_unique<TracedChat>(model, nullptr, std::move(log), std::move(tags));
}

std::string DefaultTracePath(const std::string& data_dir, const std::string& kb) {
  std::filesystem::path dir = data_dir;
  bool plain = !kb.empty() && kb.find('/') == std::string::npos && kb.front() != '.';
  return (plain ? dir / kb / "traces.jsonl" : dir / "traces.jsonl").string();
}
std::unique_ptr<Embedder> TraceEmbedder(std::unique_ptr<Embedder> model, std::string backend,
                                        std::shared_ptr<TraceLog> log, std::shared_ptr<const TraceTags> tags) {
  return std::make_unique<TracedEmbedder>(std::move(model), std::move(backend), std::move(log), std::move(tags));
}
std::unique_ptr<Reranker> TraceReranker(std::unique_ptr<Reranker> model, std::shared_ptr<TraceLog> log,
                                        std::shared_ptr<const TraceTags> tags) {
  return std::make_unique<TracedReranker>(std::move(model), std::move(log), std::move(tags));
}

}  // namespace ragd
