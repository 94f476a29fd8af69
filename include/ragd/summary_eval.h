// Summary evaluation (`ragd eval summaries`): a folder of documents and
// reference summaries, each document summarised by the methods asked for
// (the extractive baselines lead-N and central, and the model's strategies),
// and each summary scored against the references: ROUGE-1/2/L, BERTScore
// (greedy matching of a packaged embedding model's token vectors), length
// ratio, faithfulness by the model as judge, seconds and tokens.
//
// The folder: docs.jsonl ({"_id", "title", "text"}) and summaries.jsonl
// ({"_id", "summary"} or {"_id", "summaries": [...]}; both are references).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ragd/embedder.h"
#include "ragd/status.h"
#include "ragd/summarize.h"

namespace ragd {

struct SummaryEvalDoc {
  std::string id;
  std::string title;
  std::string text;
  std::vector<std::string> references;
  // A reference's opening (its first 30 words or characters) is in the text
  // as written: the document still holds its abstract, and lead-N copies it.
  bool reference_in_text = false;
};

// Reads the folder's documents that have references, in file order. Errors
// name the file and line of the first bad record; a reference whose _id is
// not a document is an error too.
Result<std::vector<SummaryEvalDoc>> ReadSummaryEvalSet(const std::string& folder,
                                                       const std::string& docs_file = "docs.jsonl",
                                                       const std::string& summaries_file = "summaries.jsonl");

// Methods: "lead" and "central" (no model), and the model's strategies
// "auto", "stuff", "map-reduce", "refine".
Status CheckSummaryEvalMethods(const std::vector<std::string>& methods);
bool IsModelSummaryMethod(const std::string& method);

struct SummaryEvalOptions {
  std::vector<std::string> methods = {"lead", "central", "auto"};
  // About this long (words; Chinese: characters); 0 = each document's
  // first reference's length, so that every method aims at the same length.
  int words = 0;
  bool use_title = true;  // false: the title is not shown to the model (it may leak the reference)
  bool judge = true;      // faithfulness of model summaries (model calls)
  SummarizeOptions summarize;  // strategy and words are set per document and method
};

// One summary's judged sentence.
struct JudgedSentence {
  std::string sentence;
  std::vector<int> parts;  // the parts its context came from
  bool supported = false;
};

struct SummaryEvalRecord {
  std::string id;
  std::string method;
  std::string model;      // the chat model, "" for the baselines
  std::string language;   // en or zh: the document's
  std::string summary;    // as written, with [n] citations
  std::vector<std::string> references;
  double rouge1 = 0, rouge2 = 0, rougeL = 0;  // F1, best reference
  double bert_precision = 0, bert_recall = 0, bert_f1 = 0;
  std::string bert_model;  // "all-MiniLM-L6-v2/384, layer 6 of 6"
  int length = 0, reference_length = 0;  // SummaryLength
  double length_ratio = 0;               // length / first reference's
  std::optional<double> faithfulness;    // share of judged sentences supported
  std::vector<JudgedSentence> judged;
  std::string strategy;  // the one used, for model methods
  int parts = 0, model_calls = 0, prompt_tokens = 0, completion_tokens = 0;
  double seconds = 0;  // summarising only, not scoring or judging
  std::string error;   // the method failed on this document (not scored)
};

// The BERTScore model of a language: a packaged name or GGUF path, empty =
// all-MiniLM-L6-v2 for English, multilingual-e5-small for Chinese.
struct SummaryScorers {
  std::function<Result<Embedder*>(const std::string& language)> embedder;
};

// Summarises and scores one document with one method. model and prompts
// may be null for the baselines. Errors of the method itself land in
// record.error; an error returned is the scorer's or the judge's.
Result<SummaryEvalRecord> EvaluateSummary(const SummaryEvalDoc& doc, const std::string& method, ChatModel* model,
                                          const Prompts* prompts, const SummaryEvalOptions& options,
                                          const SummaryScorers& scorers);

// Means per (method, model), in order of first appearance.
struct SummaryMethodReport {
  std::string method;
  std::string model;
  int docs = 0;    // scored
  int errors = 0;  // the method failed
  double rouge1 = 0, rouge2 = 0, rougeL = 0;
  double bert_precision = 0, bert_recall = 0, bert_f1 = 0;
  double length_ratio = 0;
  std::optional<double> faithfulness;  // over the judged summaries
  int judged = 0;
  double seconds_per_doc = 0;
  double tokens_per_doc = 0;  // prompt + completion
  // ROUGE-L wins against lead on the same documents (model methods).
  int rougeL_above_lead = 0, paired_with_lead = 0;
};
std::vector<SummaryMethodReport> SummarizeSummaryEval(const std::vector<SummaryEvalRecord>& records);

}  // namespace ragd
