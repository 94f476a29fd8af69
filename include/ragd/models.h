// Models: the chat and rerank interfaces (the embedding one is in
// embedder.h) and the factories that pick a backend:
//   local  — llama.cpp in-process with a GGUF file;
//   openai — any OpenAI-compatible server (OpenAI, vLLM, Ollama's /v1,
//            llama.cpp's llama-server);
//   ollama — Ollama's native /api/chat and /api/embed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/backend.h"
#include "ragd/embedder.h"
#include "ragd/status.h"

namespace ragd {

// A function the model may call. parameters is a JSON Schema (an object
// schema, as text); empty means no arguments.
struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters;
};

// A call the model asked for. arguments is a JSON object as text, as in
// OpenAI's API (the ollama backend converts to and from an object).
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" | "tool"
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this message answers
  std::string name;                  // tool: the function that answered
};

struct GenerateOptions {
  // 0 = greedy, the default: answers grounded in sources should not depend
  // on a dice roll, and greedy output repeats within one process.
  double temperature = 0;
  double top_p = 0.95;
  int max_tokens = 512;
  int64_t seed = -1;  // -1 = random
  std::vector<std::string> stop;
  // local: penalty on tokens repeated within the last 64 (1 = off, 0 = the
  // model's default: 1.1 for a base model, which loops ("1000000…")
  // without it, 1 for an instruct model, which copies figures better).
  double repeat_penalty = 0;
  // local: keep generating through end-of-generation tokens until
  // max_tokens (benchmarks; llama-bench does the same).
  bool ignore_eos = false;
  // A JSON schema the output must follow. local: compiled to a grammar
  // (a schema that cannot become one is InvalidArgument); openai:
  // response_format json_schema; ollama: format.
  std::string json_schema;
  // Any JSON object (OpenAI's response_format json_object), when no schema.
  bool json_object = false;
  // Functions the model may call, and whether it must: "auto" (its choice),
  // "none", "required" (at least one call), or a function's name (that one).
  std::vector<ToolSpec> tools;
  std::string tool_choice = "auto";
  bool parallel_tool_calls = true;
  // The leading messages that are the same from call to call (system
  // prompt, worked examples): with BackendOptions::prompt_cache_dir their
  // key/value state is saved once and loaded by later processes. 0 = none.
  int stable_prefix_messages = 0;
};

// "auto", "none", "required" or the name of one of tools → ok; anything else
// → InvalidArgument naming the choices. Tools must have unique, non-empty
// names and parameters that are JSON objects.
Status CheckTools(const GenerateOptions& options);

// Whether tool_choice names one function (not auto, none, required or empty).
bool IsNamedToolChoice(const std::string& tool_choice);

// Whether a JSON schema can constrain local generation (llama.cpp compiles
// it to a grammar): ok, or InvalidArgument saying what it cannot express.
Status CheckOutputSchema(const std::string& json_schema);

struct ChatResult {
  std::string text;             // the answer's content (without tool-call markup)
  std::vector<ToolCall> tool_calls;  // arguments always parse as JSON objects
  std::string finish_reason;  // "stop" | "length" | "tool_calls" | "cancelled"
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // of prompt_tokens, those whose keys/values were reused
  int completion_tokens = 0;
  double seconds = 0;              // whole call
  double first_token_seconds = 0;  // time to first token (0 = none generated)
};

// Called with each piece of text as it is generated. Return false to stop
// generation (the call then returns what was produced, finish_reason
// "cancelled").
using TokenFn = std::function<bool(std::string_view piece)>;

// A streamed piece of a tool call, in OpenAI's delta form: the first delta of
// call `index` carries its id and name, the later ones pieces of arguments.
struct ToolCallDelta {
  int index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};
using ToolCallFn = std::function<bool(const ToolCallDelta& delta)>;

// Thread-compatible: one Chat at a time per object (the local backend owns
// one llama.cpp context and its key/value cache; ragd serve sends every
// model call through one worker), unless max_parallel_calls() says more.
class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // on_token receives the content as it comes; on_tool_call the tool calls
  // (both may be empty). Either returning false cancels.
  virtual Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                                  const TokenFn& on_token = {}, const ToolCallFn& on_tool_call = {}) = 0;
  // Tokens text takes. Local models count exactly; remote backends estimate
  // (see docs/MODELS.md) because OpenAI-style APIs have no tokenize call.
  virtual Result<int> CountTokens(std::string_view text) = 0;
  // Tokens the model can attend to (prompt + answer).
  virtual int context_tokens() const = 0;
  // Tokens of sources an answer prompt gets when the caller sets no budget
  // (AskOptions::context_budget 0); 0 = all the context leaves.
  virtual int default_context_budget() const { return 0; }
  // Chat calls that may run at once on this object: 1 for the local backend
  // (one llama.cpp context); the remote ones open a connection per call and
  // keep no state, so several (the server serves them in its parallel slots
  // or queues them).
  virtual int max_parallel_calls() const { return 1; }
  virtual std::string backend() const = 0;
  virtual std::string model() const = 0;
};

Result<std::unique_ptr<ChatModel>> OpenChatModel(const BackendOptions& options);

// Cross-encoder relevance: one score per document, higher = more relevant.
// Thread-compatible, like ChatModel; the engine serialises its calls.
class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> documents) = 0;
  virtual std::string backend() const = 0;
  virtual std::string model() const = 0;
};

// local: a GGUF reranker (pooling type "rank"); openai: POST {base}/rerank
// (llama-server, vLLM, Jina-style APIs). Ollama has no rerank API.
Result<std::unique_ptr<Reranker>> OpenReranker(const BackendOptions& options);


// Rough token count for text when no tokenizer is at hand: one per CJK
// character, one per 4 bytes of other text, rounded up.
int EstimateTokens(std::string_view text);

}  // namespace ragd
