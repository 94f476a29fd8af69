// Answer evaluation on a BEIR-layout folder with answers.jsonl: for each
// question, retrieve and answer with the configured model, then score the
// answer against the reference answers and the retrieved context.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/rag.h"

namespace ragd {

struct AnswerEvalRecord;
struct UnanswerableRecord;
// Called as each question is scored, so a long run's results are kept as
// they come (the CLI appends them to its JSONL file).
struct AnswerEvalSink {
  std::function<void(const AnswerEvalRecord&)> answered;
  std::function<void(const UnanswerableRecord&)> unanswerable;
};

// One question's scores; judge metrics are unset when not judged or when
// the answer has no claim to check.
struct AnswerScores {
  double context_recall_exact = 0;
  double context_recall_normalized = 0;
  double exact_match = 0;
  double f1 = 0;
  double reference_recall = 0;
  double rouge1 = 0, rouge2 = 0, rougeL = 0, rougeS = 0;
  double semantic_similarity = 0;
  std::optional<double> faithfulness;
  std::optional<double> answer_relevancy;
  // 1 when the answer cites a passage qrels names for the question, 0 when
  // it cites others only or none; unset when it refused or has no qrels.
  std::optional<double> citation_accuracy;
};

struct AnswerEvalRecord {
  std::string id;
  std::string question;
  std::vector<std::string> references;
  std::string answer;
  bool found = true;
  std::string refusal;  // when not found: "retrieval", "check" or "model" (RefusalReason)
  std::vector<std::string> sources;  // labels of the retrieved passages
  AnswerScores scores;
  std::vector<std::string> claims;   // what the judge extracted
  std::vector<std::string> cited_doc_ids;
  int prompt_tokens = 0;            // the answer call's whole prompt
  int cached_prompt_tokens = 0;     // of them, reused from the previous call
  double first_token_seconds = 0;   // of the answer call
  double seconds = 0;
};

// A question the corpus cannot answer, and what ragd said.
struct UnanswerableRecord {
  std::string id;
  std::string question;
  std::string answer;
  bool refused = false;
  std::string refusal;  // as AnswerEvalRecord::refusal
  int prompt_tokens = 0;
  double seconds = 0;
};

struct AnswerEvalOptions {
  std::string beir_dir;
  std::string split = "test";
  std::string kb;       // empty = the corpus knowledge base of `eval retrieval`
  AskOptions ask;       // retrieval and generation (kb is filled in)
  int limit = 0;        // the first N judged questions with answers (0 = all)
  bool judge = true;    // faithfulness and answer relevancy (model calls)
  int relevancy_questions = 3;  // questions regenerated from each answer
  // A JSONL file of questions the corpus cannot answer ({"_id", "text"},
  // e.g. squad2-dev-5's unanswerable.jsonl): each is asked, and the share
  // ragd refuses is reported. Empty = none.
  std::string unanswerable_file;
  int unanswerable_limit = 0;  // the first N of them (0 = all)
  // Questions an earlier, interrupted run of the same settings already
  // scored (the CLI's --resume reads them back from its JSONL file): they
  // are not asked again, are not passed to the sink, and count in the
  // report as if scored now. Matched by question id.
  std::vector<AnswerEvalRecord> done;
  std::vector<UnanswerableRecord> done_unanswerable;
};

struct AnswerEvalReport {
  std::string kb;
  std::vector<AnswerEvalRecord> records;
  AnswerScores mean;  // judge metrics averaged over the questions that have them
  int judged_faithfulness = 0, judged_relevancy = 0, judged_citations = 0;
  // Refusals: answerable questions wrongly refused, and (with
  // unanswerable_file) the unanswerable ones and how many were refused.
  int answerable_refused = 0;
  std::vector<UnanswerableRecord> unanswerable;
  int unanswerable_refused = 0;
  std::string semantic_method;  // how semantic_similarity was computed
  double seconds = 0;
};

// Metric names in report order, and a record's value for one (nullopt when unset).
const std::vector<std::string>& AnswerMetricNames();
std::optional<double> AnswerMetric(const AnswerScores& s, const std::string& name);
// Sets one metric by name (the inverse of AnswerMetric); false for an unknown name.
bool SetAnswerMetric(AnswerScores& s, const std::string& name, double value);

Result<AnswerEvalReport> EvaluateAnswers(Engine& engine, ChatModel& model, const Prompts& prompts,
                                         const AnswerEvalOptions& options, const ProgressFn& progress = {},
                                         const AnswerEvalSink& sink = {});

// A box plot (min, quartiles, median, max and mean) of each metric over the
// questions, as a standalone SVG document.
std::string AnswerMetricsSvg(const AnswerEvalReport& report);

}  // namespace ragd
