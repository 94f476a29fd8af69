// Local chat: a GGUF model run in-process by llama.cpp. The prompt is
// rendered with the model's own chat template (or, when the GGUF carries
// none, the template of its architecture), and the key/value cache keeps the
// longest common prefix of the previous prompt so that a follow-up turn only
// evaluates what is new.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/text.h"
#include "models/llama_common.h"
#include "models/model_factory.h"

namespace ragd {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Any well-formed JSON object: llama.cpp's core takes GBNF grammars, and the
// JSON-schema compiler lives outside its library, so the local backend
// guarantees JSON syntax but not the schema's shape (docs/MODELS.md).
// ragd's own prompt format for models without a chat template.
constexpr char kPlainTemplate[] = "plain";

constexpr char kJsonObjectGrammar[] = R"GBNF(
root    ::= object
value   ::= object | array | string | number | "true" | "false" | "null"
object  ::= "{" sp ( member ( "," sp member )* )? "}" sp
member  ::= string ":" sp value
array   ::= "[" sp ( value ( "," sp value )* )? "]" sp
string  ::= "\"" ( [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] ) )* "\"" sp
number  ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )? sp
sp      ::= [ \t\n]*
)GBNF";

class LocalChatModel final : public ChatModel {
 public:
  ~LocalChatModel() override {
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

    // The template: the caller's, else the GGUF's, else by architecture.
    if (!options.chat_template.empty()) {
      template_ = options.chat_template;
    } else if (const char* t = llama_model_chat_template(model_, nullptr)) {
      template_ = t;
    } else {
      // No template in the GGUF: a base (pre-trained only) model. Measured
      // on Gemma 3 270M base, the architecture's chat markup made it emit
      // junk, while plain text with answer cues works (docs/MODELS.md).
      template_ = kPlainTemplate;
    }
    ChatMessage probe{"user", "x"};  // fails early on a template llama.cpp cannot apply
    if (auto p = Render(std::span<const ChatMessage>(&probe, 1)); !p.ok())
      return Status::InvalidArgument("the chat template of " + path + " is not one llama.cpp can apply; pass a "
                                     "known template name (e.g. chat_template = \"chatml\")");
    name_ = llama::MetaString(model_, "general.name");
    if (name_.empty()) name_ = std::filesystem::path(path).stem().string();
    return Status::OK();
  }

  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                          const TokenFn& on_token) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto t0 = Clock::now();
    RAGD_ASSIGN_OR_RETURN(std::string prompt, Render(messages));
    RAGD_ASSIGN_OR_RETURN(std::vector<llama_token> tokens, llama::Tokenize(vocab_, prompt, true, true));
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
    llama_memory_t mem = llama_get_memory(ctx_);
    if (!llama_memory_seq_rm(mem, 0, static_cast<llama_pos>(keep), -1)) {
      llama_memory_clear(mem, true);
      keep = 0;
    }
    cached_.assign(tokens.begin(), tokens.begin() + keep);
    for (size_t i = keep; i < tokens.size();) {
      int n = static_cast<int>(std::min<size_t>(512, tokens.size() - i));
      if (Status st = Decode(&tokens[i], n); !st.ok()) return st;
      cached_.insert(cached_.end(), tokens.begin() + i, tokens.begin() + i + n);
      i += n;
    }

    RAGD_ASSIGN_OR_RETURN(llama_sampler * sampler, MakeSampler(options));
    std::vector<std::string> stops = options.stop;
    // A base model does not end its turn: it answers in one paragraph, and
    // the first line break after some text ends the answer.
    const bool plain = template_ == kPlainTemplate && !options.ignore_eos;
    ChatResult result;
    result.prompt_tokens = n_prompt;
    result.finish_reason = "length";
    std::string text;      // everything generated (after stop-string trimming)
    std::string pending;   // bytes not yet given to on_token
    size_t hold = 0;       // bytes held back in case a stop string is forming
    for (const auto& s : stops) hold = std::max(hold, s.size());
    bool stopped = false;
    for (int i = 0; i < max_new && !stopped; ++i) {
      llama_token tok = llama_sampler_sample(sampler, ctx_, -1);
      // End of generation, or a control token (e.g. an image marker a base
      // model emits): the answer is over.
      if (!options.ignore_eos &&
          (llama_vocab_is_eog(vocab_, tok) ||
           (llama_vocab_get_attr(vocab_, tok) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED)))) {
        result.finish_reason = "stop";
        break;
      }
      if (result.completion_tokens == 0) result.first_token_seconds = Since(t0);
      ++result.completion_tokens;
      std::string piece = llama::TokenPiece(vocab_, tok, false);
      text += piece;
      pending += piece;
      if (plain && !stopped) {
        size_t content = text.find_first_not_of(" \n");
        if (size_t nl = content == std::string::npos ? std::string::npos : text.find('\n', content);
            nl != std::string::npos) {
          size_t cut = text.size() - nl;
          text.resize(nl);
          pending.resize(pending.size() > cut ? pending.size() - cut : 0);
          result.finish_reason = "stop";
          stopped = true;
        }
      }
      for (const auto& s : stops) {
        if (s.empty() || stopped) continue;
        if (size_t at = text.find(s); at != std::string::npos) {
          size_t cut = text.size() - at;  // bytes to drop from the end
          text.resize(at);
          pending.resize(pending.size() > cut ? pending.size() - cut : 0);
          result.finish_reason = "stop";
          stopped = true;
          break;
        }
      }
      // Emit whole UTF-8 characters only, minus what a stop string may claim.
      size_t ready = stopped ? pending.size() : (pending.size() > hold ? pending.size() - hold : 0);
      ready = text::CompleteUtf8Prefix(std::string_view(pending).substr(0, ready));
      if (ready > 0 && on_token) {
        if (!on_token(std::string_view(pending).substr(0, ready))) {
          pending.erase(0, ready);
          result.finish_reason = "cancelled";
          stopped = true;
          break;
        }
      }
      pending.erase(0, ready);
      if (stopped) break;
      if (Status st = Decode(&tok, 1); !st.ok()) {
        llama_sampler_free(sampler);
        return st;
      }
      cached_.push_back(tok);
    }
    llama_sampler_free(sampler);
    if (!pending.empty() && on_token && result.finish_reason != "cancelled") on_token(pending);
    result.text = std::move(text);
    result.seconds = Since(t0);
    return result;
  }

  Result<int> CountTokens(std::string_view text) override {
    RAGD_ASSIGN_OR_RETURN(auto toks, llama::Tokenize(vocab_, std::string(text), false, false));
    return static_cast<int>(toks.size());
  }
  int context_tokens() const override { return n_ctx_; }
  std::string backend() const override { return "local"; }
  std::string model() const override { return name_; }

 private:
  Result<std::string> Render(std::span<const ChatMessage> messages) {
    if (template_ == kPlainTemplate) {
      // Paragraphs of text; an answer follows its question on the same line
      // (the prompts end with a cue such as "Answer:").
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
    std::vector<llama_chat_message> msgs;
    size_t total = 0;
    for (const auto& m : messages) {
      msgs.push_back({m.role.c_str(), m.content.c_str()});
      total += m.content.size() + m.role.size();
    }
    std::string buf(2 * total + 256, '\0');
    int n = llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(), true, buf.data(),
                                      static_cast<int32_t>(buf.size()));
    if (n > static_cast<int>(buf.size())) {
      buf.resize(n);
      n = llama_chat_apply_template(template_.c_str(), msgs.data(), msgs.size(), true, buf.data(), n);
    }
    if (n < 0) return Status::InvalidArgument("llama.cpp does not support the chat template '" + template_.substr(0, 60) + "'");
    buf.resize(n);
    return buf;
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

  Result<llama_sampler*> MakeSampler(const GenerateOptions& o) {
    llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (!o.json_schema.empty()) {
      llama_sampler* g = llama_sampler_init_grammar(vocab_, kJsonObjectGrammar, "root");
      if (!g) {
        llama_sampler_free(chain);
        return Status::Unavailable("llama.cpp could not compile ragd's JSON grammar");
      }
      llama_sampler_chain_add(chain, g);
    }
    if (o.repeat_penalty > 0 && o.repeat_penalty != 1.0)
      llama_sampler_chain_add(chain, llama_sampler_init_penalties(llama_vocab_n_tokens(vocab_), 64, static_cast<float>(o.repeat_penalty), 0, 0));
    if (o.temperature <= 0) {
      llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    } else {
      llama_sampler_chain_add(chain, llama_sampler_init_top_p(static_cast<float>(o.top_p > 0 ? o.top_p : 1.0), 1));
      llama_sampler_chain_add(chain, llama_sampler_init_temp(static_cast<float>(o.temperature)));
      uint32_t seed = o.seed >= 0 ? static_cast<uint32_t>(o.seed) : LLAMA_DEFAULT_SEED;
      llama_sampler_chain_add(chain, llama_sampler_init_dist(seed));
    }
    return chain;
  }

  llama_model* model_ = nullptr;
  llama_context* ctx_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  int n_ctx_ = 0;
  std::string template_;
  std::string name_;
  std::vector<llama_token> cached_;  // tokens whose keys/values are in the cache
  std::mutex mu_;                    // one llama_context: calls are serialised
};

}  // namespace

Result<std::unique_ptr<ChatModel>> OpenLocalChatModel(const BackendOptions& options) {
  RAGD_ASSIGN_OR_RETURN(std::string path,
                        llama::ResolveModelPath(options.model.empty() ? kDefaultChatModel : options.model,
                                                "chat model"));
  auto m = std::make_unique<LocalChatModel>();
  RAGD_RETURN_IF_ERROR(m->Open(options, path));
  return std::unique_ptr<ChatModel>(std::move(m));
}

}  // namespace ragd
