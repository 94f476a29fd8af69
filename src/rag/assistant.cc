// The answer chains: retrieve, refuse when nothing relevant came back,
// then stuff / map-reduce / refine, and read the citations back. Chat turns
// add condensing and memory on top.
#include <cctype>
#include <chrono>
#include <map>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "rag/context.h"
#include "ragd/rag.h"

namespace ragd {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Refine feeds one source at a time; each is cut to this many bytes.
constexpr size_t kRefineSourceBytes = 3000;
// Helper calls (condense, map, summary) are short and deterministic.
GenerateOptions HelperOptions(const GenerateOptions& g, int max_tokens) {
  GenerateOptions h = g;
  h.temperature = 0;
  h.max_tokens = max_tokens;
  h.json_schema.clear();
  h.json_object = false;
  h.tools.clear();
  return h;
}

std::string FirstLine(std::string_view s) {
  s = text::Trim(s);
  size_t nl = s.find('\n');
  return std::string(text::Trim(s.substr(0, nl)));
}

}  // namespace

bool IsRefusal(std::string_view answer, std::string_view not_found) {
  // Letters and digits only, lowercased: punctuation, spacing and citation
  // marks do not matter.
  auto squeeze = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
      int len = 1;
      char32_t c = text::DecodeAt(s, i, &len);
      if (len <= 0) len = 1;
      const bool punct = (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) ||
                         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65);
      if (c >= 0x80 ? !punct : std::isalnum(static_cast<unsigned char>(c)) != 0)
        out.append(s.substr(i, len).data(), len);
      i += len;
    }
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  std::string a = squeeze(answer), nf = squeeze(not_found);
  if (a.empty() || nf.empty()) return false;
  // The sentence itself, or (cited, reworded a little) most of the answer is it.
  return a.find(nf) != std::string::npos && a.size() < nf.size() * 2;
}

std::string RefusalReason(const Answer& a) {
  if (a.found) return "";
  if (a.check_refused) return "check";
  if (a.model_refused) return "model";
  return "retrieval";
}

double DefaultMinScore(const std::string& embed_model_id) {
  // Measured on the example knowledge base: off-topic questions vs questions
  // it answers (docs/RAG.md has the table).
  if (embed_model_id.starts_with("all-MiniLM-L6-v2/")) return 0.3;
  if (embed_model_id.starts_with("multilingual-e5-small/")) return 0.82;
  return -1;
}

Assistant::Assistant(Engine* engine, ChatModel* model, const Prompts* prompts, std::shared_ptr<TraceTags> tags)
    : engine_(engine), model_(model), prompts_(prompts), tags_(std::move(tags)) {}

Result<ChatResult> Assistant::Generate(const std::vector<ChatMessage>& messages, const GenerateOptions& g,
                                       const TokenFn& on_token, Answer* answer) {
  auto t0 = Clock::now();
  auto r = model_->Chat(messages, g, on_token);
  if (answer) answer->generation_seconds += Since(t0);
  return r;
}

