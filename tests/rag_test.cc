// Prompt assembly, citations, condensing, sessions and the local chat
// backend, with the packaged default chat model (Qwen2.5-Coder 0.5B
// Instruct: its real tokenizer counts tokens) and the packaged base model
// (Gemma 3 270M, no chat template: the plain path).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "rag/context.h"
#include "ragd/rag.h"
#include "ragd/trace.h"
#include "store/store.h"
#include "test_util.h"

namespace ragd {
namespace {

using testing::TempDir;

ChatModel& OpenOnce(std::unique_ptr<ChatModel>* slot, const std::string& name) {
  if (!*slot) {
    BackendOptions o;
    o.model = name;  // empty = the packaged default
    o.threads = 2;
    auto m = OpenChatModel(o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    *slot = std::move(m).value();
  }
  return **slot;
}
ChatModel& Instruct() {
  static std::unique_ptr<ChatModel> m;
  return OpenOnce(&m, "");
}
ChatModel& Base() {
  static std::unique_ptr<ChatModel> m;
  return OpenOnce(&m, "gemma-3-270m-q4_k_m");
}

SearchHit Hit(const std::string& source, const std::string& text, int page = 0) {
  SearchHit h;
  h.source = source;
  h.text = text;
  h.page = page;
  h.doc_id = source;
  return h;
}

TEST(Prompts, RenderReplacesVariablesAndNamesUnknownOnes) {
  auto p = Prompts::Load();
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto r = p->Render("answer", "en", {{"sources", "[1] S"}, {"question", "Q?"}});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("[1] S"), std::string::npos);
  EXPECT_NE(r->find("Q?"), std::string::npos);
  auto zh = p->Render("answer", "zh", {{"sources", "[1] S"}, {"question", "问？"}});
  ASSERT_TRUE(zh.ok());
  EXPECT_NE(zh->find("问题："), std::string::npos);  // the Chinese file, not the English one

  auto missing = p->Render("answer", "en", {{"question", "Q?"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("{{sources}}"), std::string::npos);
}

TEST(Prompts, OverrideFolderReplacesOneFileAndKeepsTheRest) {
  TempDir dir;
  testing::WriteFile(dir / "answer.en.txt", "CONTEXT {{sources}} ASK {{question}} {{nope}}\n");
  auto p = Prompts::Load(dir.path());
  ASSERT_TRUE(p.ok());
  auto r = p->Render("answer", "en", {{"sources", "s"}, {"question", "q"}});
  ASSERT_FALSE(r.ok());  // the override uses a variable ragd does not give
  EXPECT_NE(r.status().message().find("{{nope}}"), std::string::npos);
  testing::WriteFile(dir / "answer.en.txt", "CONTEXT {{sources}} ASK {{question}}\n");
  p = Prompts::Load(dir.path());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Render("answer", "en", {{"sources", "s"}, {"question", "q"}}).value(), "CONTEXT s ASK q");
  EXPECT_TRUE(p->Render("system", "en", {}).ok());  // still the built-in
  EXPECT_FALSE(Prompts::Load(dir / "missing").ok());
}

TEST(Citations, ExtractsBracketFormsInOrder) {
  EXPECT_EQ(ExtractCitations("A [2] b [1, 3] c 【4】 d ［5］ [x] [7-8] [2]"),
            (std::vector<int>{2, 1, 3, 4, 5, 7, 8}));
  EXPECT_TRUE(ExtractCitations("no [citation] here [ ] [a1]").empty());
}

TEST(Citations, AttributionCitesTheOverlappingSourceAndFixesBadNumbers) {
  std::vector<Source> sources(2);
  sources[0].n = 1;
  sources[0].hit = Hit("a.md", "International wire transfers take 1 to 3 working days.");
  sources[1].n = 2;
  sources[1].hit = Hit("b.md", "The annual fee of the Platinum card is 1,200 yuan.");
  bool changed = false;
  EXPECT_EQ(AttributeCitations("The annual fee is 1,200 yuan.", sources, 0.5, &changed),
            "The annual fee is 1,200 yuan [2].");
  EXPECT_TRUE(changed);
  // A number that matches no source is replaced by the right one.
  EXPECT_EQ(AttributeCitations("According to [7], wire transfers take 1 to 3 working days.", sources, 0.5, &changed),
            "According to [1], wire transfers take 1 to 3 working days.");
  // A valid number citing a source that does not say it, while another does.
  EXPECT_EQ(AttributeCitations("The annual fee is 1,200 yuan [1].", sources, 0.5, &changed),
            "The annual fee is 1,200 yuan [2].");
  EXPECT_TRUE(changed);
  // Chinese is compared on character bigrams: a paraphrase of the first FAQ row.
  std::vector<Source> zh(2);
  zh[0].n = 1;
  zh[0].hit = Hit("faq.csv", "如何挂失银行卡？请立即拨打24小时客服热线，或登录手机银行选择“卡片管理 > 挂失”。");
  zh[1].n = 2;
  zh[1].hit = Hit("faq.csv", "忘记了手机银行登录密码怎么办？在登录页点击“忘记密码”，通过身份证号验证后重设。");
  EXPECT_EQ(AttributeCitations("在手机银行的卡片管理页面，点击“卡片管理 > 挂失”，然后点击“挂失”。", zh, 0.4, &changed),
            "在手机银行的卡片管理页面，点击“卡片管理 > 挂失”，然后点击“挂失”[1]。");
  // Valid citations and unrelated sentences are left alone.
  EXPECT_EQ(AttributeCitations("Fees apply [2]. Hello there, friend.", sources, 0.5, &changed),
            "Fees apply [2]. Hello there, friend.");
  EXPECT_FALSE(changed);
}

TEST(Language, DetectsChineseAndEnglish) {
  EXPECT_EQ(DetectLanguage("如何挂失银行卡？"), "zh");
  EXPECT_EQ(DetectLanguage("白金卡 annual fee 是多少"), "zh");
  EXPECT_EQ(DetectLanguage("What is the annual fee?"), "en");
}

TEST(AnswerPrompt, NumbersSourcesInRankOrderAndMapsCitations) {
  auto p = Prompts::Load().value();
  std::vector<SearchHit> hits = {Hit("policy.pdf", "Late payment costs 0.05% a day.", 2),
                                 Hit("faq.csv", "Cards are reported lost by phone.")};
  auto built = BuildAnswerPrompt(p, Instruct(), "en", "What does late payment cost?", hits, {}, 0, 256);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  ASSERT_EQ(built->sources.size(), 2u);
  EXPECT_EQ(built->sources[0].n, 1);
  EXPECT_EQ(built->sources[0].hit.source, "policy.pdf");
  EXPECT_EQ(built->sources[1].hit.source, "faq.csv");
  const std::string& user = built->messages.back().content;
  EXPECT_NE(user.find("[1] Late payment costs 0.05% a day."), std::string::npos);
  EXPECT_NE(user.find("[2] Cards are reported lost by phone."), std::string::npos);
  EXPECT_LT(user.find("[1]"), user.find("[2]"));
  EXPECT_EQ(built->messages.front().role, "system");
  EXPECT_EQ(SourceLabel(built->sources[0].hit), "policy.pdf p.2");
}

TEST(AnswerPrompt, RespectsTheTokenBudget) {
  auto p = Prompts::Load().value();
  std::vector<SearchHit> hits;
  for (int i = 0; i < 20; ++i)
    hits.push_back(Hit("doc" + std::to_string(i) + ".md",
                       "Passage " + std::to_string(i) + " talks about fees, transfers and cards at some length."));
  auto built = BuildAnswerPrompt(p, Instruct(), "en", "fees?", hits, {}, 100, 256);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_LE(built->context_tokens, 100);
  EXPECT_GT(built->sources.size(), 1u);
  EXPECT_LT(built->sources.size(), 20u);
  // Counted with the model's tokenizer: the sources block really is that small.
  std::string block;
  for (const auto& s : built->sources) block += "[" + std::to_string(s.n) + "] " + s.hit.text + "\n";
  EXPECT_LE(Instruct().CountTokens(block).value(), 100);

  // One long source alone over the budget is cut to fit, not dropped.
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word" + std::to_string(i) + " ";
  auto cut = BuildAnswerPrompt(p, Instruct(), "en", "q", {Hit("long.md", long_text)}, {}, 50, 256);
  ASSERT_TRUE(cut.ok());
  ASSERT_EQ(cut->sources.size(), 1u);
  EXPECT_TRUE(cut->sources[0].truncated);
  EXPECT_LE(cut->context_tokens, 50);

  // The model's context caps any budget.
  auto huge = BuildAnswerPrompt(p, Instruct(), "en", "q", hits, {}, 1 << 20, Instruct().context_tokens());
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("context"), std::string::npos);
}

TEST(AnswerPrompt, LocalModelsReadAtMost512TokensOfSourcesByDefault) {
  auto p = Prompts::Load().value();
  std::vector<SearchHit> hits;
  for (int i = 0; i < 40; ++i)
    hits.push_back(Hit("doc" + std::to_string(i) + ".md",
                       "Passage " + std::to_string(i) + " talks about fees, transfers and cards at some length."));
  ASSERT_EQ(Instruct().default_context_budget(), 512);
  auto built = BuildAnswerPrompt(p, Instruct(), "en", "fees?", hits, {}, 0, 256);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_LE(built->context_tokens, 512);
  EXPECT_GT(built->context_tokens, 400);
  EXPECT_LT(built->sources.size(), 40u);
  // The system prompt and the two worked examples are the stable prefix;
  // the sources the last message shows are sources_text.
  EXPECT_EQ(built->stable_messages, 5);
  EXPECT_NE(built->messages.back().content.find(built->sources_text), std::string::npos);
  EXPECT_TRUE(built->sources_text.starts_with("[1] Passage 0"));
}

TEST(Condense, UsesTheHistoryTheMemoryKeeps) {
  auto p = Prompts::Load().value();
  Session s;
  s.memory = MemoryKind::kBuffer;
  s.turns.push_back({"", "What is the Platinum card's annual fee?", "", "1,200 yuan [1].", {}});
  s.turns.push_back({"", "And for supplementary cards?", "", "600 yuan [1].", {}});
  auto msgs = BuildCondensePrompt(p, "en", s, "Is it waived?");
  ASSERT_TRUE(msgs.ok());
  const std::string& text = msgs->back().content;
  EXPECT_NE(text.find("Platinum card's annual fee"), std::string::npos);
  EXPECT_NE(text.find("supplementary"), std::string::npos);
  EXPECT_NE(text.find("Is it waived?"), std::string::npos);

  s.memory = MemoryKind::kWindow;
  s.window = 1;
  const std::string windowed = BuildCondensePrompt(p, "en", s, "Is it waived?")->back().content;
  EXPECT_EQ(windowed.find("Platinum card's annual fee"), std::string::npos);
  EXPECT_NE(windowed.find("supplementary"), std::string::npos);

  s.memory = MemoryKind::kSummary;
  s.summary = "The user asks about Platinum card fees.";
  const std::string summarized = BuildCondensePrompt(p, "en", s, "Is it waived?")->back().content;
  EXPECT_NE(summarized.find("The user asks about Platinum card fees."), std::string::npos);
}

TEST(Sessions, FromMessagesPairsUserAndAssistantTurnsAndLeavesTheQuestionOut) {
  std::vector<ChatMessage> m = {{"system", "Be brief."}, {"user", "What is the gold card fee?"},
                                {"assistant", "300 yuan [1]."}, {"user", "Is it waived?"}};
  Session s = SessionFromMessages(m);
  EXPECT_EQ(s.memory, MemoryKind::kBuffer);
  ASSERT_EQ(s.turns.size(), 1u);
  EXPECT_EQ(s.turns[0].question, "What is the gold card fee?");
  EXPECT_EQ(s.turns[0].answer, "300 yuan [1].");
  EXPECT_TRUE(SessionFromMessages(std::span(m).last(1)).turns.empty());
}

TEST(Sessions, RoundTripListAndDelete) {
  TempDir dir;
  ASSERT_TRUE(store::OpenSqliteStore(dir / "bank", {true, "test/4", 4}).ok());  // an empty knowledge base
  EngineOptions eo;
  eo.data_dir = dir.path();
  auto engine = Engine::Open(eo);
  ASSERT_TRUE(engine.ok());
  SessionStore store(**engine, "bank");
  auto s = store.Create("bank", MemoryKind::kSummary, 3);
  ASSERT_TRUE(s.ok());
  s->summary = "摘要";
  s->turns.push_back({"2026-11-23T00:00:00Z", "如何挂失？", "如何挂失银行卡？", "拨打热线 [1]。", {"faq.csv row 1"}});
  ASSERT_TRUE(store.Save(s.value()).ok());
  auto back = store.Load(s->id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->memory, MemoryKind::kSummary);
  EXPECT_EQ(back->window, 3);
  EXPECT_EQ(back->summary, "摘要");
  ASSERT_EQ(back->turns.size(), 1u);
  EXPECT_EQ(back->turns[0].standalone_question, "如何挂失银行卡？");
  EXPECT_EQ(back->turns[0].cited_sources, std::vector<std::string>{"faq.csv row 1"});
  EXPECT_EQ(store.List()->size(), 1u);
  EXPECT_EQ(store.Load("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  testing::WriteFile(dir / "bank/sessions/bad.json", "{not json");
  EXPECT_EQ(store.Load("bad").status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(store.Delete(s->id).ok());
  EXPECT_EQ(store.Load(s->id).status().code(), StatusCode::kNotFound);
}

TEST(Traces, ReadingSkipsTornAndForeignLinesAndKeepsTheLastN) {
  TempDir dir;
  TraceLog log(dir / "t.jsonl");
  for (int i = 0; i < 3; ++i) {
    TraceRecord r;
    r.kind = "chat";
    r.output = "answer " + std::to_string(i);
    r.input_json = R"([{"role":"user","content":"q"}])";
    log.Append(r);
  }
  ASSERT_TRUE(log.last_error().ok());
  {
    std::ofstream out(dir / "t.jsonl", std::ios::app);
    out << R"({"kind":"chat","prompt_tokens":"many"})" << "\n" << R"({"kind":"chat","outp)";
  }
  int skipped = 0;
  auto all = ReadTraces(dir / "t.jsonl", 0, &skipped);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(skipped, 2);
  auto last = ReadTraces(dir / "t.jsonl", 2);
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ((*last)[1].output, "answer 2");
  EXPECT_EQ((*last)[1].input_json, R"([{"content":"q","role":"user"}])");
  EXPECT_TRUE(ReadTraces(dir / "none.jsonl", 5)->empty());  // nothing traced yet
  TraceLog nowhere("/proc/ragd-cannot-write/t.jsonl");
  nowhere.Append(TraceRecord{});
  EXPECT_FALSE(nowhere.last_error().ok());
}

// A question whose answer stands in its one source.
std::vector<ChatMessage> WirePrompt() {
  return {{"system", "You answer questions from the sources."},
          {"user", "Sources:\n[1] International wire transfers take 1 to 3 working days.\n\n"
                   "Question: How long does an international wire transfer take?\nAnswer:"}};
}

// What holds on any CPU (floating-point order differs between AVX2 and
// AVX-512, so no generated string is pinned): greedy output is the same
// twice in one process, and it states the fact of the source.
TEST(LocalChat, GreedyAnswerRepeatsAndStatesTheFact) {
  GenerateOptions g;  // greedy by default
  g.max_tokens = 48;
  EXPECT_EQ(g.temperature, 0);
  auto a = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_NE(a->text.find("1"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("3"), std::string::npos) << a->text;
  EXPECT_EQ(a->finish_reason, "stop");
  // Again, from a warm prefix cache, and again with the prompt evaluated
  // afresh (a fixed seed): the same text.
  auto b = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, a->text);
  g.seed = 7;
  auto c = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->text, a->text);
  EXPECT_GT(a->prompt_tokens, 20);
  EXPECT_GT(a->completion_tokens, 0);
}

// The stable prefix's key/value state goes to the prompt cache folder and
// the next process (here: another model instance) starts from it; a file
// that does not load is ignored and written anew. The output is the same
// either way.
TEST(LocalChat, StablePrefixStateOutlivesTheProcess) {
  TempDir cache;
  auto open = [&] {
    BackendOptions o;
    o.threads = 2;
    o.prompt_cache_dir = cache.path();
    auto m = OpenChatModel(o);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return std::move(m).value();
  };
  auto prompts = Prompts::Load().value();
  std::vector<ChatMessage> msgs = WirePrompt();
  msgs[0].content = prompts.Render("system", "en", {}).value();
  GenerateOptions g;
  g.max_tokens = 24;
  g.stable_prefix_messages = 1;
  auto kv_files = [&] {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(cache.path())) out.push_back(e.path());
    return out;
  };

  auto first = open()->Chat(msgs, g);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->cached_prompt_tokens, 0);
  auto files = kv_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".kv");

