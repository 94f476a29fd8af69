// Wrappers that let one call at a time into a model that is not
// thread-safe (a llama.cpp context is one caller's at a time), so that one
// model can be shared by concurrent searches and ingests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "ragd/embedder.h"
#include "ragd/models.h"

namespace ragd::models {

// Who uses the embedder next, when searches and an ingest both want it.
// Searches embed one short query and wait on it; an ingest embeds slices of
// passages for seconds at a time. Measured on 2 cores (docs/DECISIONS.md):
// a plain mutex let an ingest that goes straight from one slice to the next
// hold it for a whole upload (one search waited 88.8 s), and strict arrival
// order let 8 searching clients stretch a 41 s upload to 494 s.
//
// So turns: a query goes before any passage slice that asked after it, and
// a passage slice goes before any query that asked after it. When a slice
// ends, the queries already waiting run, then the next slice: a search
// waits at most one slice, and an ingest loses at most one round of queries
// per slice however many clients search.
class EmbedTurns {
 public:
  class Turn {
   public:
    Turn(EmbedTurns& t, bool query) : t_(t) { t_.Acquire(query); }
    ~Turn() { t_.Release(); }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    EmbedTurns& t_;
  };

  // Callers waiting for a turn (for tests).
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return queries_.size() + passages_.size();
  }

 private:
  void Acquire(bool query) {
    std::unique_lock lock(mu_);
    const uint64_t ticket = next_ticket_++;
    auto& waiting = query ? queries_ : passages_;
    auto& others = query ? passages_ : queries_;
    waiting.insert(ticket);
    // Free, and nobody of the other kind asked before this caller.
    cv_.wait(lock, [&] { return !held_ && (others.empty() || *others.begin() > ticket); });
    waiting.erase(ticket);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  uint64_t next_ticket_ = 0;
  std::set<uint64_t> queries_, passages_;  // tickets of the callers waiting
};

class SerializedEmbedder final : public Embedder {
 public:
  explicit SerializedEmbedder(std::unique_ptr<Embedder> inner) : inner_(std::move(inner)) {}
  Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) override {
    EmbedTurns::Turn turn(turns_, kind == EmbedKind::kQuery);
    return inner_->Embed(texts, kind, out);
  }
  // Not serialised: counting reads only the tokenizer (Embedder's contract),
  // and the ingest's splitter counts while the writer stage embeds.
  Result<int> CountTokens(std::string_view text) override { return inner_->CountTokens(text); }
  Result<TokenVectors> EmbedTokens(std::string_view text) override {
    EmbedTurns::Turn turn(turns_, /*query=*/false);  // evaluation work, not a waiting search
    return inner_->EmbedTokens(text);
  }
  int dim() const override { return inner_->dim(); }
  int max_tokens() const override { return inner_->max_tokens(); }
  std::string model_id() const override { return inner_->model_id(); }

 private:
  std::unique_ptr<Embedder> inner_;
  EmbedTurns turns_;
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
