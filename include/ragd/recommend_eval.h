// Recommendation evaluation, leave-last-out (docs/RECOMMEND.md): each
// user's last interaction is the target, the rest the history; every
// method ranks the items the user has not interacted with, on the same users.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/recommend.h"

namespace ragd {

struct RecommendEvalOptions {
  std::string folder;                              // holds the two files below
  std::string items_file = "items.jsonl";          // a catalogue (ReadRecordsFile)
  std::string interactions_file = "interactions.csv";
  // Knowledge base to build or reuse: the items and the training
  // interactions. Empty = "rec-<folder>-<hash of both files>".
  std::string kb;
  // popularity, item-knn, profile, fused, fused+llm (the last needs a model).
  std::vector<std::string> methods = {"popularity", "item-knn", "profile", "fused"};
  int users = 0;          // a fixed random sample of this many users (0 = all)
  int llm_users = 50;     // fused+llm runs on the first this many of that sample
  uint64_t seed = 1;      // of the samples and of the re-rank's shuffles
  int list_length = 100;  // each method's list: MRR counts ranks up to here
  RecommendWeights weights;  // of "fused"
  int rerank_top = 20;
  int rerank_repeats = 3;
};

struct RecommendEvalRecord {
  std::string user;
  std::string method;
  std::string target;
  int rank = 0;  // 1-based place of the target in the list, 0 = not in it
  std::vector<std::string> top;  // the first 10 items
  int history = 0;
  double seconds = 0;
  int model_calls = 0, invalid_outputs = 0, prompt_tokens = 0, completion_tokens = 0;
};

struct RecommendMethodMetrics {
  std::string method;
  int users = 0;
  double hr_at_10 = 0, ndcg_at_10 = 0, mrr = 0;
  // Half-widths of the 95% confidence intervals over users (normal
  // approximation: 1.96 standard errors).
  double hr_ci = 0, ndcg_ci = 0, mrr_ci = 0;
  double ms_per_user = 0;
  double model_calls_per_user = 0, invalid_share = 0, tokens_per_user = 0;
};

struct RecommendEvalReport {
  std::string kb;
  int items = 0;
  int users = 0;           // users with at least two interactions
  int64_t interactions = 0;
  std::vector<RecommendMethodMetrics> methods;
};

struct RecommendEvalProgress {
  std::string method;
  int done = 0, total = 0;
};

// Builds (or reuses) the knowledge base with the items and every
// interaction but the targets, then ranks for each sampled user with each
// method. model is needed only for fused+llm. on_record is called per
// (user, method) as it is scored.
Result<RecommendEvalReport> EvaluateRecommend(Engine& engine, ChatModel* model, const Prompts* prompts,
                                              const RecommendEvalOptions& options,
                                              const std::function<void(const RecommendEvalRecord&)>& on_record = {},
                                              const std::function<void(const RecommendEvalProgress&)>& progress = {},
                                              const ProgressFn& ingest_progress = {});

}  // namespace ragd
