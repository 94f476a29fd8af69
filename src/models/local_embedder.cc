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
#include <dlfcn.h>
#include <unistd.h>

#include "core/text.h"
#include "models/model_factory.h"
#include "core/status_macros.h"
#include "models/llama_common.h"
#include "ragd/embedder.h"

namespace ragd {

namespace {

namespace fs = std::filesystem;

class LocalEmbedder final : public Embedder {
 public:
  ~LocalEmbedder() override {
    if (token_ctx_) llama_free(token_ctx_);
    if (short_ctx_) llama_free(short_ctx_);
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
    auto ctx = llama::NewEncoderContext(model_, LLAMA_POOLING_TYPE_UNSPECIFIED, batch, options.backend.threads, &n_seq_max_);
    if (!ctx.ok()) return ctx.status().WithContext(path);
    ctx_ = ctx.value();
    if (llama_pooling_type(ctx_) == LLAMA_POOLING_TYPE_NONE)
      return Status::InvalidArgument(path + " has no pooling type: it is not a sentence-embedding model");
    batch_tokens_ = batch;
    threads_ = options.backend.threads;
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
    if (toks.size() == 1 && static_cast<int>(toks[0].size()) <= kShortTokens) {
      if (!short_ctx_) {
        int n_seq = 1;
        auto ctx = llama::NewEncoderContext(model_, LLAMA_POOLING_TYPE_UNSPECIFIED, kShortTokens, threads_, &n_seq,
                                            /*flash_attention=*/false);
        if (!ctx.ok()) return ctx.status();
        short_ctx_ = ctx.value();
      }
      return llama::EncodePacked(short_ctx_, toks, kShortTokens, 1, /*output_all=*/false,
                                 [&](size_t, size_t n) { return ReadEmbeddings(short_ctx_, n, out); });
    }
    return llama::EncodePacked(ctx_, toks, batch_tokens_, n_seq_max_, /*output_all=*/false,
                               [&](size_t first, size_t n) { return ReadEmbeddings(ctx_, n, out + first * dim_); });
  }

  Result<int> CountTokens(std::string_view s) override {
    auto t = Tokenize(nfkc_ ? text::NormalizeNfkc(s) : std::string(s), false);
    if (!t.ok()) return t.status();
    return static_cast<int>(t->size());
  }

  Result<TokenVectors> EmbedTokens(std::string_view s) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!token_ctx_) {
      // A second context without pooling: the pooled one gives no token rows.
      int n_seq = 1;
      auto ctx = llama::NewEncoderContext(model_, LLAMA_POOLING_TYPE_NONE, max_tokens_, threads_, &n_seq);
      if (!ctx.ok()) return ctx.status();
      token_ctx_ = ctx.value();
    }
    auto t = Tokenize(nfkc_ ? text::NormalizeNfkc(s) : std::string(s), true);
    if (!t.ok()) return t.status();
    std::vector<llama_token> toks = std::move(t).value();
    if (static_cast<int>(toks.size()) > max_tokens_) {
      llama_token last = toks.back();
      toks.resize(max_tokens_);
      if (ends_with_special_) toks.back() = last;
    }
    TokenVectors out;
    out.dim = llama_model_n_embd(model_);
    out.layers = llama_model_n_layer(model_);
    out.layer = out.layers;  // llama.cpp exposes the last layer's output only
    if (toks.empty()) return out;
    std::vector<std::vector<llama_token>> one{toks};
    Status st = llama::EncodePacked(token_ctx_, one, max_tokens_, 1, /*output_all=*/true, [&](size_t, size_t) {
      for (size_t i = 0; i < toks.size(); ++i) {
        if (llama_vocab_is_control(vocab_, toks[i])) continue;
        const float* e = llama_get_embeddings_ith(token_ctx_, static_cast<int32_t>(i));
        if (!e) return Status::Unavailable("llama.cpp returned no vector for token " + std::to_string(i));
        double norm = 0;
        for (int d = 0; d < out.dim; ++d) norm += static_cast<double>(e[d]) * e[d];
        float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.f;
        for (int d = 0; d < out.dim; ++d) out.data.push_back(e[d] * inv);
        out.pieces.push_back(llama::TokenPiece(vocab_, toks[i], false));
      }
      return Status::OK();
    });
    if (!st.ok()) return st;
    return out;
  }

  int dim() const override { return dim_; }
  int max_tokens() const override { return max_tokens_; }
  std::string model_id() const override { return name_ + "/" + std::to_string(dim_); }

 private:
  Result<std::vector<llama_token>> Tokenize(const std::string& text, bool add_special) {
    return llama::Tokenize(vocab_, text, add_special, false);
  }

  // The pooled, L2-normalised embedding of each of the batch's n_seq sequences.
  Status ReadEmbeddings(llama_context* ctx, size_t n_seq, float* out) {
    for (size_t s = 0; s < n_seq; ++s) {
      const float* e = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(s));
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
  llama_context* token_ctx_ = nullptr;  // no pooling: EmbedTokens, made on first use
  // A lone text of at most kShortTokens (a search's query) runs here,
  // without flash attention: for one sequence that short the plain kernels
  // are faster (a MiniLM query 9 %, e5 18 %); for a longer text or several
  // packed together they are slower (docs/DECISIONS.md). Made on first use.
  static constexpr int kShortTokens = 64;
  llama_context* short_ctx_ = nullptr;
  int threads_ = 0;
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

// The folder of the shared object holding this code when it is not the
// executable (the Python module): "" otherwise.
std::string LibraryDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&ExecutableDir), &info) == 0 || info.dli_fname == nullptr) return "";
  std::error_code ec;
  fs::path lib = fs::canonical(info.dli_fname, ec);
  if (ec) return "";
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return !ec && fs::equivalent(lib, exe, ec) ? std::string() : lib.parent_path().string();
}

// <dir>/.deps/models of the nearest enclosing folder that has one (a source
// checkout: build/ragd, build/tests/x, a venv under it), or "".
std::string EnclosingDepsModels(const std::string& start) {
  for (fs::path p = start; !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / ".deps" / "models")) return (p / ".deps" / "models").string();
  return "";
}

}  // namespace

std::vector<std::string> ModelSearchPath() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("RAGD_MODELS_DIR"); d && *d) dirs.push_back(d);
  std::string exe = ExecutableDir();
  if (!exe.empty()) {
    if (std::string d = EnclosingDepsModels(exe); !d.empty()) dirs.push_back(d);
    dirs.push_back((fs::path(exe) / "models").string());
  }
  // The Python module: found from where it is installed, as the program is.
  if (std::string lib = LibraryDir(); !lib.empty()) {
    if (std::string d = EnclosingDepsModels(lib); !d.empty()) dirs.push_back(d);
    dirs.push_back((fs::path(lib) / "models").string());
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
  auto path = llama::ResolveModelPath(options.backend.model.empty() ? kDefaultEmbedModel : options.backend.model,
                                     "embedding model");
  if (!path.ok()) return path.status();
  auto e = std::make_unique<LocalEmbedder>();
  if (Status st = e->Open(options, path.value()); !st.ok()) return st;
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace ragd