// check_sources: the answer prompt's messages with the last one asking
// whether its sources state the answer.
Result<bool> Assistant::SourcesStateAnswer(const BuiltPrompt& built, const std::string& language,
                                           const std::string& question, const GenerateOptions& g, Answer* a) {
  RAGD_ASSIGN_OR_RETURN(std::string user, prompts_->Render("check", language, {{"sources", built.sources_text},
                                                                           {"question", question}}));
  std::vector<ChatMessage> msgs = built.messages;
  msgs.back().content = std::move(user);
  // Free text, read by its first word: held to a JSON enum, the 0.5B
  // default model says "yes" to anything once it has written the quote.
  GenerateOptions h = HelperOptions(g, 3);
  h.stable_prefix_messages = built.stable_messages;
  RAGD_ASSIGN_OR_RETURN(ChatResult r, Generate(msgs, h, {}, a));
  a->check_reply = std::string(text::Trim(r.text));
  std::string word;
  for (char c : text::Trim(r.text)) {
    if (!std::isalpha(static_cast<unsigned char>(c))) break;
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return word != "no";  // anything but a plain no lets the answer through
}

Result<Answer> Assistant::Ask(const std::string& question, const AskOptions& options, const TokenFn& on_token) {
  if (text::Trim(question).empty()) return Status::InvalidArgument("the question is empty");
  if (text::FindInvalidUtf8(question) != std::string::npos)
    return Status::InvalidArgument("the question is not valid UTF-8");
  if (tags_) tags_->question = question;
  return Answer_(question, question, DetectLanguage(question), {}, options, on_token);
}

Result<Answer> Assistant::Answer_(const std::string& question, const std::string& standalone,
                                  const std::string& language, const std::vector<ChatMessage>& history,
                                  const AskOptions& options, const TokenFn& on_token) {
  Answer a;
  a.question = question;
  a.standalone_question = standalone;
  a.language = language;
  const GenerateOptions& g = options.generate;

  if (options.no_retrieval) {
    auto t0 = Clock::now();
    std::vector<ChatMessage> msgs;
    for (const auto& m : history)
      if (m.role != "system") msgs.push_back(m);
    RAGD_ASSIGN_OR_RETURN(std::string user, prompts_->Render("direct", language, {{"question", question}}));
    msgs.push_back({"user", user});
    a.prompt_seconds = Since(t0);
    RAGD_ASSIGN_OR_RETURN(a.generation, Generate(msgs, g, on_token, &a));
    a.text = a.generation.text;
    return a;
  }

  // Retrieval.
  auto t0 = Clock::now();
  SearchOptions so;
  so.kb = options.kb;
  so.query = standalone;
  so.mode = options.mode;
  so.k = options.k;
  so.neighbors = options.neighbors;
  so.filters = options.filters;
  so.rerank = options.rerank;
  so.rerank_candidates = options.rerank_candidates;
  RAGD_ASSIGN_OR_RETURN(SearchResponse found, engine_->Search(so));
  // The neighbours' text is what the model reads.
  for (auto& h : found.hits)
    if (!h.context.empty()) h.text = std::move(h.context), h.context.clear();
  a.retrieval_seconds = Since(t0);

  double threshold = -1;
  if (options.min_score) {
    threshold = *options.min_score;
  } else if (options.mode != SearchMode::kBm25) {
    threshold = DefaultMinScore(found.embed_model);
  }
  a.best_score = found.best_dense_score;
  a.min_score = threshold;
  bool relevant = !found.hits.empty() && (options.mode == SearchMode::kBm25 || threshold < 0 ||
                                          found.best_dense_score >= threshold);
  if (!relevant) {
    a.found = false;
    RAGD_ASSIGN_OR_RETURN(a.text, prompts_->Render("not_found", language, {}));
    if (on_token) on_token(a.text);
    return a;
  }

  std::vector<SearchHit> hits = std::move(found.hits);
  std::map<int64_t, std::string> passages;  // chunk id -> text, when map-reduce replaced it
  if (options.strategy == AnswerStrategy::kMapReduce) {
    // Map: keep what each source says about the question; drop the silent.
    std::vector<SearchHit> notes;
    for (const auto& hit : hits) {
      RAGD_ASSIGN_OR_RETURN(std::string user, prompts_->Render("map", language,
                                                               {{"text", hit.text}, {"question", standalone}}));
      RAGD_ASSIGN_OR_RETURN(ChatResult r, Generate({{"user", user}}, HelperOptions(g, 200), {}, &a));
      std::string note(text::Trim(r.text));
      if (note.starts_with("NONE")) continue;  // the model judged it irrelevant
      SearchHit h = hit;
      // An empty note is the model failing to extract, not a judgement: the
      // passage itself goes on to the reduce step.
      if (!note.empty()) {
        passages[h.chunk_id] = h.text;
        h.text = note;
      }
      notes.push_back(std::move(h));
    }
    if (notes.empty()) {
      a.found = false;
      RAGD_ASSIGN_OR_RETURN(a.text, prompts_->Render("not_found", language, {}));
      if (on_token) on_token(a.text);
      return a;
    }
    hits = std::move(notes);
  }

  RAGD_ASSIGN_OR_RETURN(const std::string not_found, prompts_->Render("not_found", language, {}));
  if (options.strategy == AnswerStrategy::kRefine && hits.size() > 1) {
    // Answer from the best source, then improve the answer source by source.
    auto tp = Clock::now();
    std::vector<SearchHit> first(hits.begin(), hits.begin() + 1);
    RAGD_ASSIGN_OR_RETURN(BuiltPrompt built, BuildAnswerPrompt(*prompts_, *model_, language, standalone, first,
                                                               history, options.context_budget, g.max_tokens));
    a.prompt_seconds += Since(tp);
    RAGD_ASSIGN_OR_RETURN(ChatResult r, Generate(built.messages, g, {}, &a));
    std::string answer = r.text;
    a.sources = built.sources;
    a.context_tokens = built.context_tokens;
    for (size_t i = 1; i < hits.size(); ++i) {
      tp = Clock::now();
      std::string body(text::TruncateUtf8(hits[i].text, kRefineSourceBytes));
      RAGD_ASSIGN_OR_RETURN(std::string user,
                            prompts_->Render("refine", language,
                                             {{"question", standalone}, {"answer", answer},
                                              {"n", std::to_string(i + 1)}, {"text", body}}));
      RAGD_ASSIGN_OR_RETURN(std::string system, prompts_->Render("system", language, {}));
      a.prompt_seconds += Since(tp);
      bool last = i + 1 == hits.size();
      RAGD_ASSIGN_OR_RETURN(a.generation, Generate({{"system", system}, {"user", user}}, g, last ? on_token : TokenFn(), &a));
      // A source that adds nothing may draw the not-found sentence: the
      // answer so far stands.
      if (!text::Trim(a.generation.text).empty() && !IsRefusal(a.generation.text, not_found)) answer = a.generation.text;
      Source s;
      s.n = static_cast<int>(i) + 1;
      s.hit = hits[i];
      s.truncated = body.size() < hits[i].text.size();
      a.sources.push_back(std::move(s));
      if (auto c = model_->CountTokens(body); c.ok()) a.context_tokens += c.value();
    }
    a.text = answer;
  } else {
    auto tp = Clock::now();
    RAGD_ASSIGN_OR_RETURN(BuiltPrompt built, BuildAnswerPrompt(*prompts_, *model_, language, standalone, hits,
                                                               history, options.context_budget, g.max_tokens));
    a.prompt_seconds += Since(tp);
    a.sources = built.sources;
    a.context_tokens = built.context_tokens;
    if (options.check_sources && g.json_schema.empty() && !g.json_object && g.tools.empty()) {
      RAGD_ASSIGN_OR_RETURN(bool stated, SourcesStateAnswer(built, language, standalone, g, &a));
      if (!stated) {
        a.found = false;
        a.check_refused = true;
        a.text = not_found;
        if (on_token) on_token(a.text);
        return a;
      }
    }
    GenerateOptions ga = g;
    ga.stable_prefix_messages = built.stable_messages;
    RAGD_ASSIGN_OR_RETURN(a.generation, Generate(built.messages, ga, on_token, &a));
    a.text = a.generation.text;
  }
  // The listing shows the passages, not the notes map-reduce took from them.
  for (auto& s : a.sources)
    if (auto it = passages.find(s.hit.chunk_id); it != passages.end()) s.hit.text = it->second;

  a.model_text = a.text;
  // The model found no answer in the sources and said so (the system prompt
  // asks for the not-found sentence): a refusal, like one from retrieval.
  if (IsRefusal(a.text, not_found)) {
    a.found = false;
    a.model_refused = true;
    return a;
  }
  for (int n : ExtractCitations(a.text))
    if (n < 1 || n > static_cast<int>(a.sources.size())) a.unknown_citations.push_back(n);
  // Structured (JSON-schema) output must stay exactly as generated.
  if (options.attribute_min_overlap >= 0 && g.json_schema.empty())
    a.text = AttributeCitations(a.text, a.sources, options.attribute_min_overlap, &a.citations_corrected);
  for (int n : ExtractCitations(a.text))
    if (n >= 1 && n <= static_cast<int>(a.sources.size())) a.sources[n - 1].cited = true;
  return a;
}

Result<Answer> Assistant::ChatTurn(Session* session, const std::string& question, const AskOptions& options,
                                   const TokenFn& on_token) {
  if (text::Trim(question).empty()) return Status::InvalidArgument("the question is empty");
  if (text::FindInvalidUtf8(question) != std::string::npos)
    return Status::InvalidArgument("the question is not valid UTF-8");
  if (tags_) {
    tags_->session = session->id;
    tags_->question = question;
  }
  const std::string language = DetectLanguage(question);
  const GenerateOptions& g = options.generate;
  Answer probe;  // collects the helper calls' time

  // Condense a follow-up into a standalone question for retrieval.
  std::string standalone = question;
  auto tc = Clock::now();
  if (!session->turns.empty() && !options.no_retrieval) {
    RAGD_ASSIGN_OR_RETURN(auto msgs, BuildCondensePrompt(*prompts_, language, *session, question));
    RAGD_ASSIGN_OR_RETURN(ChatResult r, Generate(msgs, HelperOptions(g, 96), {}, &probe));
    std::string line = FirstLine(r.text);
    // A tiny model may ramble; a rewrite far longer than the question is not one.
    if (!line.empty() && line.size() <= 3 * question.size() + 200) standalone = line;
  }
  double condense_seconds = Since(tc);

  // The history the answer prompt sees, as the memory keeps it.
  std::vector<ChatMessage> history;
  size_t first = 0;
  if (session->memory == MemoryKind::kWindow && session->turns.size() > static_cast<size_t>(session->window))
    first = session->turns.size() - session->window;
  if (session->memory == MemoryKind::kSummary) {
    first = session->turns.size();
    if (!session->summary.empty()) {
      RAGD_ASSIGN_OR_RETURN(std::string label, prompts_->Render("summary_label", language, {}));
      history.push_back({"system", label + " " + session->summary});
    }
  }
  for (size_t i = first; i < session->turns.size(); ++i) {
    RAGD_ASSIGN_OR_RETURN(std::string user,
                          prompts_->Render("direct", language, {{"question", session->turns[i].question}}));
    history.push_back({"user", user});
    history.push_back({"assistant", session->turns[i].answer});
  }
  // Keep the history within a third of the context: oldest turns go first.
  int limit = model_->context_tokens() / 3, total = 0;
  for (const auto& m : history) {
    RAGD_ASSIGN_OR_RETURN(int t, model_->CountTokens(m.content));
    total += t + 8;
  }
  size_t drop_from = (!history.empty() && history[0].role == "system") ? 1 : 0;
  while (total > limit && history.size() >= drop_from + 2) {
    for (int k = 0; k < 2; ++k) {
      RAGD_ASSIGN_OR_RETURN(int t, model_->CountTokens(history[drop_from].content));
      total -= t + 8;
      history.erase(history.begin() + drop_from);
    }
  }

  RAGD_ASSIGN_OR_RETURN(Answer a, Answer_(question, standalone, language, history, options, on_token));
  a.condense_seconds = condense_seconds;
  a.generation_seconds += probe.generation_seconds;

  Turn turn;
  turn.time = files::NowIso8601();
  turn.question = question;
  turn.standalone_question = standalone;
  turn.answer = a.text;
  for (const auto& s : a.sources)
    if (s.cited) turn.cited_sources.push_back(SourceLabel(s.hit));
  session->turns.push_back(turn);
  session->updated_at = turn.time;

  if (session->memory == MemoryKind::kSummary) {
    RAGD_ASSIGN_OR_RETURN(std::string lines,
                          prompts_->Render("history", language, {{"question", question}, {"answer", a.text}}));
    RAGD_ASSIGN_OR_RETURN(std::string user, prompts_->Render("summary", language,
                                                             {{"summary", session->summary}, {"new_lines", lines}}));
    RAGD_ASSIGN_OR_RETURN(ChatResult r, Generate({{"user", user}}, HelperOptions(g, 160), {}, &a));
    std::string summary(text::Trim(r.text));
    // Never lose the conversation to an empty summary.
    session->summary = summary.empty() ? (session->summary + "\n" + lines) : summary;
  }
  return a;
}

}  // namespace ragd
