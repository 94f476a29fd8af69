// Recommendation: the items are a knowledge base's documents, the users'
// interactions (user, item, rating, order) are kept beside them, and
// Engine::Recommend fuses several candidate sources and can have the chat
// model re-rank and explain the top ones (docs/RECOMMEND.md).
//
// Plain data: safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ragd/backend.h"
#include "ragd/filter.h"
#include "ragd/status.h"

namespace ragd {

struct Interaction {
  std::string user;
  std::string item;              // a document id of the knowledge base
  std::optional<double> rating;  // any scale; none = implicit (counts as liked)
  // Seconds since the epoch, or any increasing order; none = the order of
  // arrival (imports append in file order).
  std::optional<double> time;
};

// Reads interactions from CSV (a header naming user, item and optionally
// rating and time / timestamp / order) or JSONL (objects with those keys).
// Errors name the file and the line.
Result<std::vector<Interaction>> ReadInteractionsFile(const std::string& path);

struct InteractionImportReport {
  int64_t read = 0;
  int64_t added = 0;
  // Rows whose item is not a document of the knowledge base: not stored.
  int64_t unknown_items = 0;
  std::vector<std::string> unknown_examples;  // the first few such ids
  int64_t users = 0;   // distinct users in the knowledge base afterwards
  int64_t total = 0;   // interactions in the knowledge base afterwards
};

// The candidate sources, fused by weighted reciprocal rank. The defaults
// were chosen on goodbooks and MovieLens-100K leave-last-out (EVAL.md):
// co-occurrence carries most of the signal there; the embeddings and
// popularity add a little and break its ties.
struct RecommendWeights {
  double profile = 0.2;      // the user's liked items' embeddings, by rating and recency
  double item_knn = 1.0;     // items co-occurring with the history (cosine over users)
  double popularity = 0.05;  // most interacted-with
  double query = 1.0;        // the text query's hybrid search
};

struct RecommendOptions {
  std::string kb;
  std::string user;                // history from the stored interactions
  std::vector<std::string> like;   // liked items: a cold start, or added to the history
  std::string query;               // optional text
  int k = 10;
  std::vector<FilterCondition> filters;  // on the items' metadata
  bool include_seen = false;       // leave in items of the history
  RecommendWeights weights;
  int candidates = 200;            // taken from each source before fusion
  // Re-rank the top `rerank_top` fused items with the chat model from the
  // user's history titles, `rerank_repeats` times in shuffled orders (the
  // positions averaged: Hou et al. 2023); the output is held to a schema.
  bool rerank_llm = false;
  int rerank_top = 20;
  int rerank_repeats = 3;
  uint64_t seed = 1;               // of the shuffles
  bool explain = false;            // one reason per item, from the history
  BackendOptions chat;             // the model for rerank_llm and explain
};

struct Recommendation {
  std::string item;
  std::string title;
  double score = 0;                       // fused (or re-ranked) score, higher first
  std::map<std::string, int> sources;     // 1-based rank in each source that proposed it
  // The liked item it is closest to (co-occurrence, else embeddings): ""
  // without a history. The reason (explain) says how the two connect.
  std::string because, because_title;
  std::string reason;
};

struct HistoryItem {
  std::string item;
  std::string title;
};

struct RecommendResult {
  std::vector<Recommendation> items;
  int history = 0;                // interactions used as the history
  // The latest liked items (at most 20, oldest first): what the model sees
  // to re-rank and explain.
  std::vector<HistoryItem> recent;
  bool cold_start = false;        // no stored history for the user
  int rerank_calls = 0;           // model calls for the re-rank
  int rerank_invalid = 0;         // re-rank outputs refused (not the schema, unknown ids); their order is the fused one
  // The opening of each listed item's and liked item's text (what the
  // reasons are grounded in), by item id.
  std::map<std::string, std::string> snippets;
  int explain_calls = 0;
  int explain_missing = 0;        // items the model gave no valid reason for
  int prompt_tokens = 0, completion_tokens = 0;
  double seconds = 0;
  double model_seconds = 0;
};

class ChatModel;
class Engine;
class Prompts;

// Engine::Recommend, then, as the options ask, the model: re-ranks the top
// candidates (shuffled repeats, positions averaged) and writes one reason
// per item naming a liked item. A re-rank output that is not the schema's
// or names unknown candidates is counted and left out; the fused order
// stands where none is valid. model may be null when neither is asked.
Result<RecommendResult> RecommendWithModel(Engine& engine, ChatModel* model, const RecommendOptions& options,
                                           const Prompts& prompts);
// The options of the fused step before ApplyModel: k raised to rerank_top
// when the model re-ranks, so the re-rank sees all its candidates.
RecommendOptions FusedStepOptions(const RecommendOptions& options);
// The model's part alone, on fused items already in result (the
// evaluation's, from its own training interactions): re-ranks and cuts to
// options.k, then explains, as options ask.
Status ApplyModel(ChatModel& model, const Prompts& prompts, const RecommendOptions& options, RecommendResult& result);

}  // namespace ragd