  auto second = open()->Chat(msgs, g);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->cached_prompt_tokens, 40);  // the system prompt
  EXPECT_LT(second->cached_prompt_tokens, second->prompt_tokens);
  EXPECT_EQ(second->text, first->text);

  { std::ofstream(files[0], std::ios::trunc) << "not a llama.cpp state"; }
  auto third = open()->Chat(msgs, g);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->cached_prompt_tokens, 0);
  EXPECT_EQ(third->text, first->text);
  EXPECT_GT(std::filesystem::file_size(files[0]), 1000u);  // rewritten

  // A fixed seed evaluates the whole prompt afresh: no saved state is read.
  g.seed = 3;
  auto seeded = open()->Chat(msgs, g);
  ASSERT_TRUE(seeded.ok());
  EXPECT_EQ(seeded->cached_prompt_tokens, 0);
}

TEST(LocalChat, StreamsStopsAndCancels) {
  GenerateOptions g;
  g.max_tokens = 8;
  std::string streamed;
  auto a = Instruct().Chat(WirePrompt(), g, [&](std::string_view piece) {
    streamed += piece;
    return true;
  });
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(streamed, a->text);
  EXPECT_LE(a->completion_tokens, 8);
  EXPECT_GT(a->first_token_seconds, 0);

  int pieces = 0;
  auto c = Instruct().Chat(WirePrompt(), g, [&](std::string_view) { return ++pieces < 2; });
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->finish_reason, "cancelled");
  EXPECT_EQ(pieces, 2);

  // A stop string ends the answer and is not part of it.
  g.max_tokens = 48;
  auto full = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(full.ok());
  std::string word = full->text.substr(full->text.find_first_not_of(' '), 4);
  g.stop = {word};
  auto stopped = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->text.find(word), std::string::npos);
  EXPECT_EQ(stopped->finish_reason, "stop");
}

