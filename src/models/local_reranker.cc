// Local reranker: a GGUF cross-encoder run in-process by llama.cpp with
// RANK pooling (the model's classification head gives one score per
// query-document pair). Input is built as llama-server builds it, so the
// same GGUF scores the same pair alike in-process and behind /rerank:
// the GGUF's "rerank" template when it has one (Qwen3-Reranker), else
// [BOS] query [EOS] [SEP] document [EOS], each special token as the vocab
// asks for it.
#include <gguf.h>
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/status_macros.h"
#include "core/text.h"
#include "models/llama_common.h"
#include "models/model_factory.h"

namespace ragd {

namespace {

namespace fs = std::filesystem;

// Whether the GGUF carries a classification head; without one llama.cpp
// would "score" with the raw hidden state of the first token.
Result<bool> HasRankHead(const std::string& path) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  if (!g) return Status::InvalidArgument(path + " is not a readable GGUF file");
  bool head = gguf_find_tensor(g, "cls.output.weight") >= 0 || gguf_find_tensor(g, "cls.weight") >= 0;
  gguf_free(g);
  return head;
}

class LocalReranker final : public Reranker {
 public:
  ~LocalReranker() override {
    if (ctx_) llama_free(ctx_);
    if (model_) llama_model_free(model_);
  }

  Status Open(const BackendOptions& options, const std::string& path) {
    RAGD_ASSIGN_OR_RETURN(bool head, HasRankHead(path));
    if (!head)
      return Status::InvalidArgument(path + " has no classification head (cls / cls.output tensors): it is not a "
                                     "reranker; use a cross-encoder GGUF such as bge-reranker-v2-m3 or "
                                     "ms-marco-MiniLM-L-6-v2 (see docs/MODELS.md)");
    RAGD_ASSIGN_OR_RETURN(model_, llama::LoadModel(path, "reranker"));
    vocab_ = llama_model_get_vocab(model_);
    if (const char* t = llama_model_chat_template(model_, "rerank")) template_ = t;
    max_tokens_ = std::max(16, std::min(llama_model_n_ctx_train(model_), 8192));
    int batch = std::max(512, max_tokens_);
    auto ctx = llama::NewEncoderContext(model_, LLAMA_POOLING_TYPE_RANK, batch, options.threads, &n_seq_max_);
    if (!ctx.ok()) return ctx.status().WithContext(path);
    ctx_ = ctx.value();
    batch_tokens_ = batch;
    name_ = llama::MetaString(model_, "general.name");
    if (name_.empty()) name_ = fs::path(path).stem().string();
    return Status::OK();
  }

  Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> documents) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (text::FindInvalidUtf8(query) != std::string::npos) return Status::InvalidArgument("the query is not valid UTF-8");
    std::vector<std::vector<llama_token>> inputs(documents.size());
    for (size_t i = 0; i < documents.size(); ++i) {
      RAGD_ASSIGN_OR_RETURN(inputs[i], PairTokens(query, documents[i]));
    }
    std::vector<double> scores(documents.size());
    RAGD_RETURN_IF_ERROR(llama::EncodePacked(ctx_, inputs, batch_tokens_, n_seq_max_, /*output_all=*/true,
                                             [&](size_t first, size_t n) { return ReadScores(n, scores.data() + first); }));
    return scores;
  }

  std::string backend() const override { return "local"; }
  std::string model() const override { return name_; }

 private:
  Result<std::vector<llama_token>> PairTokens(std::string_view query, const std::string& doc) {
    if (!template_.empty()) {
      std::string prompt = template_;
      text::ReplaceAll(prompt, "{query}", query);
      text::ReplaceAll(prompt, "{document}", doc);
      RAGD_ASSIGN_OR_RETURN(std::vector<llama_token> t, llama::Tokenize(vocab_, prompt, false, true));
      if (static_cast<int>(t.size()) > max_tokens_) t.resize(max_tokens_);  // the document's tail goes
      return t;
    }
    RAGD_ASSIGN_OR_RETURN(std::vector<llama_token> q, llama::Tokenize(vocab_, std::string(query), false, false));
    RAGD_ASSIGN_OR_RETURN(std::vector<llama_token> d, llama::Tokenize(vocab_, doc, false, false));
    llama_token eos = llama_vocab_eos(vocab_);
    if (eos == LLAMA_TOKEN_NULL) eos = llama_vocab_sep(vocab_);
    const bool bos = llama_vocab_get_add_bos(vocab_), add_eos = llama_vocab_get_add_eos(vocab_),
               sep = llama_vocab_get_add_sep(vocab_);
    const int specials = bos + 2 * add_eos + sep;
    // Over the model's window: the document is cut first, then the query.
    const int room = max_tokens_ - specials;
    if (static_cast<int>(q.size()) > room / 2 && static_cast<int>(q.size() + d.size()) > room)
      q.resize(std::max<int>(room / 2, room - static_cast<int>(d.size())));
    if (static_cast<int>(q.size() + d.size()) > room) d.resize(room - q.size());
    std::vector<llama_token> t;
    if (bos) t.push_back(llama_vocab_bos(vocab_));
    t.insert(t.end(), q.begin(), q.end());
    if (add_eos) t.push_back(eos);
    if (sep) t.push_back(llama_vocab_sep(vocab_));
    t.insert(t.end(), d.begin(), d.end());
    if (add_eos) t.push_back(eos);
    return t;
  }

  // The rank score of each of the batch's n_seq sequences.
  Status ReadScores(size_t n_seq, double* out) {
    for (size_t s = 0; s < n_seq; ++s) {
      const float* e = llama_get_embeddings_seq(ctx_, static_cast<llama_seq_id>(s));
      if (!e) return Status::Unavailable("llama.cpp returned no rerank score for a pair");
      if (!std::isfinite(e[0])) return Status::Unavailable("the reranker produced a non-finite score");
      out[s] = e[0];
    }
    return Status::OK();
  }

  llama_model* model_ = nullptr;
  llama_context* ctx_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  std::string template_;
  std::string name_;
  int max_tokens_ = 0;
  int batch_tokens_ = 0;
  int n_seq_max_ = 1;
  std::mutex mu_;  // one llama_context: calls are serialised
};

}  // namespace

Result<std::unique_ptr<Reranker>> OpenLocalReranker(const BackendOptions& options) {
  if (options.model.empty())
    return Status::InvalidArgument("no reranker model given: pass a cross-encoder GGUF path (--reranker FILE)");
  RAGD_ASSIGN_OR_RETURN(std::string path, llama::ResolveModelPath(options.model, "reranker"));
  auto r = std::make_unique<LocalReranker>();
  RAGD_RETURN_IF_ERROR(r->Open(options, path));
  return std::unique_ptr<Reranker>(std::move(r));
}

}  // namespace ragd
