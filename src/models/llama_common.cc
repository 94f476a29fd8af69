#include "models/llama_common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/text.h"
#include "ragd/embedder.h"

namespace ragd::llama {

namespace fs = std::filesystem;

namespace {

// While set on a thread, llama.cpp's error lines on that thread are kept
// here: its loaders report why they fail only in the log.
thread_local std::string* captured_errors = nullptr;

void Log(ggml_log_level level, const char* text, void*) {
  if (captured_errors && level == GGML_LOG_LEVEL_ERROR) captured_errors->append(text);
  static const bool show = std::getenv("RAGD_LLAMA_LOG") != nullptr;
  if (show) std::fputs(text, stderr);
}

}  // namespace

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The library never prints: llama.cpp's log goes nowhere unless asked
    // (RAGD_LLAMA_LOG).
    llama_log_set(Log, nullptr);
    llama_backend_init();
  });
}

Result<llama_adapter_lora*> LoadLoraAdapter(llama_model* model, const std::string& path) {
  InitOnce();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::NotFound("LoRA adapter file not found: " + path);
  std::string errors;
  captured_errors = &errors;
  llama_adapter_lora* adapter = llama_adapter_lora_init(model, path.c_str());
  captured_errors = nullptr;
  if (adapter) return adapter;
  // "llama_adapter_lora_init: failed to apply lora adapter: <why>\n"
  std::string why(text::Trim(errors));
  if (size_t at = why.rfind("adapter: "); at != std::string::npos) why = why.substr(at + 9);
  return Status::InvalidArgument("cannot load the LoRA adapter " + path + " for this chat model: " +
                                 (why.empty() ? "not a LoRA GGUF" : why));
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

Result<llama_context*> NewEncoderContext(llama_model* model, enum llama_pooling_type pooling, int batch_tokens,
                                         int threads, int* n_seq_max, bool flash_attention) {
  llama_context_params cp = llama_context_default_params();
  cp.embeddings = true;
  cp.pooling_type = pooling;
  cp.n_ctx = batch_tokens;
  cp.n_batch = batch_tokens;
  cp.n_ubatch = batch_tokens;  // non-causal models need the whole batch in one ubatch
  *n_seq_max = static_cast<int>(std::min<size_t>(llama_max_parallel_sequences(), 64));
  cp.n_seq_max = *n_seq_max;
  cp.kv_unified = true;
  if (!flash_attention) cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  cp.n_threads = cp.n_threads_batch = std::max(1, threads);
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) return Status::Unavailable("cannot create a llama.cpp context");
  return ctx;
}

Status EncodePacked(llama_context* ctx, std::span<const std::vector<llama_token>> inputs, int batch_tokens,
                    int n_seq_max, bool output_all, const std::function<Status(size_t first, size_t n)>& read) {
  llama_batch batch = llama_batch_init(batch_tokens, 0, 1);
  Status st;
  for (size_t start = 0; start < inputs.size() && st.ok();) {
    batch.n_tokens = 0;
    size_t end = start;
    while (end < inputs.size() && end - start < static_cast<size_t>(n_seq_max) &&
           batch.n_tokens + static_cast<int>(inputs[end].size()) <= batch_tokens) {
      for (size_t p = 0; p < inputs[end].size(); ++p) {
        int j = batch.n_tokens++;
        batch.token[j] = inputs[end][p];
        batch.pos[j] = static_cast<llama_pos>(p);
        batch.n_seq_id[j] = 1;
        batch.seq_id[j][0] = static_cast<llama_seq_id>(end - start);
        batch.logits[j] = output_all || p + 1 == inputs[end].size();
      }
      ++end;
    }
    if (end == start) {  // callers cap inputs at the batch; never loop forever
      st = Status::InvalidArgument("an input of " + std::to_string(inputs[start].size()) +
                                   " tokens does not fit a batch of " + std::to_string(batch_tokens));
      break;
    }
    if (llama_memory_t mem = llama_get_memory(ctx)) llama_memory_clear(mem, true);
    if (int rc = llama_decode(ctx, batch); rc != 0)
      st = Status::Unavailable("llama.cpp failed to evaluate a batch (code " + std::to_string(rc) + ")");
    else
      st = read(start, end - start);
    start = end;
  }
  llama_batch_free(batch);
  return st;
}

}  // namespace ragd::llama