// The schema becomes a grammar: the output parses and has the required
// fields with their types, whatever the model would rather say.
TEST(LocalChat, JsonSchemaOutputParsesAndValidates) {
  GenerateOptions g;
  g.max_tokens = 96;
  g.json_schema = R"({"type":"object","properties":{"days_min":{"type":"integer"},"days_max":{"type":"integer"},
                      "unit":{"type":"string","enum":["working days","hours"]}},
                      "required":["days_min","days_max","unit"],"additionalProperties":false})";
  auto a = Instruct().Chat(WirePrompt(), g);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->finish_reason, "stop") << a->text;
  auto j = nlohmann::json::parse(a->text, nullptr, false);
  ASSERT_TRUE(j.is_object()) << a->text;
  EXPECT_EQ(j.size(), 3u) << a->text;
  EXPECT_TRUE(j["days_min"].is_number_integer()) << a->text;
  EXPECT_TRUE(j["days_max"].is_number_integer()) << a->text;
  EXPECT_TRUE(j["unit"] == "working days" || j["unit"] == "hours") << a->text;
  EXPECT_EQ(j["days_max"], 3) << a->text;

  g.json_schema = R"({"type":"object","properties":{"a":{"$ref":"#/definitions/missing"}}})";
  auto bad = Instruct().Chat(WirePrompt(), g);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("JSON schema"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(CheckOutputSchema(g.json_schema).ok());
  EXPECT_TRUE(CheckOutputSchema(R"({"type":"object"})").ok());
  EXPECT_FALSE(CheckOutputSchema("{not json").ok());
}

