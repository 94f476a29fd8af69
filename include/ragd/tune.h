// Fusion tuned per knowledge base from its own questions (`ragd kb tune`),
// and the same grid on a set's real judgements (`ragd eval retrieval
// --grid`, the ceiling). docs/RETRIEVAL.md has the measurements.
//
// Plain data: safe to copy between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "ragd/eval.h"
#include "ragd/models.h"
#include "ragd/search.h"
#include "ragd/status.h"

namespace ragd {

class Engine;
class Prompts;

// One way to merge the BM25 and dense lists.
struct FusionChoice {
  Fusion fusion = Fusion::kZScore;
  double lexical_weight = 0.7;  // rrf, minmax, zscore
  int rrf_k = 60;               // rrf
  double mmr_lambda = -1;       // off
  std::string Describe() const;  // "zscore 0.7", "rrf 0.6 k=30", "zscore 0.5 + mmr 0.9"
};

// A question and what answers it: relevance grades (> 0) of chunk ids
// (as text, TuneUnit::kChunk) or document ids (kDocument).
struct TuneQuestion {
  std::string text;
  std::map<std::string, int> relevant;
};
enum class TuneUnit { kChunk, kDocument };

// A choice's mean nDCG@10: on the half it is chosen on, on the other half
// (held out) and on every question.
struct FusionTrial {
  FusionChoice choice;
  std::string name;  // "bm25", "dense", "default", "dispersion" or Describe()
  double ndcg_tune = 0;
  double ndcg_check = 0;
  double ndcg_all = 0;
};

struct FusionTuning {
  int questions = 0;           // scored (every other one in each half)
  std::vector<FusionTrial> trials;  // the whole grid, in the order tried
  FusionTrial bm25, dense, default_fusion, dispersion;
  FusionTrial chosen;  // the best on the tune half (MMR tried on top of it)
  FusionTrial oracle;  // the best on every question: the ceiling
  double seconds = 0;
};

// Scores the grid — z-score and min-max weights 0..1 by 0.1, weighted RRF
// with k 10, 30, 60, the dispersion rule, then MMR 0.9 and 0.7 on the best —
// on questions whose answers are known. Each question is searched once
// (hybrid, 200 candidates a list) and its lists fused every way in memory;
// MMR needs the stored vectors and runs as real searches. Questions with
// empty text or nothing relevant are skipped.
Result<FusionTuning> ScoreFusions(Engine& engine, const std::string& kb, std::span<const TuneQuestion> questions,
                                  TuneUnit unit, const std::function<void(int64_t done, int64_t total)>& progress = {});

// The grid on a BEIR-layout set's real judgements (documents): the
// ceiling a tuning on generated questions can reach. Builds or reuses the
// set's knowledge base as EvaluateRetrieval does (its name into *kb).
Result<FusionTuning> TuneOnBeir(Engine& engine, const RetrievalEvalOptions& options, std::string* kb,
                                const ProgressFn& progress = {});

struct TuneOptions {
  std::string kb;
  int sample_chunks = 60;  // chunks the model writes questions from, spread over the knowledge base
  int per_chunk = 2;
  // A question is generic, and dropped, when this many chunks besides its
  // own among its 20 best hits hold at least 0.8 of its terms.
  int max_other_sources = 3;
  bool store = true;  // write the choice and its figures into the settings
};

struct TuneReport {
  int64_t chunks = 0;      // sampled
  int64_t generated = 0;   // questions the model wrote
  int64_t dropped = 0;     // by dataset synth's filters (malformed, not questions, unsupported, duplicates)
  int64_t generic = 0;     // answerable from too many chunks
  int64_t used = 0;
  FusionTuning tuning;
  std::string model;
  double seconds = 0;       // all of it
  double model_seconds = 0;  // writing the questions
};

// The stages of a tuning run, for progress: "questions" (chunks done of
// sampled), then "searches" (questions searched of all).
using TuneProgressFn = std::function<void(const std::string& stage, int64_t done, int64_t total)>;

// Writes questions from a sample of the knowledge base's chunks with the
// model (dataset synth, one relevant chunk each), drops generic ones,
// scores the grid and, with options.store, keeps the choice as the
// knowledge base's search.* settings and the figures as tune.* settings.
Result<TuneReport> TuneKnowledgeBase(Engine& engine, ChatModel& model, const Prompts& prompts, const TuneOptions& options,
                                     const TuneProgressFn& progress = {});

// The settings a choice and its figures become (search.fusion, …, tune.*).
std::map<std::string, std::string> TuningSettings(const TuneReport& report);

// Knowledge bases from this many chunks on are tuned after their first
// ingest when a chat model is at hand (the CLI's `ingest`).
constexpr int64_t kAutoTuneChunks = 1000;

}  // namespace ragd
