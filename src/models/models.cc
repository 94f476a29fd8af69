// The factories of include/ragd/models.h: pick a backend by name.
#include <nlohmann/json.hpp>
#include <set>

#include "core/text.h"
#include "models/model_factory.h"

namespace ragd {

Status CheckBackendName(const std::string& name) {
  if (name == "local" || name == "openai" || name == "ollama") return Status::OK();
  return Status::InvalidArgument("unknown backend '" + name + "' (use local, openai or ollama)");
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
  RAGD_RETURN_IF_ERROR(CheckBackendName(options.backend));
  if (options.backend == "openai") return OpenOpenAiChatModel(options);
  if (options.backend == "ollama") return OpenOllamaChatModel(options);
  return OpenLocalChatModel(options);
}

Result<std::unique_ptr<Embedder>> OpenEmbedder(const BackendOptions& options, const EmbedderOptions& local) {
  RAGD_RETURN_IF_ERROR(CheckBackendName(options.backend));
  if (options.backend == "openai") return OpenOpenAiEmbedder(options);
  if (options.backend == "ollama") return OpenOllamaEmbedder(options);
  return OpenLocalEmbedder(local);
}

Result<std::unique_ptr<Reranker>> OpenReranker(const BackendOptions& options) {
  RAGD_RETURN_IF_ERROR(CheckBackendName(options.backend));
  if (options.backend == "openai") return OpenOpenAiReranker(options);
  if (options.backend == "ollama")
    return Status::InvalidArgument("Ollama has no rerank API; use backend local with a cross-encoder GGUF, or "
                                   "backend openai with `llama-server --reranking`");
  return OpenLocalReranker(options);
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