// Small models echo a tool's result unless told what to do with it.
constexpr char kToolSystem[] =
    "You are a helpful assistant. When a tool result arrives, answer the user's question from it in one sentence.";

std::vector<ToolSpec> FeeTools() {
  return {{"get_card_fee", "The annual fee of a credit card, by card name.",
           R"({"type":"object","properties":{"card":{"type":"string","description":"the card's name"}},"required":["card"]})"},
          {"get_exchange_rate", "Today's exchange rate between two currencies.",
           R"({"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"}},"required":["from","to"]})"}};
}

// Call, tool result, final answer: the model picks the tool and its
// arguments (constrained by the template's tool-call grammar), then answers
// from what the tool returned.
TEST(LocalChat, ToolCallRoundTrip) {
  GenerateOptions g;
  g.max_tokens = 128;
  g.tools = FeeTools();
  std::vector<ChatMessage> msgs = {{"system", kToolSystem}, {"user", "What is the annual fee of the Platinum card?"}};
  std::string streamed_args, streamed_name, streamed_id;
  auto call = Instruct().Chat(msgs, g, {}, [&](const ToolCallDelta& d) {
    EXPECT_EQ(d.index, 0);
    streamed_id += d.id;
    streamed_name += d.name;
    streamed_args += d.arguments;
    return true;
  });
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  ASSERT_EQ(call->tool_calls.size(), 1u) << call->text;
  EXPECT_EQ(call->finish_reason, "tool_calls");
  const ToolCall& c = call->tool_calls[0];
  EXPECT_EQ(c.name, "get_card_fee");
  auto args = nlohmann::json::parse(c.arguments);
  ASSERT_TRUE(args.contains("card")) << c.arguments;
  EXPECT_NE(args["card"].get<std::string>().find("Platinum"), std::string::npos) << c.arguments;
  EXPECT_FALSE(c.id.empty());
  // The streamed deltas add up to the call.
  EXPECT_EQ(streamed_id, c.id);
  EXPECT_EQ(streamed_name, c.name);
  EXPECT_EQ(nlohmann::json::parse(streamed_args), args);

  msgs.push_back({"assistant", call->text, call->tool_calls});
  ChatMessage result{"tool", R"({"card":"Platinum","annual_fee":"CNY 3,600"})"};
  result.tool_call_id = c.id;
  result.name = c.name;
  msgs.push_back(result);
  // The answer turn: the result is in, so no further call is wanted (the
  // 0.5B would call again while tools are offered).
  GenerateOptions answer_turn = g;
  answer_turn.tool_choice = "none";
  auto final_answer = Instruct().Chat(msgs, answer_turn);
  ASSERT_TRUE(final_answer.ok()) << final_answer.status().ToString();
  EXPECT_TRUE(final_answer->tool_calls.empty());
  // An answer in words from the result, not the result (or the call) echoed.
  EXPECT_NE(final_answer->text.find("3,600"), std::string::npos) << final_answer->text;
  EXPECT_EQ(final_answer->text.find('{'), std::string::npos) << final_answer->text;

  // tool_choice: a named function is the one called; none calls nothing.
  g.tool_choice = "get_exchange_rate";
  auto named = Instruct().Chat(std::vector<ChatMessage>{{"user", "How much is 100 US dollars in euros?"}}, g);
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  ASSERT_FALSE(named->tool_calls.empty()) << named->text;
  EXPECT_EQ(named->tool_calls[0].name, "get_exchange_rate");
  g.tool_choice = "none";
  auto none = Instruct().Chat(std::vector<ChatMessage>{{"user", "What is the annual fee of the Platinum card?"}}, g);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->tool_calls.empty());
  g.tool_choice = "get_weather";
  auto unknown = Instruct().Chat(msgs, g);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("get_weather"), std::string::npos);
}

