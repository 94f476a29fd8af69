// The factories of include/ragd/models.h: pick a backend by name.
#include <nlohmann/json.hpp>
#include <set>

#include <cmath>
#include <cstdlib>

#include "core/text.h"
#include "models/model_factory.h"

namespace ragd {

const char* BackendName(Backend backend) {
  switch (backend) {
    case Backend::kLocal: return "local";
    case Backend::kOpenAi: return "openai";
    case Backend::kOllama: return "ollama";
  }
  return "?";
}

Result<Backend> ParseBackend(const std::string& name) {
  if (name == "local") return Backend::kLocal;
  if (name == "openai") return Backend::kOpenAi;
  if (name == "ollama") return Backend::kOllama;
  return Status::InvalidArgument("unknown backend '" + name + "' (use local, openai or ollama)");
}

Result<LoraAdapter> ParseLoraAdapter(const std::string& spec) {
  LoraAdapter a;
  a.path = spec;
  if (size_t colon = spec.rfind(':'); colon != std::string::npos && colon + 1 < spec.size()) {
    const std::string number = spec.substr(colon + 1);
    char* end = nullptr;
    double scale = std::strtod(number.c_str(), &end);
    if (end && *end == '\0' && end != number.c_str()) {
      if (!std::isfinite(scale) || std::abs(scale) > 100)
        return Status::InvalidArgument("LoRA scale " + number + " in '" + spec + "' is not a number between -100 and 100");
      a.path = spec.substr(0, colon);
      a.scale = static_cast<float>(scale);
    }
  }
  if (a.path.empty()) return Status::InvalidArgument("LoRA adapter '" + spec + "' names no file");
  return a;
}

bool IsNamedToolChoice(const std::string& c) {
  return !c.empty() && c != "auto" && c != "none" && c != "required";
}

Status CheckTools(const GenerateOptions& o) {
  std::set<std::string> names;
  for (const auto& t : o.tools) {
    if (t.name.empty()) return Status::InvalidArgument("a tool has no name");
    if (!names.insert(t.name).second) return Status::InvalidArgument("two tools are named '" + t.name + "'");
    if (!t.parameters.empty()) {
      auto p = nlohmann::json::parse(t.parameters, nullptr, false);
      if (p.is_discarded() || !p.is_object())
        return Status::InvalidArgument("the parameters of tool '" + t.name + "' are not a JSON Schema object");
    }
  }
  const std::string& c = o.tool_choice;
  if (c.empty() || c == "auto" || c == "none") return Status::OK();
  if (o.tools.empty())
    return Status::InvalidArgument("tool_choice '" + c + "' needs tools, and the request gives none");
  if (c == "required" || names.count(c)) return Status::OK();
  return Status::InvalidArgument("tool_choice '" + c + "' is not auto, none, required or the name of a given tool");
}

Result<std::unique_ptr<ChatModel>> OpenChatModel(const BackendOptions& options) {
  if (!options.lora.empty() && options.backend != Backend::kLocal)
    return Status::InvalidArgument(std::string("LoRA adapters apply to the local chat backend only, not ") +
                                   BackendName(options.backend) + " (load them into that server instead)");
  switch (options.backend) {
    case Backend::kOpenAi: return OpenOpenAiChatModel(options);
    case Backend::kOllama: return OpenOllamaChatModel(options);
    case Backend::kLocal: break;
  }
  return OpenLocalChatModel(options);
}

Result<std::unique_ptr<Embedder>> OpenEmbedder(const EmbedderOptions& options) {
  switch (options.backend.backend) {
    case Backend::kOpenAi: return OpenOpenAiEmbedder(options.backend);
    case Backend::kOllama: return OpenOllamaEmbedder(options.backend);
    case Backend::kLocal: break;
  }
  return OpenLocalEmbedder(options);
}

Result<std::unique_ptr<Reranker>> OpenReranker(const BackendOptions& options) {
  switch (options.backend) {
    case Backend::kOpenAi: return OpenOpenAiReranker(options);
    case Backend::kLocal: return OpenLocalReranker(options);
    case Backend::kOllama: break;
  }
  return Status::InvalidArgument("Ollama has no rerank API; use backend local with a cross-encoder GGUF, or "
                                 "backend openai with `llama-server --reranking`");
}

int EstimateTokens(std::string_view s) {
  int cjk = 0;
  size_t other = 0;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    if (len <= 0) len = 1;
    if (text::IsCjk(c)) ++cjk;
    else other += len;
    i += len;
  }
  return cjk + static_cast<int>((other + 3) / 4);
}

}  // namespace ragd
