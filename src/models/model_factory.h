// Backend constructors behind OpenChatModel / OpenEmbedder / OpenReranker
// (private to libragd).
#pragma once

#include <memory>

#include "core/status_macros.h"
#include "ragd/models.h"

namespace ragd {

// The packaged chat model (scripts/setup/models.sh).
inline constexpr char kDefaultChatModel[] = "qwen2.5-coder-0.5b-instruct-q4_k_m";

Result<std::unique_ptr<ChatModel>> OpenLocalChatModel(const BackendOptions& options);
Result<std::unique_ptr<ChatModel>> OpenOpenAiChatModel(const BackendOptions& options);
Result<std::unique_ptr<ChatModel>> OpenOllamaChatModel(const BackendOptions& options);
Result<std::unique_ptr<Embedder>> OpenLocalEmbedder(const EmbedderOptions& options);
Result<std::unique_ptr<Embedder>> OpenOpenAiEmbedder(const BackendOptions& options);
Result<std::unique_ptr<Embedder>> OpenOllamaEmbedder(const BackendOptions& options);
Result<std::unique_ptr<Reranker>> OpenLocalReranker(const BackendOptions& options);
Result<std::unique_ptr<Reranker>> OpenOpenAiReranker(const BackendOptions& options);

}  // namespace ragd
