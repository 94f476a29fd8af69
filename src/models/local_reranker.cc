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
    llama_context_params cp = llama_context_default_params();
    cp.embeddings = true;
    cp.pooling_type = LLAMA_POOLING_TYPE_RANK;
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
    llama_batch batch = llama_batch_init(batch_tokens_, 0, 1);
    Status st;
    for (size_t start = 0; start < inputs.size() && st.ok();) {
      batch.n_tokens = 0;
      size_t end = start;
      while (end < inputs.size() && end - start < static_cast<size_t>(n_seq_max_) &&
             batch.n_tokens + static_cast<int>(inputs[end].size()) <= batch_tokens_) {
        for (size_t p = 0; p < inputs[end].size(); ++p) {
          int j = batch.n_tokens++;
          batch.token[j] = inputs[end][p];
          batch.pos[j] = static_cast<llama_pos>(p);
          batch.n_seq_id[j] = 1;
          batch.seq_id[j][0] = static_cast<llama_seq_id>(end - start);
          batch.logits[j] = true;
        }
        ++end;
      }
      st = Run(batch, end - start, scores.data() + start);
      start = end;
    }
    llama_batch_free(batch);
    if (!st.ok()) return st;
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

  Status Run(llama_batch& batch, size_t n_seq, double* out) {
    if (llama_memory_t mem = llama_get_memory(ctx_)) llama_memory_clear(mem, true);
    if (int rc = llama_decode(ctx_, batch); rc != 0)
      return Status::Unavailable("llama.cpp failed to evaluate the rerank batch (code " + std::to_string(rc) + ")");
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