// A base model (no chat template) answers through ragd's plain format, and
// refuses tools with a message that says why.
TEST(LocalChat, BaseModelUsesPlainTextAndRefusesTools) {
  GenerateOptions g;
  g.max_tokens = 32;
  auto a = Base().Chat(WirePrompt(), g);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->text.find('\n'), std::string::npos);  // one paragraph
  g.tools = FeeTools();
  auto t = Base().Chat(WirePrompt(), g);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("cannot call tools"), std::string::npos) << t.status().message();
}

// check_sources: the check prompt (overridable like every template) is
// asked first, and a reply starting with "no" refuses before any answer is
// generated. Whether the model judges well is measured, not tested: the
// packaged 0.5B says the same whatever the question, the 1.5B tells them
// apart (docs/EVAL.md). Here the override makes the reply certain.
TEST(Assistant, CheckSourcesRefusesOnTheModelsNo) {
  TempDir data, docs, say_no, say_yes;
  testing::WriteFile(docs / "transfers.md",
                     "# Transfers\n\nInternational wire transfers take 1 to 3 working days. "
                     "Domestic transfers arrive the same day.\n");
  const std::string ask = "Sources:\n{{sources}}\n\nQuestion: {{question}}\n";
  testing::WriteFile(say_no / "check.en.txt", ask + "Is the sky green? Reply yes or no.\n");
  testing::WriteFile(say_yes / "check.en.txt", ask + "Write the word yes.\n");
  EngineOptions eo;
  eo.data_dir = data.path();
  auto engine = Engine::Open(eo);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  IngestOptions io;
  io.kb = "t";
  io.paths = {docs.path()};
  ASSERT_TRUE((*engine)->IngestFiles(io).ok());
  AskOptions o;
  o.kb = "t";
  o.check_sources = true;
  o.generate.max_tokens = 48;
  const std::string question = "How long does an international wire transfer take?";

  auto no_prompts = Prompts::Load(say_no.path()).value();
  Assistant refuser(engine->get(), &Instruct(), &no_prompts);
  std::string streamed;
  auto off = refuser.Ask(question, o, [&](std::string_view p) { streamed += p; return true; });
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->found) << off->text << " / check: " << off->check_reply;
  EXPECT_TRUE(off->check_refused);
  EXPECT_EQ(RefusalReason(*off), "check");
  EXPECT_EQ(off->text, no_prompts.Render("not_found", "en", {}).value());
  EXPECT_EQ(streamed, off->text);
  EXPECT_FALSE(off->sources.empty());  // what was checked is still shown

  auto yes_prompts = Prompts::Load(say_yes.path()).value();
  Assistant answerer(engine->get(), &Instruct(), &yes_prompts);
  auto on = answerer.Ask(question, o);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->found) << on->text << " / check: " << on->check_reply;
  EXPECT_EQ(RefusalReason(*on), "");
  EXPECT_NE(on->text.find("3"), std::string::npos) << on->text;

  // Off by default: the same prompts never refuse.
  o.check_sources = false;
  auto unchecked = refuser.Ask(question, o);
  ASSERT_TRUE(unchecked.ok());
  EXPECT_TRUE(unchecked->found) << unchecked->text;
}

TEST(LocalChat, PromptLongerThanTheContextIsAClearError) {
  std::string big;
  for (int i = 0; i < 6000; ++i) big += "word ";
  auto r = Instruct().Chat(std::vector<ChatMessage>{{"user", big}}, GenerateOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("context"), std::string::npos);
  BackendOptions missing;
  missing.model = "/nonexistent/model.gguf";
  auto m = OpenChatModel(missing);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "chat model file not found: /nonexistent/model.gguf");
  EXPECT_EQ(ParseBackend("mystery").status().ToString(),
            "invalid argument: unknown backend 'mystery' (use local, openai or ollama)");
  for (Backend b : {Backend::kLocal, Backend::kOpenAi, Backend::kOllama}) EXPECT_EQ(ParseBackend(BackendName(b)).value(), b);
}

}  // namespace
}  // namespace ragd
