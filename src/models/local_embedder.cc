// Local embedder: a GGUF embedding model run in-process by llama.cpp.
// Several texts share one batch (one sequence id each); the model's own
// pooling (mean for MiniLM) gives one vector per text, which we L2-normalise.
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "core/text.h"
#include "core/status_macros.h"
#include "models/llama_common.h"
#include "ragd/embedder.h"

namespace ragd {

namespace {

namespace fs = std::filesystem;

class LocalEmbedder final : public Embedder {
 public:
  ~LocalEmbedder() override {
    if (ctx_) llama_free(ctx_);
    if (model_) llama_model_free(model_);
  }

  Status Open(const EmbedderOptions& options, const std::string& path) {
    RAGD_ASSIGN_OR_RETURN(model_, llama::LoadModel(path, "embedding model"));
    vocab_ = llama_model_get_vocab(model_);
    dim_ = llama_model_n_embd_out(model_);
    if (dim_ <= 0) dim_ = llama_model_n_embd(model_);
    max_tokens_ = std::max(8, llama_model_n_ctx_train(model_));
    // Measured on 2 cores (docs/DECISIONS.md): small unified batches win,
    // because a batch's attention cost grows with its square.
    int batch = options.batch_tokens > 0 ? options.batch_tokens : 512;
    batch = std::max(batch, max_tokens_);
    llama_context_params cp = llama_context_default_params();
    cp.embeddings = true;
    cp.n_ctx = batch;
    cp.n_batch = batch;
    cp.n_ubatch = batch;  // non-causal models need the whole batch in one ubatch
    n_seq_max_ = static_cast<int>(std::min<size_t>(llama_max_parallel_sequences(), 64));
    cp.n_seq_max = n_seq_max_;
    cp.kv_unified = true;

    int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
    cp.n_threads = cp.n_threads_batch = std::max(1, threads);
    ctx_ = llama_init_from_model(model_, cp);
    if (!ctx_) return Status::Unavailable("cannot create a llama.cpp context for " + path);
    if (llama_pooling_type(ctx_) == LLAMA_POOLING_TYPE_NONE)
      return Status::InvalidArgument(path + " has no pooling type: it is not a sentence-embedding model");
    batch_tokens_ = batch;
    name_ = llama::MetaString(model_, "general.name");
    if (name_.empty()) name_ = fs::path(path).stem().string();
    // E5-family models were trained with these prefixes.
    std::string lower = name_;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    bool e5 = lower.find("e5") != std::string::npos;
    query_prefix_ = !options.query_prefix.empty() ? options.query_prefix : (e5 ? "query: " : "");
    passage_prefix_ = !options.passage_prefix.empty() ? options.passage_prefix : (e5 ? "passage: " : "");
    ends_with_special_ = llama_vocab_get_add_eos(vocab_) || llama_vocab_get_add_sep(vocab_);
    // Set by our converters when the model's own normaliser has no GGUF form.
    nfkc_ = llama::MetaString(model_, "ragd.normalize") == "nfkc";
    return Status::OK();
  }

  Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string& prefix = kind == EmbedKind::kQuery ? query_prefix_ : passage_prefix_;
    std::vector<std::vector<llama_token>> toks(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      auto t = Tokenize(nfkc_ ? text::NormalizeNfkc(prefix + texts[i]) : prefix + texts[i], true);
      if (!t.ok()) return t.status();
      toks[i] = std::move(t).value();
      if (static_cast<int>(toks[i].size()) > max_tokens_) {
        // Keep the closing special token ([SEP]) the model expects.
        llama_token last = toks[i].back();
        toks[i].resize(max_tokens_);
        if (ends_with_special_) toks[i].back() = last;
      }
      if (toks[i].empty()) toks[i].push_back(llama_vocab_bos(vocab_));
    }
    llama_batch batch = llama_batch_init(batch_tokens_, 0, 1);
    size_t start = 0;
    Status st;
    while (start < texts.size() && st.ok()) {
      batch.n_tokens = 0;
      size_t end = start;
      while (end < texts.size() && end - start < static_cast<size_t>(n_seq_max_) &&
             batch.n_tokens + static_cast<int>(toks[end].size()) <= batch_tokens_) {
        for (size_t p = 0; p < toks[end].size(); ++p) {
          int j = batch.n_tokens++;
          batch.token[j] = toks[end][p];
          batch.pos[j] = static_cast<llama_pos>(p);
          batch.n_seq_id[j] = 1;
          batch.seq_id[j][0] = static_cast<llama_seq_id>(end - start);
          batch.logits[j] = p + 1 == toks[end].size();
        }
        ++end;
      }
      st = Run(batch, end - start, out + start * dim_);
      start = end;
    }
    llama_batch_free(batch);
    return st;
  }

