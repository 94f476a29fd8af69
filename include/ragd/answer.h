// Answers grounded in a knowledge base: prompt templates (files, with
// {{variables}}), the answer strategies (stuff, map-reduce, refine), [n]
// citations mapped back to their sources, refusals when the sources do not
// say, and the Assistant that runs a question or a conversation's turn.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/sessions.h"
#include "ragd/status.h"
#include "ragd/trace.h"

namespace ragd {


// The prompt templates. The defaults are the files of the repository's
// prompts/ folder, compiled into the library; a folder given to Load()
// overrides any of them file by file. A name is looked up as
// "<name>.<language>.txt" first ("answer.zh.txt"), then "<name>.txt".
class Prompts {
 public:
  static Result<Prompts> Load(const std::string& override_dir = "");
  // Renders template `name` for `language` ("en" | "zh"), replacing each
  // {{var}} with vars[var]. A variable the template uses but vars lacks is
  // an error naming the file, so a typo in an override is caught.
  Result<std::string> Render(const std::string& name, const std::string& language,
                             const std::map<std::string, std::string>& vars) const;
  // The raw text of a template (after language lookup), or NotFound.
  Result<std::string> Raw(const std::string& name, const std::string& language) const;
  // Names of all templates known, "answer.en.txt" etc.
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::string> files_;  // file name -> text
  std::map<std::string, std::string> origin_;  // file name -> "built-in" or path
};

// "zh" when the text is mostly Han characters (of its letters), else "en".
std::string DetectLanguage(std::string_view text);

// Citation numbers in an answer, in order of first appearance: [1], [2, 3],
// [1][2], 【1】 and full-width ［1］ are understood.
std::vector<int> ExtractCitations(std::string_view answer);

// Whether an answer is the not-found sentence (give the not_found prompt's
// text): ignoring case, punctuation and citation marks, it holds the
// sentence and little else.
bool IsRefusal(std::string_view answer, std::string_view not_found);

enum class AnswerStrategy { kStuff, kMapReduce, kRefine };
Result<AnswerStrategy> ParseAnswerStrategy(const std::string& name);
const char* AnswerStrategyName(AnswerStrategy s);

struct AskOptions {
  std::string kb;
  SearchMode mode = SearchMode::kHybrid;
  int k = 4;  // sources retrieved (before the token budget)
  // Answer "not in the knowledge base" when the best dense candidate's
  // cosine similarity is below this (dense and hybrid modes). Unset = the
  // value calibrated for the knowledge base's embedding model
  // (DefaultMinScore); negative = never refuse.
  std::optional<double> min_score;
  // Tokens for the numbered sources. 0 = the model's default (512 for a
  // local model, read on a CPU), else what its context leaves after the
  // rest of the prompt and max_tokens.
  int context_budget = 0;
  AnswerStrategy strategy = AnswerStrategy::kStuff;
  // Each source comes with its document's n neighbouring chunks, merged
  // (SearchOptions::neighbors), so an answer sees the passage around a hit.
  int neighbors = 0;
  bool no_retrieval = false;  // talk to the model directly
  // Passed to the search (SearchOptions): filters, and reranking when the
  // engine has a reranker.
  std::vector<FilterCondition> filters;
  bool rerank = true;
  int rerank_candidates = 0;
  // Citations are checked against the sources (AttributeCitations);
  // Answer::citations_corrected says when that changed them. Negative = off.
  double attribute_min_overlap = 0.4;
  // Before answering, ask the model whether the sources state the answer
  // (the check prompt); a reply starting with "no" refuses as an empty
  // retrieval does. The check shares the answer prompt's prefix, so
  // with a local model it costs its last few tokens. Stuff strategy only.
  bool check_sources = false;
  GenerateOptions generate;
};

struct Source {
  int n = 0;  // the number the prompt gave it
  SearchHit hit;
  bool cited = false;     // the answer cites [n]
  bool truncated = false; // cut to fit the budget
};

struct Answer {
  std::string question;
  std::string standalone_question;  // after condensing (= question without history)
  std::string language;             // "en" | "zh"
  std::string text;
  bool found = true;  // false: nothing relevant was retrieved, or the model said the sources do not say
  bool model_refused = false;  // the model answered with the not-found sentence
  bool check_refused = false;  // check_sources: the model judged the sources silent
  std::string check_reply;     // check_sources: what the model replied to the check
  double best_score = 0;   // cosine similarity of the best dense candidate
  double min_score = -1;   // the refusal threshold applied (-1 = none)
  std::vector<Source> sources;
  std::vector<int> unknown_citations;  // [n] the model wrote that match no source
  bool citations_corrected = false;  // ragd added or fixed [n] (AttributeCitations); text has them
  std::string model_text;              // the answer as the model wrote it
  int context_tokens = 0;  // tokens the sources took in the prompt
  ChatResult generation;   // the final model call
  double retrieval_seconds = 0;
  double prompt_seconds = 0;      // assembling and counting
  double generation_seconds = 0;  // every model call (condense, map, answer, summary)
  double condense_seconds = 0;
};

// Why an answer is a refusal: "retrieval" (nothing relevant came back),
// "check" (check_sources judged the sources silent), "model" (it wrote the
// not-found sentence); "" when found.
std::string RefusalReason(const Answer& a);

// The refusal threshold measured for an embedding model (docs/RAG.md):
// all-MiniLM-L6-v2 0.3, multilingual-e5-small 0.82; others -1 (never refuse).
double DefaultMinScore(const std::string& embed_model_id);

// How a source is shown: "handbook.md > Wire transfers", "policy.pdf p.2", "faq.csv row 3".
std::string SourceLabel(const SearchHit& hit);

// Thread-compatible: one Assistant (and its trace tags) per thread or request.
struct BuiltPrompt;  // the assembled prompt (private to the library)

class Assistant {
 public:
  // engine, model and prompts must outlive the assistant. tags, when given,
  // is updated with the session and question before each model call.
  Assistant(Engine* engine, ChatModel* model, const Prompts* prompts, std::shared_ptr<TraceTags> tags = nullptr);

  // Retrieves, assembles and answers; the final answer streams to on_token.
  Result<Answer> Ask(const std::string& question, const AskOptions& options, const TokenFn& on_token = {});

  // One turn of a conversation: condenses the question with the session's
  // memory, answers it, appends the turn and updates the memory. The caller
  // saves the session.
  Result<Answer> ChatTurn(Session* session, const std::string& question, const AskOptions& options,
                          const TokenFn& on_token = {});

 private:
  Result<Answer> Answer_(const std::string& question, const std::string& standalone, const std::string& language,
                         const std::vector<ChatMessage>& history, const AskOptions& options, const TokenFn& on_token);
  Result<ChatResult> Generate(const std::vector<ChatMessage>& messages, const GenerateOptions& g,
                              const TokenFn& on_token, Answer* answer);
  // check_sources: do the prompt's sources state the answer?
  Result<bool> SourcesStateAnswer(const BuiltPrompt& built, const std::string& language, const std::string& question,
                                  const GenerateOptions& g, Answer* answer);

  Engine* engine_;
  ChatModel* model_;
  const Prompts* prompts_;
  std::shared_ptr<TraceTags> tags_;
};

}  // namespace ragd
