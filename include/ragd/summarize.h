// Summaries of documents of any length. A document is cut along its
// structure (headings, pages) into numbered parts that fit the model's
// context; `stuff` summarises them in one call, `map-reduce` summarises
// each part and combines the part summaries (again and again while they do
// not fit), `refine` walks the parts in order, rewriting the summary each
// time. Every sentence of the summary cites the parts it comes from, [n],
// checked against the parts like Assistant::Ask's citations.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ragd/answer.h"
#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/status.h"
#include "ragd/trace.h"

namespace ragd {

enum class SummaryStrategy { kAuto, kStuff, kMapReduce, kRefine };
Result<SummaryStrategy> ParseSummaryStrategy(const std::string& name);  // auto|stuff|map-reduce|refine
const char* SummaryStrategyName(SummaryStrategy s);

// A piece of a document as its loader or the knowledge base gives it.
struct SummarySection {
  std::string text;
  int page = 0;              // 1-based PDF page, 0 = none
  std::string heading_path;  // "Handbook > Cards > Fees"
};

// What gets summarised: a title (for the prompts) and the sections in order.
struct SummaryInput {
  std::string title;
  std::string source;  // file path or doc id, for messages
  std::vector<SummarySection> sections;
};

// A file read with ragd's loaders (the same as ingest's): PDF, DOCX, HTML,
// Markdown, text, CSV, JSON. max_bytes 0 = 256 MiB.
Result<SummaryInput> LoadSummaryInput(const std::string& path, int64_t max_bytes = 0);
// A document of a knowledge base, from its chunks (their overlaps removed).
Result<SummaryInput> KbSummaryInput(Engine& engine, const std::string& kb, const std::string& doc_id);

// One numbered part, as the prompts and the citations see it.
struct SummaryPart {
  int n = 0;
  std::string label;  // "Fees", "pp. 3-4", "part 2"
  std::string text;
  int tokens = 0;
  int page_first = 0, page_last = 0;
  std::string heading_path;
};

// Consecutive sections joined into parts of at most max_tokens each (a
// section longer than that is cut at paragraph, then sentence, then
// character boundaries); a new heading starts a new part when the current
// one is at least half full. count gives a text's tokens.
std::vector<SummaryPart> SplitIntoParts(const std::vector<SummarySection>& sections, int max_tokens,
                                        const std::function<int(std::string_view)>& count);

struct SummarizeOptions {
  SummaryStrategy strategy = SummaryStrategy::kAuto;
  int words = 150;               // about this long (Chinese: characters)
  std::string language = "auto";  // auto (the document's), en or zh
  std::string focus;              // "fees and penalties only"
  // Tokens per part; 0 = what the model's context leaves for the text of
  // one map call (about half of it, at most 3000).
  int part_tokens = 0;
  // Map calls at once: 0 = what the backend allows (ChatModel::
  // max_parallel_calls: 1 for the local model, 4 for remote servers); more
  // than 1 only where the backend allows it.
  int parallel = 0;
  double attribute_min_overlap = 0.2;  // citation check (AttributeCitations); negative = off
  GenerateOptions generate;            // max_tokens 0 = from words
};

// OK, or InvalidArgument naming the option (words, language): checked
// before a model is loaded.
Status CheckSummarizeOptions(const SummarizeOptions& options);

struct SummaryProgress {
  std::string stage;  // "map", "reduce", "refine", "stuff"
  int done = 0;
  int total = 0;
};
using SummaryProgressFn = std::function<void(const SummaryProgress&)>;

struct Summary {
  std::string text;      // with [n] citations of parts
  std::string language;  // en or zh
  SummaryStrategy strategy = SummaryStrategy::kStuff;  // the one used (auto resolved)
  std::vector<SummaryPart> parts;
  std::vector<int> cited;            // part numbers the text cites, in order
  bool citations_corrected = false;  // ragd added or fixed [n]
  int reduce_levels = 0;             // map-reduce: rounds of combining
  int model_calls = 0, prompt_tokens = 0, completion_tokens = 0;
  double seconds = 0;
};

// Not thread-safe (it drives one ChatModel; map calls run at once only
// where the model's max_parallel_calls() allows). Calls are traced by the
// model's trace wrapper, tagged by tags.
class Summarizer {
 public:
  Summarizer(ChatModel* model, const Prompts* prompts) : model_(model), prompts_(prompts) {}
  // on_token streams the final call's text (the summary as the model writes
  // it, before its citations are checked).
  Result<Summary> Summarize(const SummaryInput& input, const SummarizeOptions& options,
                            const SummaryProgressFn& progress = {}, const TokenFn& on_token = {});

 private:
  ChatModel* model_;
  const Prompts* prompts_;
};

}  // namespace ragd
