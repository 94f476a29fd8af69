// Helpers shared by the llama.cpp backends (embeddings, chat, rerank).
#pragma once

#include <llama.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "ragd/status.h"

namespace ragd::llama {

// Silences llama.cpp's log (unless RAGD_LLAMA_LOG is set) and initialises
// its backend, once per process.
void InitOnce();

// A GGUF metadata string, empty when absent.
std::string MetaString(const llama_model* model, const char* key);

// A GGUF path as given, or a packaged model found by bare name
// ("gemma-3-270m-q4_k_m" -> <models dir>/gemma-3-270m-q4_k_m.gguf). what
// names the role for messages ("chat model", "embedding model").
Result<std::string> ResolveModelPath(const std::string& name_or_path, const std::string& what);

// Initialises llama.cpp and loads a GGUF on the CPU; what names the role
// for the error ("chat model").
Result<llama_model*> LoadModel(const std::string& path, const std::string& what);

// Loads a LoRA adapter (GGUF) for model. llama.cpp's reason for refusing
// one (another architecture, a tensor of the wrong shape, named) is in the
// error.
Result<llama_adapter_lora*> LoadLoraAdapter(llama_model* model, const std::string& path);

// Tokenizes text; special tokens in the text are parsed when parse_special.
Result<std::vector<llama_token>> Tokenize(const llama_vocab* vocab, const std::string& text, bool add_special,
                                          bool parse_special);

// The text of one token (special tokens rendered only when special).
std::string TokenPiece(const llama_vocab* vocab, llama_token token, bool special);

// An encoder (non-causal) context for pooled outputs: embeddings or rank
// scores. batch_tokens is the whole batch in one ubatch (non-causal models
// need that); *n_seq_max receives how many sequences one batch may hold.
// flash_attention false: llama.cpp's plain attention kernels, faster for a
// single sequence of a few dozen tokens only.
Result<llama_context*> NewEncoderContext(llama_model* model, enum llama_pooling_type pooling, int batch_tokens,
                                         int threads, int* n_seq_max, bool flash_attention = true);

// Evaluates the inputs packed several to a batch (up to batch_tokens tokens
// and n_seq_max sequences), each its own sequence; after each batch,
// read(first, n) takes the pooled outputs of inputs [first, first + n),
// sequence ids 0..n-1. output_all marks every token for output (the rank
// head reads them), else only each input's last one.
Status EncodePacked(llama_context* ctx, std::span<const std::vector<llama_token>> inputs, int batch_tokens,
                    int n_seq_max, bool output_all, const std::function<Status(size_t first, size_t n)>& read);

}  // namespace ragd::llama
