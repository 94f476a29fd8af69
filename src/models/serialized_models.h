// Wrappers that let one call at a time into a model that is not
// thread-safe (a llama.cpp context is one caller's at a time), so that one
// model can be shared by concurrent searches and ingests.
//
// A plain mutex, not a FIFO one: served in arrival order, 8 searching
// clients stretched a 41 s upload to 494 s on 2 cores (the search p99 fell
// from 38 s to 6 s); docs/DECISIONS.md has the measurements.
#pragma once

#include <memory>
#include <mutex>

#include "ragd/embedder.h"
#include "ragd/models.h"

namespace ragd::models {

class SerializedEmbedder final : public Embedder {
 public:
  explicit SerializedEmbedder(std::unique_ptr<Embedder> inner) : inner_(std::move(inner)) {}
  Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) override {
    std::lock_guard lock(mu_);
    return inner_->Embed(texts, kind, out);
  }
  Result<int> CountTokens(std::string_view text) override {
    std::lock_guard lock(mu_);
    return inner_->CountTokens(text);
  }
  Result<TokenVectors> EmbedTokens(std::string_view text) override {
    std::lock_guard lock(mu_);
    return inner_->EmbedTokens(text);
  }
  int dim() const override { return inner_->dim(); }
  int max_tokens() const override { return inner_->max_tokens(); }
  std::string model_id() const override { return inner_->model_id(); }

 private:
  std::unique_ptr<Embedder> inner_;
  std::mutex mu_;
};

class SerializedReranker final : public Reranker {
 public:
  explicit SerializedReranker(std::unique_ptr<Reranker> inner) : inner_(std::move(inner)) {}
  Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> documents) override {
    std::lock_guard lock(mu_);
    return inner_->Rerank(query, documents);
  }
  std::string backend() const override { return inner_->backend(); }
  std::string model() const override { return inner_->model(); }

 private:
  std::unique_ptr<Reranker> inner_;
  std::mutex mu_;
};

}  // namespace ragd::models