  Result<int> CountTokens(std::string_view s) override {
    auto t = Tokenize(nfkc_ ? text::NormalizeNfkc(s) : std::string(s), false);
    if (!t.ok()) return t.status();
    return static_cast<int>(t->size());
  }

  int dim() const override { return dim_; }
  int max_tokens() const override { return max_tokens_; }
  std::string model_id() const override { return name_ + "/" + std::to_string(dim_); }

 private:
  Result<std::vector<llama_token>> Tokenize(const std::string& text, bool add_special) {
    return llama::Tokenize(vocab_, text, add_special, false);
  }

  Status Run(llama_batch& batch, size_t n_seq, float* out) {
    if (llama_memory_t mem = llama_get_memory(ctx_)) llama_memory_clear(mem, true);
    int rc = llama_decode(ctx_, batch);
    if (rc != 0) return Status::Unavailable("llama.cpp failed to evaluate the embedding batch (code " + std::to_string(rc) + ")");
    for (size_t s = 0; s < n_seq; ++s) {
      const float* e = llama_get_embeddings_seq(ctx_, static_cast<llama_seq_id>(s));
      if (!e) return Status::Unavailable("llama.cpp returned no embedding for a sequence");
      double norm = 0;
      for (int d = 0; d < dim_; ++d) norm += static_cast<double>(e[d]) * e[d];
      float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
      for (int d = 0; d < dim_; ++d) out[s * dim_ + d] = e[d] * inv;
    }
    return Status::OK();
  }

  llama_model* model_ = nullptr;
  llama_context* ctx_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  int dim_ = 0;
  int max_tokens_ = 0;
  int batch_tokens_ = 0;
  int n_seq_max_ = 1;
  bool ends_with_special_ = false;
  bool nfkc_ = false;
  std::string name_;
  std::string query_prefix_;
  std::string passage_prefix_;
  std::mutex mu_;  // one llama_context: calls are serialised
};

std::string ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

std::vector<std::string> ModelSearchPath() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("RAGD_MODELS_DIR"); d && *d) dirs.push_back(d);
  std::string exe = ExecutableDir();
  if (!exe.empty()) {
    // build/ragd, build/tests/x -> <repo>/.deps/models
    for (fs::path p = exe; !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (fs::exists(p / ".deps" / "models")) {
        dirs.push_back((p / ".deps" / "models").string());
        break;
      }
    }
    dirs.push_back((fs::path(exe) / "models").string());
  }
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) dirs.push_back((fs::path(x) / "ragd" / "models").string());
  else if (const char* h = std::getenv("HOME"); h && *h)
    dirs.push_back((fs::path(h) / ".local" / "share" / "ragd" / "models").string());
  return dirs;
}

Result<std::string> FindPackagedModel(const std::string& file_name) {
  std::string looked;
  for (const auto& dir : ModelSearchPath()) {
    fs::path p = fs::path(dir) / file_name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
    looked += "\n  " + dir;
  }
  return Status::NotFound("the packaged model " + file_name + " was not found; looked in:" + looked +
                          "\nrun `make deps` (or set RAGD_MODELS_DIR, or pass a GGUF path with --embed-model)");
}

Result<std::unique_ptr<Embedder>> OpenLocalEmbedder(const EmbedderOptions& options) {
  auto path = llama::ResolveModelPath(options.model_path.empty() ? "all-MiniLM-L6-v2" : options.model_path,
                                     "embedding model");
  if (!path.ok()) return path.status();
  auto e = std::make_unique<LocalEmbedder>();
  if (Status st = e->Open(options, path.value()); !st.ok()) return st;
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace ragd
