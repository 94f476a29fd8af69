// Local chat: a GGUF model run in-process by llama.cpp.
//
// The prompt is rendered with the model's own chat template (the Jinja in its
// GGUF) through llama.cpp's chat library (common/chat.h), which also gives,
// for that template, the grammar that constrains tool calls and structured
// output and the parser that reads them back. A GGUF without a template is a
// base model: it gets ragd's `plain` text format. The key/value cache keeps
// the longest common prefix of the previous prompt so that a follow-up turn
// only evaluates what is new; with a prompt cache folder, the state of the
// stable prefix (system prompt, examples) is also kept on disk for the next
// process.
#include <chat.h>
#include <json-schema-to-grammar.h>
#include <sampling.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <unistd.h>

#include "core/text.h"
#include "models/llama_common.h"
#include "models/model_factory.h"

namespace ragd {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ragd's own prompt format for models without a chat template.
constexpr char kPlainTemplate[] = "plain";

// How a prompt is rendered: the GGUF's Jinja template (or one given as
// Jinja source, or "chatml"), ragd's plain text, or a template llama.cpp
// knows by name only (llama_chat_apply_template: no tools).
enum class TemplateKind { kJinja, kPlain, kNamed };

std::string NewCallId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::lock_guard<std::mutex> lock(mu);
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return id;
}

// What the generated text means so far: content and tool calls, parsed by
// the template's parser (partial while generating), and the deltas since
// the last look, handed to the caller's callbacks.
class OutputReader {
 public:
  // tools: the names of the functions offered (empty = no tools).
  OutputReader(bool parse, common_chat_parser_params params, std::set<std::string> tools, const TokenFn& on_token,
               const ToolCallFn& on_tool)
      : parse_(parse), params_(std::move(params)), tools_(std::move(tools)), on_token_(on_token), on_tool_(on_tool) {}

  // raw: the visible generated text (stop strings removed, whole UTF-8
  // characters). Returns false when a callback cancelled.
  Result<bool> Update(const std::string& raw, bool final) {
    common_chat_msg msg;
    if (!parse_) {
      msg.content = raw;
    } else {
      try {
        msg = common_chat_parse(raw, !final, params_);
      } catch (const std::exception& e) {
        if (!final) return true;  // not readable yet: wait for more text
        return Status::Unavailable(std::string("the model's output does not parse as its chat format (") +
                                   e.what() + "): '" + std::string(text::TruncateUtf8(raw, 200)) + "'");
      }
      // Small models sometimes write a call without its markup (Qwen's
      // <tool_call> tags): content that is exactly {"name": <an offered
      // tool>, "arguments": {...}} is that call. Such content is held back
      // until it is complete, so it is never streamed as text.
      if (!tools_.empty() && msg.tool_calls.empty()) {
        std::string_view body = text::Trim(msg.content);
        if (body.starts_with('{') || body.starts_with("`")) {
          if (!final) return true;
          if (body.starts_with("```")) {  // a Markdown code fence around it
            size_t nl = body.find('\n');
            body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
            if (body.ends_with("```")) body.remove_suffix(3);
            body = text::Trim(body);
          }
          // One call, or one call per line (a model that lost its markup
          // after the first call writes them so).
          std::vector<std::string_view> parts = {body};
          if (body.find('\n') != std::string_view::npos && !nlohmann::json::accept(body)) {
            parts.clear();
            for (size_t at = 0; at <= body.size();) {
              size_t nl = std::min(body.find('\n', at), body.size());
              if (std::string_view line = text::Trim(body.substr(at, nl - at)); !line.empty()) parts.push_back(line);
              at = nl + 1;
            }
          }
          std::vector<common_chat_tool_call> calls;
          for (std::string_view part : parts) {
            auto j = nlohmann::json::parse(part, nullptr, false);
            if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !tools_.count(j["name"]) ||
                (j.contains("arguments") && !j["arguments"].is_object()))
              break;
            calls.push_back({j["name"], j.value("arguments", nlohmann::json::object()).dump(), ""});
          }
          if (!calls.empty() && calls.size() == parts.size()) {
            msg.tool_calls = std::move(calls);
            msg.content.clear();
          }
        }
      }
      msg.set_tool_call_ids(ids_, NewCallId);
    }
    std::vector<common_chat_msg_diff> diffs;
    try {
      diffs = common_chat_msg_diff::compute_diffs(last_, msg);
    } catch (const std::exception&) {
      // A partial parse that read a call differently than before: wait for
      // the final parse rather than send a delta that contradicts one sent.
      if (!final) return true;
      diffs.clear();
    }
    last_ = std::move(msg);
    for (const auto& d : diffs) {
      if (!d.content_delta.empty() && on_token_ && !on_token_(d.content_delta)) return false;
      if (d.tool_call_index != std::string::npos && on_tool_) {
        ToolCallDelta td{static_cast<int>(d.tool_call_index), d.tool_call_delta.id, d.tool_call_delta.name,
                         d.tool_call_delta.arguments};
        if (!on_tool_(td)) return false;
      }
    }
    return true;
  }

  const common_chat_msg& message() const { return last_; }

 private:
  bool parse_;
  common_chat_parser_params params_;
  std::set<std::string> tools_;
  const TokenFn& on_token_;
  const ToolCallFn& on_tool_;
  common_chat_msg last_;
  std::vector<std::string> ids_;
};

