// Embedder: turns texts into L2-normalised vectors. One pure virtual
// interface and a factory per backend (local llama.cpp today; HTTP backends
// arrive with the Answering work).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/backend.h"
#include "ragd/status.h"

namespace ragd {

// Retrieval models such as E5 embed queries and passages differently.
enum class EmbedKind { kPassage, kQuery };

// The packaged embedder used when none is named: multilingual, measured
// against all-MiniLM-L6-v2 on English and Chinese sets (docs/RETRIEVAL.md).
inline constexpr const char* kDefaultEmbedModel = "multilingual-e5-small";

// An embedding model: its backend, and what only embedding needs.
struct EmbedderOptions {
  // backend.model: local, a path to a GGUF embedding model or the name of a
  // packaged one found through ModelSearchPath() ("all-MiniLM-L6-v2",
  // "multilingual-e5-small"), empty = kDefaultEmbedModel; remote, the name
  // the server knows. backend.threads: local CPU threads, 0 = all cores.
  BackendOptions backend;
  // local: tokens evaluated per llama.cpp batch (several texts share one). 0 = 512.
  int batch_tokens = 0;
  // Prepended to every query / passage before embedding. Empty = the
  // model's convention when known (e.g. "query: " for E5), else nothing.
  std::string query_prefix;
  std::string passage_prefix;
};

// The contextual vector of every token of one text: what BERTScore matches.
struct TokenVectors {
  int dim = 0;
  std::vector<float> data;          // tokens() * dim floats, each row L2-normalised
  std::vector<std::string> pieces;  // each token's text, for messages and checks
  int layer = 0;                    // the model layer the vectors come from (1-based)
  int layers = 0;                   // of how many
  int tokens() const { return dim > 0 ? static_cast<int>(data.size() / dim) : 0; }
  const float* row(int i) const { return data.data() + static_cast<size_t>(i) * dim; }
};

// Thread-compatible: one call at a time per object (a llama.cpp context is
// one caller's); Engine::embedder() returns one that serialises its calls.
// CountTokens is the exception: it only reads the tokenizer, so it must be
// safe beside any other call (the ingest splits while it embeds).
class Embedder {
 public:
  virtual ~Embedder() = default;
  // Embeds texts into out (texts.size() * dim() floats, row-major), each row
  // L2-normalised. Texts longer than max_tokens() are truncated.
  virtual Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) = 0;
  // Number of model tokens in text (without special tokens).
  virtual Result<int> CountTokens(std::string_view text) = 0;
  // The last layer's vector of each token of text, without the model's
  // special tokens ([CLS], [SEP], <s>, </s>) and without the query/passage
  // prefix; truncated to max_tokens(). Local models only: remote embedding
  // APIs return pooled vectors.
  virtual Result<TokenVectors> EmbedTokens(std::string_view text) {
    (void)text;
    return Status::InvalidArgument("token vectors need a local embedding model (a GGUF file); " + model_id() +
                                   " is served over HTTP, which returns pooled vectors only");
  }
  virtual int dim() const = 0;
  virtual int max_tokens() const = 0;
  // A stable identifier stored in every knowledge base, e.g.
  // "all-MiniLM-L6-v2/384", so that mismatched query embedders are refused.
  virtual std::string model_id() const = 0;
};

// Opens options.backend's embedder: local loads a GGUF in-process through
// llama.cpp; openai uses POST {base}/embeddings; ollama POST /api/embed.
Result<std::unique_ptr<Embedder>> OpenEmbedder(const EmbedderOptions& options);

// Where packaged models are looked for, first match wins:
// $RAGD_MODELS_DIR, the .deps/models of the nearest folder above the
// executable that has one, <executable dir>/models, the same two from the
// shared object holding libragd when it is not the executable (the Python
// module), $XDG_DATA_HOME/ragd/models (or ~/.local/share/ragd/models).
std::vector<std::string> ModelSearchPath();
// Finds a packaged model file by name (e.g. "all-MiniLM-L6-v2.gguf").
Result<std::string> FindPackagedModel(const std::string& file_name);

}  // namespace ragd
