#include "models/llama_common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "ragd/embedder.h"

namespace ragd::llama {

namespace fs = std::filesystem;

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The library never prints: llama.cpp's log goes nowhere unless asked.
    if (!std::getenv("RAGD_LLAMA_LOG")) llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
    llama_backend_init();
  });
}

std::string MetaString(const llama_model* model, const char* key) {
  char buf[256];
  int n = llama_model_meta_val_str(model, key, buf, sizeof buf);
  return n > 0 ? std::string(buf, std::min<size_t>(n, sizeof buf - 1)) : std::string();
}

Result<std::string> ResolveModelPath(const std::string& name_or_path, const std::string& what) {
  std::string path = name_or_path;
  // A bare name (no '/', no .gguf) is a packaged model.
  if (path.find('/') == std::string::npos && !path.ends_with(".gguf")) {
    auto found = FindPackagedModel(path + ".gguf");
    if (!found.ok()) return found.status();
    path = found.value();
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::NotFound(what + " file not found: " + path);
  if (::access(path.c_str(), R_OK) != 0) return Status::IOError(what + " file is not readable: " + path);
  return path;
}

Result<llama_model*> LoadModel(const std::string& path, const std::string& what) {
  InitOnce();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(path.c_str(), mp);
  if (!model)
    return Status::Unavailable("cannot load the " + what + " " + path +
                               " (not a GGUF file, or an architecture this llama.cpp build does not know)");
  return model;
}

Result<std::vector<llama_token>> Tokenize(const llama_vocab* vocab, const std::string& text, bool add_special,
                                          bool parse_special) {
  std::vector<llama_token> out(text.size() + 8);
  int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                         static_cast<int32_t>(out.size()), add_special, parse_special);
  if (n < 0) {
    out.resize(-n);
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                       static_cast<int32_t>(out.size()), add_special, parse_special);
  }
  if (n < 0) return Status::InvalidArgument("the model's tokenizer cannot tokenize the text");
  out.resize(n);
  return out;
}

std::string TokenPiece(const llama_vocab* vocab, llama_token token, bool special) {
  char buf[256];
  int n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, special);
  if (n >= 0) return std::string(buf, n);
  std::string big(-n, '\0');
  n = llama_token_to_piece(vocab, token, big.data(), static_cast<int32_t>(big.size()), 0, special);
  return n >= 0 ? big.substr(0, n) : std::string();
}

}  // namespace ragd::llama