// "0.5", not "0.500000".
std::string ScaleText(float scale) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(scale));
  return buf;
}

class LocalChatModel final : public ChatModel {
 public:
  ~LocalChatModel() override {
    templates_.reset();
    if (ctx_) llama_free(ctx_);
    if (model_) llama_model_free(model_);
  }

  Status Open(const BackendOptions& options, const std::string& path) {
    RAGD_ASSIGN_OR_RETURN(model_, llama::LoadModel(path, "chat model"));
    vocab_ = llama_model_get_vocab(model_);
    int trained = llama_model_n_ctx_train(model_);
    n_ctx_ = options.context_tokens > 0 ? options.context_tokens : std::min(trained > 0 ? trained : 4096, 4096);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx_;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
    cp.n_threads = cp.n_threads_batch = std::max(1, threads);
    ctx_ = llama_init_from_model(model_, cp);
    if (!ctx_) return Status::Unavailable("cannot create a llama.cpp context of " + std::to_string(n_ctx_) +
                                          " tokens for " + path + " (out of memory?)");
    n_ctx_ = static_cast<int>(llama_n_ctx(ctx_));
    // LoRA adapters change every key and value: part of the state's key.
    std::string adapters_key;
    if (!options.lora.empty()) {
      std::vector<llama_adapter_lora*> adapters;
      std::vector<float> scales;
      for (const LoraAdapter& a : options.lora) {
        RAGD_ASSIGN_OR_RETURN(llama_adapter_lora * adapter, llama::LoadLoraAdapter(model_, a.path));
        adapters.push_back(adapter);
        scales.push_back(a.scale);
        std::error_code ec;
        adapters_key += "|lora:" + std::filesystem::absolute(a.path, ec).string() + "@" + std::to_string(a.scale) + "#" +
                        std::to_string(std::filesystem::file_size(a.path, ec)) + "#" +
                        std::to_string(std::filesystem::last_write_time(a.path, ec).time_since_epoch().count());
      }
      if (llama_set_adapters_lora(ctx_, adapters.data(), adapters.size(), scales.data()) != 0)
        return Status::Internal("llama.cpp refused to apply the LoRA adapters to the context");
    }
    prompt_cache_dir_ = options.prompt_cache_dir;
    {
      // What a saved state is valid for: this file (as it is now) and context.
      std::error_code ec;
      auto size = std::filesystem::file_size(path, ec);
      auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
      state_key_ = std::filesystem::absolute(path, ec).string() + "|" + std::to_string(size) + "|" +
                   std::to_string(mtime) + "|" + std::to_string(n_ctx_) + "|" + std::to_string(cp.n_ubatch) + adapters_key;
    }
    name_ = llama::MetaString(model_, "general.name");
    if (name_.empty()) name_ = std::filesystem::path(path).stem().string();
    for (const LoraAdapter& a : options.lora)
      name_ += " + " + std::filesystem::path(a.path).stem().string() + (a.scale != 1.0f ? "@" + ScaleText(a.scale) : "");

    // The template: the caller's, else the GGUF's, else plain. A base
    // (pre-trained only) model has none; measured on Gemma 3 270M base,
    // chat markup made it emit junk while plain text with answer cues
    // works (docs/MODELS.md).
    const std::string& t = options.chat_template;
    const bool gguf_has_template = llama_model_chat_template(model_, nullptr) != nullptr;
    if (t == kPlainTemplate || (t.empty() && !gguf_has_template)) {
      kind_ = TemplateKind::kPlain;
    } else if (t.empty() || t == "chatml" || t.find("{%") != std::string::npos || t.find("{{") != std::string::npos) {
      kind_ = TemplateKind::kJinja;
      try {
        templates_ = common_chat_templates_init(model_, t);
      } catch (const std::exception& e) {
        return Status::InvalidArgument("the chat template of " + path + " does not parse as Jinja (" + e.what() +
                                       "); pass a known template name (e.g. chat_template = \"chatml\")");
      }
    } else {
      kind_ = TemplateKind::kNamed;
      named_template_ = t;
    }
    ChatMessage probe{"user", "x"};  // fails early on a template that cannot be applied
    GenerateOptions none;
    if (auto p = Render(std::span<const ChatMessage>(&probe, 1), none); !p.ok())
      return Status::InvalidArgument("the chat template of " + path + " cannot be applied (" +
                                     p.status().message() + "); pass a known template name (e.g. "
                                     "chat_template = \"chatml\")");
    return Status::OK();
  }

  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                          const TokenFn& on_token, const ToolCallFn& on_tool_call) override {
    RAGD_RETURN_IF_ERROR(CheckTools(options));
    std::lock_guard<std::mutex> lock(mu_);
    auto t0 = Clock::now();
    RAGD_ASSIGN_OR_RETURN(Rendered r, Render(messages, options));
    RAGD_ASSIGN_OR_RETURN(std::vector<llama_token> tokens, llama::Tokenize(vocab_, r.prompt, true, true));
    const int n_prompt = static_cast<int>(tokens.size());
    if (n_prompt + 1 >= n_ctx_)
      return Status::InvalidArgument("the prompt takes " + std::to_string(n_prompt) + " tokens, more than the " +
                                     std::to_string(n_ctx_) + "-token context of " + name_ +
                                     "; shorten it or raise context_tokens");
    const int max_new = std::min(options.max_tokens > 0 ? options.max_tokens : n_ctx_, n_ctx_ - n_prompt - 1);

    // Reuse the cached prefix; at least one token is evaluated for logits.
    // A fixed seed asks for reproducible output: evaluating the prompt in
    // other batch splits changes the logits in their last bits, so the whole
    // prompt is evaluated afresh then.
    size_t keep = 0;
    if (options.seed < 0)
      while (keep < cached_.size() && keep < tokens.size() && cached_[keep] == tokens[keep]) ++keep;
    if (keep == tokens.size() && keep > 0) --keep;
    // The stable prefix, whose state may come from (and go to) disk.
    const size_t stable = options.seed < 0 ? StablePrefix(messages, options, tokens) : 0;
    const std::string state_file = stable > 0 ? StateFile(tokens, stable) : "";
    if (keep < stable) LoadState(state_file, tokens, stable, &keep);
    llama_memory_t mem = llama_get_memory(ctx_);
    if (!llama_memory_seq_rm(mem, 0, static_cast<llama_pos>(keep), -1)) {
      llama_memory_clear(mem, true);
      keep = 0;
    }
    cached_.assign(tokens.begin(), tokens.begin() + keep);
    for (size_t i = keep; i < tokens.size();) {
      // A batch ends where the stable prefix does, so its state can be saved alone.
      size_t end = std::min(tokens.size(), i + 512);
      if (i < stable && end > stable) end = stable;
      int n = static_cast<int>(end - i);
      if (Status st = Decode(&tokens[i], n); !st.ok()) return st;
      cached_.insert(cached_.end(), tokens.begin() + i, tokens.begin() + end);
      i = end;
      if (i == stable) SaveState(state_file);
    }

    RAGD_ASSIGN_OR_RETURN(common_sampler_ptr sampler, MakeSampler(options, r));
    std::vector<std::string> stops = options.stop;
    stops.insert(stops.end(), r.additional_stops.begin(), r.additional_stops.end());
    // A base model does not end its turn: it answers in one paragraph, and
    // the first line break after some text ends the answer.
    const bool plain = kind_ == TemplateKind::kPlain && !options.ignore_eos && r.grammar.empty();
    OutputReader reader(r.parse, r.parser_params, r.tool_names, on_token, on_tool_call);
    ChatResult result;
    result.prompt_tokens = n_prompt;
    result.cached_prompt_tokens = static_cast<int>(keep);
    result.finish_reason = "length";
    std::string text;   // everything generated (after stop-string trimming)
    size_t hold = 0;    // bytes held back in case a stop string is forming
    for (const auto& s : stops) hold = std::max(hold, s.size());
    bool stopped = false, cancelled = false;
    for (int i = 0; i < max_new && !stopped; ++i) {
      llama_token tok;
      try {
        tok = common_sampler_sample(sampler.get(), ctx_, -1);
        common_sampler_accept(sampler.get(), tok, true);
      } catch (const std::exception& e) {
        return Status::Unavailable(std::string("llama.cpp's sampler failed: ") + e.what());
      }
      // End of generation, or a control token the template does not use
      // (e.g. an image marker a base model emits): the answer is over.
      const bool preserved = r.preserved.count(tok) > 0;
      if (!options.ignore_eos &&
          (llama_vocab_is_eog(vocab_, tok) ||
           (!preserved && (llama_vocab_get_attr(vocab_, tok) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED))))) {
        result.finish_reason = "stop";
        break;
      }
      if (result.completion_tokens == 0) result.first_token_seconds = Since(t0);
      ++result.completion_tokens;
      text += llama::TokenPiece(vocab_, tok, preserved);
      if (plain) {
        size_t content = text.find_first_not_of(" \n");
        if (size_t nl = content == std::string::npos ? std::string::npos : text.find('\n', content);
            nl != std::string::npos) {
          text.resize(nl);
          result.finish_reason = "stop";
          stopped = true;
        }
      }
      for (const auto& s : stops) {
        if (s.empty() || stopped) continue;
        if (size_t at = text.find(s); at != std::string::npos) {
          text.resize(at);
          result.finish_reason = "stop";
          stopped = true;
        }
      }
      if (!stopped) {
        // Whole UTF-8 characters only, minus what a stop string may claim.
        size_t ready = text.size() > hold ? text.size() - hold : 0;
        ready = text::CompleteUtf8Prefix(std::string_view(text).substr(0, ready));
        RAGD_ASSIGN_OR_RETURN(bool go_on, reader.Update(text.substr(0, ready), false));
        if (!go_on) {
          cancelled = true;
          break;
        }
        if (Status st = Decode(&tok, 1); !st.ok()) return st;
        cached_.push_back(tok);
      }
    }
    if (cancelled) {
      result.finish_reason = "cancelled";
    } else {
      auto done = reader.Update(text, result.finish_reason != "length");
      if (!done.ok() && result.finish_reason == "length") done = reader.Update(text, false);  // cut mid-call
      if (!done.ok()) return done.status();
      if (!*done) result.finish_reason = "cancelled";
    }
    const common_chat_msg& msg = reader.message();
    result.text = msg.content;
    for (const auto& c : msg.tool_calls) {
      auto args = nlohmann::json::parse(c.arguments.empty() ? "{}" : c.arguments, nullptr, false);
      if (args.is_discarded() || !args.is_object()) {
        // Cut off mid-call (by max_tokens, or a callback that stopped
        // generation as the call began): not a call.
        if (result.finish_reason == "length" || result.finish_reason == "cancelled") continue;
        return Status::Unavailable("the model called '" + c.name + "' with arguments that are not a JSON object: '" +
                                   std::string(text::TruncateUtf8(c.arguments, 200)) + "'");
      }
      result.tool_calls.push_back({c.id, c.name, args.dump()});
    }
    if (!result.tool_calls.empty() && result.finish_reason == "stop") result.finish_reason = "tool_calls";
    result.seconds = Since(t0);
    return result;
  }

  Result<int> CountTokens(std::string_view text) override {
    RAGD_ASSIGN_OR_RETURN(auto toks, llama::Tokenize(vocab_, std::string(text), false, false));
    return static_cast<int>(toks.size());
  }
  int context_tokens() const override { return n_ctx_; }
  // On two CPU cores a prompt is read at roughly 50-100 tokens/s: 512
  // tokens of sources keep the first token within seconds, and measured on
  // squad2-dev-5 they answer as well as the whole context did (docs/EVAL.md).
  int default_context_budget() const override { return 512; }
  std::string backend() const override { return "local"; }
  std::string model() const override { return name_; }

 private:
  // A prompt and what generating from it needs.
  struct Rendered {
    std::string prompt;
    std::string grammar;  // GBNF, empty = unconstrained
    bool grammar_lazy = false;
    std::vector<common_grammar_trigger> triggers;
    std::set<llama_token> preserved;  // special tokens the output may hold (e.g. <tool_call>)
    std::vector<std::string> additional_stops;
    std::string generation_prompt;
    bool parse = false;  // read tool calls with the template's parser
    std::set<std::string> tool_names;  // the functions offered
    common_chat_parser_params parser_params;
  };

  // A JSON schema for the output, or any object (json_object), as GBNF.
  // (Public: CheckOutputSchema uses it without a model.)
 public:
  static Result<std::string> SchemaGrammar(const GenerateOptions& o) {
    std::string schema = !o.json_schema.empty() ? o.json_schema : o.json_object ? "{\"type\":\"object\"}" : "";
    if (schema.empty()) return std::string();
    try {
      return json_schema_to_grammar(common_json::parse(schema));
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("the JSON schema cannot be turned into a grammar: ") + e.what());
    }
  }

 private:

  Result<Rendered> Render(std::span<const ChatMessage> messages, const GenerateOptions& o) {
    Rendered r;
    if (kind_ != TemplateKind::kJinja) {
      if (!o.tools.empty())
        return Status::InvalidArgument("the chat model " + name_ + " has no chat template with tool support (" +
                                       (kind_ == TemplateKind::kPlain ? std::string("it is a base model") :
                                                                        "template '" + named_template_ + "'") +
                                       "), so it cannot call tools; use an instruction-tuned GGUF");
      RAGD_ASSIGN_OR_RETURN(r.grammar, SchemaGrammar(o));
      for (const auto& m : messages)
        if (m.role == "tool" || !m.tool_calls.empty())
          return Status::InvalidArgument("tool messages need a chat template with tool support; " + name_ +
                                         " has none");
      if (kind_ == TemplateKind::kPlain) {
        r.prompt = RenderPlain(messages);
      } else {
        RAGD_ASSIGN_OR_RETURN(r.prompt, RenderNamed(messages));
      }
      return r;
    }
    common_chat_templates_inputs in;
    for (const auto& m : messages) {
      common_chat_msg cm;
      cm.role = m.role;
      cm.content = m.content;
      cm.tool_call_id = m.tool_call_id;
      cm.tool_name = m.name;
      for (const auto& c : m.tool_calls) cm.tool_calls.push_back({c.name, c.arguments, c.id});
      in.messages.push_back(std::move(cm));
    }
    in.add_generation_prompt = true;
    in.use_jinja = true;
    in.enable_thinking = false;
    in.parallel_tool_calls = o.parallel_tool_calls;
    const bool no_tools = o.tool_choice == "none";
    if (!no_tools) {
      for (const auto& t : o.tools) {
        // A named choice: only that function is offered, and a call is required.
        if (IsNamedToolChoice(o.tool_choice) && t.name != o.tool_choice)
          continue;
        in.tools.push_back({t.name, t.description, t.parameters.empty() ? "{\"type\":\"object\",\"properties\":{}}" : t.parameters});
        r.tool_names.insert(t.name);
      }
      in.tool_choice = o.tool_choice == "auto" || o.tool_choice.empty() ? COMMON_CHAT_TOOL_CHOICE_AUTO
                                                                      : COMMON_CHAT_TOOL_CHOICE_REQUIRED;
    }
    if (!o.json_schema.empty()) in.json_schema = o.json_schema;
    else if (o.json_object) in.json_schema = "{\"type\":\"object\"}";
    if (!in.json_schema.empty() && common_json::parse_no_throw(in.json_schema).is_discarded())
      return Status::InvalidArgument("the JSON schema is not valid JSON");
    common_chat_params p;
    try {
      p = common_chat_templates_apply(templates_.get(), in);
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (!in.json_schema.empty() && in.tools.empty())
        return Status::InvalidArgument("the JSON schema cannot be turned into a grammar: " + what);
      return Status::InvalidArgument("the chat template of " + name_ + " cannot render these messages: " + what);
    }
    r.prompt = std::move(p.prompt);
    r.grammar = std::move(p.grammar);
    r.grammar_lazy = p.grammar_lazy;
    // `required` (and a named choice) means a call from the first token, as
    // in OpenAI's API; llama.cpp's grammar lets free text come first, and a
    // small model then writes the call as Markdown and never gets to it.
    if (in.tool_choice == COMMON_CHAT_TOOL_CHOICE_REQUIRED && !r.grammar_lazy) {
      static const std::regex kLeadingText(R"((\nroot ::= [^\n]*?)until-[0-9]+\? (tool-calls))");
      r.grammar = std::regex_replace("\n" + r.grammar, kLeadingText, "$1$2").substr(1);
    }
    r.additional_stops = std::move(p.additional_stops);
    r.generation_prompt = p.generation_prompt;
    for (const auto& t : p.preserved_tokens) {
      auto ids = llama::Tokenize(vocab_, t, false, true);
      if (ids.ok() && ids->size() == 1) r.preserved.insert((*ids)[0]);
    }
    // Single-token trigger words become token triggers (as llama-server does).
    for (auto& t : p.grammar_triggers) {
      if (t.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD) {
        auto ids = llama::Tokenize(vocab_, t.value, false, true);
        if (ids.ok() && ids->size() == 1 && r.preserved.count((*ids)[0])) {
          t.type = COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN;
          t.token = (*ids)[0];
        }
      }
      r.triggers.push_back(std::move(t));
    }
    r.parse = !in.tools.empty() || p.format != COMMON_CHAT_FORMAT_CONTENT_ONLY;
    r.parser_params = common_chat_parser_params(p);
    r.parser_params.parse_tool_calls = !in.tools.empty();
    if (!p.parser.empty()) {
      try {
        r.parser_params.parser.load(p.parser);
      } catch (const std::exception& e) {
        return Status::Unavailable(std::string("llama.cpp could not load the output parser of this template: ") +
                                   e.what());
      }
    }
    return r;
  }

  // Paragraphs of text; an answer follows its question on the same line (the
  // prompts end with a cue such as "Answer:").
  static std::string RenderPlain(std::span<const ChatMessage> messages) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
      const auto& m = messages[i];
      if (m.role == "assistant") out += " " + m.content + "\n\n";
      else out += m.content + (i + 1 < messages.size() && messages[i + 1].role == "assistant" ? "" : "\n\n");
    }
    // The last message is the question: generation continues its line.
    while (!messages.empty() && messages.back().role != "assistant" && out.ends_with("\n")) out.pop_back();
    return out;
  }

  Result<std::string> RenderNamed(std::span<const ChatMessage> messages) {
    std::vector<llama_chat_message> msgs;
    size_t total = 0;
    for (const auto& m : messages) {
      msgs.push_back({m.role.c_str(), m.content.c_str()});
      total += m.content.size() + m.role.size();
    }
    std::string buf(2 * total + 256, '\0');
    const char* t = named_template_.c_str();
    int n = llama_chat_apply_template(t, msgs.data(), msgs.size(), true, buf.data(), static_cast<int32_t>(buf.size()));
    if (n > static_cast<int>(buf.size())) {
      buf.resize(n);
      n = llama_chat_apply_template(t, msgs.data(), msgs.size(), true, buf.data(), n);
    }
    if (n < 0) return Status::InvalidArgument("llama.cpp does not know the chat template '" + named_template_.substr(0, 60) + "'");
    buf.resize(n);
    return buf;
  }

  // How many leading tokens of the prompt belong to its stable messages
  // (0 without a prompt cache folder): the longest common prefix of the
  // prompt and those messages rendered alone, which works for any template.
  size_t StablePrefix(std::span<const ChatMessage> messages, const GenerateOptions& o,
                      const std::vector<llama_token>& tokens) {
    const size_t n_msgs = static_cast<size_t>(std::max(0, o.stable_prefix_messages));
    if (prompt_cache_dir_.empty() || n_msgs == 0 || n_msgs >= messages.size()) return 0;
    GenerateOptions plain_options;
    auto r = Render(messages.first(n_msgs), plain_options);
    if (!r.ok()) return 0;
    auto prefix = llama::Tokenize(vocab_, r->prompt, true, true);
    if (!prefix.ok()) return 0;
    size_t n = 0;
    while (n < prefix->size() && n + 1 < tokens.size() && (*prefix)[n] == tokens[n]) ++n;
    return n >= 16 ? n : 0;  // too short to be worth a file
  }

  std::string StateFile(const std::vector<llama_token>& tokens, size_t n) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the model's key and the tokens
    auto mix = [&h](const void* p, size_t len) {
      for (size_t i = 0; i < len; ++i) h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ull;
    };
    mix(state_key_.data(), state_key_.size());
    mix(tokens.data(), n * sizeof(llama_token));
    char name[32];
    std::snprintf(name, sizeof name, "%016llx.kv", static_cast<unsigned long long>(h));
    return (std::filesystem::path(prompt_cache_dir_) / name).string();
  }

  // Loads a saved prefix state into the cache: *keep becomes n, or 0 when
  // the file does not hold exactly these tokens (the cache is emptied).
  // Without a file nothing changes.
  void LoadState(const std::string& file, const std::vector<llama_token>& tokens, size_t n, size_t* keep) {
    std::error_code ec;
    if (file.empty() || !std::filesystem::is_regular_file(file, ec)) return;
    llama_memory_t mem = llama_get_memory(ctx_);
    llama_memory_clear(mem, true);
    cached_.clear();
    *keep = 0;
    std::vector<llama_token> saved(n_ctx_);
    size_t count = 0;
    if (llama_state_seq_load_file(ctx_, file.c_str(), 0, saved.data(), saved.size(), &count) == 0 || count != n ||
        !std::equal(tokens.begin(), tokens.begin() + n, saved.begin())) {
      llama_memory_clear(mem, true);
      std::filesystem::remove(file, ec);  // written anew by this call
      return;
    }
    *keep = n;
  }

  // Saves the cache (exactly the stable prefix at this point) for later
  // processes: written aside and renamed, so a reader never sees half a file.
  void SaveState(const std::string& file) {
    std::error_code ec;
    if (file.empty() || std::filesystem::exists(file, ec)) return;
    std::filesystem::create_directories(prompt_cache_dir_, ec);
    std::string tmp = file + ".tmp" + std::to_string(::getpid());
    if (llama_state_seq_save_file(ctx_, tmp.c_str(), 0, cached_.data(), cached_.size()) == 0) {
      std::filesystem::remove(tmp, ec);
      return;
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }

  Status Decode(llama_token* toks, int n) {
    llama_batch batch = llama_batch_get_one(toks, n);
    int rc = llama_decode(ctx_, batch);
    if (rc != 0) {
      cached_.clear();
      llama_memory_clear(llama_get_memory(ctx_), true);
      return Status::Unavailable("llama.cpp failed to evaluate the prompt (code " + std::to_string(rc) + ")");
    }
    return Status::OK();
  }

  Result<common_sampler_ptr> MakeSampler(const GenerateOptions& o, const Rendered& r) {
    common_params_sampling sp;
    // OpenAI's knobs only: temperature and top_p, plus the repeat penalty
    // (0 = the model's default: base models loop without one, instruct
    // models copy figures from their sources better without).
    double penalty = o.repeat_penalty > 0 ? o.repeat_penalty : kind_ == TemplateKind::kPlain ? 1.1 : 1.0;
    sp.samplers = {COMMON_SAMPLER_TYPE_PENALTIES, COMMON_SAMPLER_TYPE_TOP_P, COMMON_SAMPLER_TYPE_TEMPERATURE};
    sp.penalty_last_n = 64;
    sp.penalty_repeat = static_cast<float>(penalty);
    sp.top_k = 0;
    sp.min_p = 0;
    sp.top_p = static_cast<float>(o.temperature > 0 && o.top_p > 0 ? o.top_p : 1.0);
    sp.temp = static_cast<float>(std::max(0.0, o.temperature));
    sp.seed = o.seed >= 0 ? static_cast<uint32_t>(o.seed) : LLAMA_DEFAULT_SEED;
    sp.no_perf = true;
    if (!r.grammar.empty()) {
      sp.grammar = {r.parse ? COMMON_GRAMMAR_TYPE_TOOL_CALLS : COMMON_GRAMMAR_TYPE_OUTPUT_FORMAT, r.grammar};
      sp.grammar_lazy = r.grammar_lazy;
      sp.grammar_triggers = r.triggers;
      sp.generation_prompt = r.generation_prompt;
    }
    sp.preserved_tokens = r.preserved;
    try {
      common_sampler* s = common_sampler_init(model_, sp);
      if (!s) return Status::InvalidArgument("llama.cpp could not compile the output grammar");
      return common_sampler_ptr(s);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("llama.cpp could not compile the output grammar: ") + e.what());
    }
  }

  llama_model* model_ = nullptr;
  llama_context* ctx_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  int n_ctx_ = 0;
  TemplateKind kind_ = TemplateKind::kPlain;
  common_chat_templates_ptr templates_;
  std::string named_template_;
  std::string name_;
  std::vector<llama_token> cached_;  // tokens whose keys/values are in the cache
  std::string prompt_cache_dir_;     // BackendOptions::prompt_cache_dir
  std::string state_key_;            // model file and context a saved state fits
  std::mutex mu_;                    // one llama_context: calls are serialised
};

}  // namespace

Status CheckOutputSchema(const std::string& json_schema) {
  GenerateOptions o;
  o.json_schema = json_schema;
  if (common_json::parse_no_throw(json_schema).is_discarded())
    return Status::InvalidArgument("the JSON schema is not valid JSON");
  auto g = LocalChatModel::SchemaGrammar(o);
  return g.ok() ? Status::OK() : g.status();
}

Result<std::unique_ptr<ChatModel>> OpenLocalChatModel(const BackendOptions& options) {
  RAGD_ASSIGN_OR_RETURN(std::string path,
                        llama::ResolveModelPath(options.model.empty() ? kDefaultChatModel : options.model,
                                                "chat model"));
  auto m = std::make_unique<LocalChatModel>();
  RAGD_RETURN_IF_ERROR(m->Open(options, path));
  return std::unique_ptr<ChatModel>(std::move(m));
}

}  // namespace ragd
