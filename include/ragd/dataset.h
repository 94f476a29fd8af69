// Fine-tuning data from a knowledge base: question and answer pairs the
// chat model writes from its chunks (self-instruct), kept only when the
// chunk supports the answer and the question is new; and real
// conversations (chat sessions, traces) in the same formats.
//
// Plain data: safe to copy between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ragd/models.h"
#include "ragd/status.h"

namespace ragd {

class Engine;
class Prompts;

// JSON Lines layouts fine-tuning tools read:
//   openai   {"messages": [{"role": "user", "content": …}, {"role": "assistant", …}]}
//   alpaca   {"instruction": …, "input": …, "output": …} (the last exchange; earlier turns in "history")
//   sharegpt {"conversations": [{"from": "human", "value": …}, {"from": "gpt", "value": …}]}
enum class DatasetFormat { kOpenAi, kAlpaca, kShareGpt };
Result<DatasetFormat> ParseDatasetFormat(const std::string& name);
const char* DatasetFormatName(DatasetFormat format);

// One training example: alternating user and assistant messages (a system
// message may come first), and where it came from.
struct Conversation {
  std::vector<ChatMessage> messages;
  std::string source;  // a chunk's document, a session id, a trace's time
};

// One JSON line (no newline) of the conversation in the format.
std::string FormatConversation(const Conversation& c, DatasetFormat format);

struct SynthOptions {
  std::string kb;
  int per_chunk = 2;      // pairs asked for per chunk, 1..10
  int max_chunks = 0;     // chunks used, spread evenly over the knowledge base; 0 = all
  std::string language = "auto";  // of the prompts: "en", "zh", or each chunk's own
  // The chunk supports the answer when every sentence of it shares at least
  // this part of its terms with the chunk (the citation check's measure).
  double min_support = 0.5;
  // A question whose embedding is at least this similar (cosine) to a kept
  // one, and which shares half its terms with it, is a near duplicate.
  double max_similarity = 0.9;
  // Put the chunk before the question in the user turn (for tuning a model
  // to answer from retrieved context) instead of the question alone.
  bool with_context = false;
  double validation_fraction = 0.1;  // of the kept pairs, by a hash of the question
  int max_tokens = 400;              // per model call
};

struct SynthPair {
  std::string question;
  std::string answer;
  std::string doc_id;
  int64_t chunk_id = 0;
  std::string chunk_text;
  double support = 0;  // the least share of an answer sentence's terms in the chunk
  double similarity = 0;  // cosine to the closest question kept before it
  std::string closest;    // that question
  bool validation = false;
  std::string dropped;  // rejected pairs: "malformed", "not a question", "unsupported" or "duplicate"
};

struct SynthReport {
  int64_t chunks = 0;        // chunks given to the model
  int64_t generated = 0;     // pairs it wrote
  int64_t malformed = 0;     // output that was not the schema's, or an empty question or answer
  int64_t not_questions = 0; // a "question" without a question mark, or an answer that repeats it
  int64_t unsupported = 0;   // answers the chunk does not support
  int64_t duplicates = 0;    // near-duplicate questions
  int64_t kept = 0;
  int64_t train = 0;
  int64_t validation = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double seconds = 0;
};

// Called after each chunk: (chunks done, chunks in all).
using SynthProgressFn = std::function<void(int64_t done, int64_t total)>;

// Writes pairs from the knowledge base's chunks with the model. *pairs gets
// the kept ones in chunk order. A model call that fails stops the run with
// its error; pairs kept so far stay in *pairs. *rejected (when given) gets
// every dropped pair with its reason, for a look at what the filters did
// (a reply that did not parse has no pairs to give).
Result<SynthReport> SynthesizeDataset(Engine& engine, ChatModel& model, const Prompts& prompts, const SynthOptions& options,
                                      std::vector<SynthPair>* pairs, const SynthProgressFn& progress = {},
                                      std::vector<SynthPair>* rejected = nullptr);

// A kept pair as a training conversation.
Conversation PairConversation(const SynthPair& pair, bool with_context);

// The knowledge base's chat sessions, one conversation per session (its
// questions and answers in turn order), oldest first.
Result<std::vector<Conversation>> SessionConversations(Engine& engine, const std::string& kb);

// Successful chat calls of a trace file (traces.jsonl), one conversation
// each: the messages the model was given and its answer. Lines that do not
// parse are counted in *skipped.
Result<std::vector<Conversation>> TraceConversations(const std::string& trace_file, int64_t* skipped);

// Writes conversations as JSON Lines to path atomically (a temporary file
// renamed into place): a failed write leaves no half file.
Status WriteConversations(const std::string& path, const std::vector<Conversation>& conversations, DatasetFormat format);

}  // namespace ragd
