// Dataset synthesis's filters and the formats. The model here is a named
// fake (ScriptedModel): the filters must be shown dropping a malformed
// reply, an answer its chunk does not support and a repeated question, and
// a real model writes those only by chance. The real model's run is
// tests/dataset/dataset_cli_test.py.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <deque>

#include "ragd/answer.h"
#include "ragd/dataset.h"
#include "ragd/engine.h"
#include "../test_util.h"

namespace ragd {
namespace {

using nlohmann::json;
using testing::TempDir;

// Replies with the given texts in turn, whatever it is asked; records the prompts.
class ScriptedModel final : public ChatModel {
 public:
  explicit ScriptedModel(std::deque<std::string> replies) : replies_(std::move(replies)) {}
  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions& options, const TokenFn&,
                          const ToolCallFn&) override {
    prompts.push_back(messages.back().content);
    schemas.push_back(options.json_schema);
    if (replies_.empty()) return Status::Unavailable("the script ran out");
    ChatResult r;
    r.text = replies_.front();
    replies_.pop_front();
    r.prompt_tokens = 100;
    r.completion_tokens = 20;
    return r;
  }
  Result<int> CountTokens(std::string_view text) override { return static_cast<int>(text.size() / 4); }
  int context_tokens() const override { return 4096; }
  std::string backend() const override { return "scripted"; }
  std::string model() const override { return "scripted"; }
  std::vector<std::string> prompts, schemas;

 private:
  std::deque<std::string> replies_;
};

std::string Pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json out = json::array();
  for (const auto& [q, a] : pairs) out.push_back({{"question", q}, {"answer", a}});
  return json{{"pairs", out}}.dump();
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<Engine> engine;
  Prompts prompts = Prompts::Load().value();
  Fixture() {
    EngineOptions o;
    o.data_dir = dir.path();
    engine = std::move(Engine::Open(o)).value();
    std::vector<SourceDocument> docs = {
        {"fees", "fees.md", "Card fees",
         "The annual fee of the Gold card is 380 yuan. It is waived after 12 purchases in a card year.", {}},
        {"hours", "hours.md", "Branch hours",
         "The Riverside branch opens from 9:00 to 17:30 on weekdays and from 10:00 to 14:00 on Saturdays.", {}},
        {"zh", "zh.md", "", "大额存单起存金额为20万元，可以在手机银行转让。", {}}};
    EXPECT_TRUE(engine->IngestDocuments("kb", docs, SplitOptions{}).ok());
  }
};

TEST(DatasetSynth, FiltersDropWhatTheyShouldAndTheRestIsKept) {
  Fixture f;
  ScriptedModel model({
      // fees: one supported pair, one answer the chunk does not support
      Pairs({{"What is the annual fee of the Gold card?", "The annual fee of the Gold card is 380 yuan."},
             {"Does the Gold card include travel insurance?", "Yes, it includes travel insurance worth 5 million."}}),
      // hours: a reply cut off (not the schema's), as max_tokens does
      R"({"pairs": [{"question": "When does the Riverside branch open", "ans)",
      // zh: a new question, then the same one again (a duplicate)
      Pairs({{"大额存单起存金额是多少？", "大额存单起存金额为20万元。"},
             {"大额存单起存金额是多少？", "起存金额为20万元。"},
             {"客户可能会问：大额存单可以转让", "大额存单可以在手机银行转让。"},
             {"大额存单可以转让吗？", "大额存单可以转让吗？"},
             {"大额存单在哪里转让？", "大额存单起存金额是多少？"}}),
  });
  SynthOptions o;
  o.kb = "kb";
  o.per_chunk = 5;
  o.validation_fraction = 0.5;
  std::vector<SynthPair> pairs;
  std::vector<std::pair<int64_t, int64_t>> progress;
  auto r = SynthesizeDataset(*f.engine, model, f.prompts, o, &pairs,
                             [&](int64_t done, int64_t total) { progress.emplace_back(done, total); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->chunks, 3);
  EXPECT_EQ(r->generated, 7);
  EXPECT_EQ(r->malformed, 1);
  EXPECT_EQ(r->not_questions, 3);
  EXPECT_EQ(r->unsupported, 1);
  EXPECT_EQ(r->duplicates, 1);
  EXPECT_EQ(r->kept, 2);
  EXPECT_EQ(r->train + r->validation, 2);
  EXPECT_EQ(r->prompt_tokens, 300);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].doc_id, "fees");
  EXPECT_EQ(pairs[1].answer, "大额存单起存金额为20万元。");
  EXPECT_GE(pairs[1].support, 0.5);
  EXPECT_EQ(progress.back(), (std::pair<int64_t, int64_t>{3, 3}));
  // The chunk is in the prompt, in its own language; the schema bounds the pairs.
  EXPECT_NE(model.prompts[0].find("380 yuan"), std::string::npos);
  EXPECT_NE(model.prompts[2].find("请写出5个不同的问题"), std::string::npos);
  EXPECT_EQ(json::parse(model.schemas[0])["properties"]["pairs"]["maxItems"], 5);
  // The split is by the question: the same question always lands alike.
  std::vector<SynthPair> again;
  ScriptedModel same({Pairs({{"What is the annual fee of the Gold card?", "The annual fee of the Gold card is 380 yuan."}}),
                      "{}", "{}"});
  ASSERT_TRUE(SynthesizeDataset(*f.engine, same, f.prompts, o, &again).ok());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].validation, pairs[0].validation);
}

TEST(DatasetSynth, AFailingModelKeepsWhatCameBeforeAndBadOptionsAreRefused) {
  Fixture f;
  ScriptedModel model({Pairs({{"What is the annual fee of the Gold card?", "The annual fee of the Gold card is 380 yuan."}})});
  SynthOptions o;
  o.kb = "kb";
  std::vector<SynthPair> pairs;
  auto r = SynthesizeDataset(*f.engine, model, f.prompts, o, &pairs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "the script ran out");
  EXPECT_EQ(pairs.size(), 1u);
  o.per_chunk = 11;
  EXPECT_NE(SynthesizeDataset(*f.engine, model, f.prompts, o, &pairs).status().message().find("between 1 and 10"),
            std::string::npos);
  o.per_chunk = 2;
  o.language = "fr";
  EXPECT_FALSE(SynthesizeDataset(*f.engine, model, f.prompts, o, &pairs).ok());
  o.language = "auto";
  o.kb = "missing";
  EXPECT_FALSE(SynthesizeDataset(*f.engine, model, f.prompts, o, &pairs).ok());
}

TEST(DatasetFormats, EachFormatHoldsTheConversation) {
  Conversation c;
  c.messages = {{"system", "Be brief.", {}, "", ""},
                {"user", "年费多少？", {}, "", ""},
                {"assistant", "380元。", {}, "", ""},
                {"user", "Waived when?", {}, "", ""},
                {"assistant", "After 12 purchases.", {}, "", ""}};
  json openai = json::parse(FormatConversation(c, DatasetFormat::kOpenAi));
  ASSERT_EQ(openai["messages"].size(), 5u);
  EXPECT_EQ(openai["messages"][1], (json{{"role", "user"}, {"content", "年费多少？"}}));
  json alpaca = json::parse(FormatConversation(c, DatasetFormat::kAlpaca));
  EXPECT_EQ(alpaca["instruction"], "Waived when?");
  EXPECT_EQ(alpaca["output"], "After 12 purchases.");
  EXPECT_EQ(alpaca["system"], "Be brief.");
  EXPECT_EQ(alpaca["history"], json::array({json::array({"年费多少？", "380元。"})}));
  json sharegpt = json::parse(FormatConversation(c, DatasetFormat::kShareGpt));
  EXPECT_EQ(sharegpt["conversations"][2], (json{{"from", "gpt"}, {"value", "380元。"}}));
  EXPECT_EQ(sharegpt["conversations"][0]["from"], "system");
  // Text a model wrote with invalid UTF-8 is replaced, not a crash.
  Conversation bad;
  bad.messages = {{"user", "q", {}, "", ""}, {"assistant", std::string("a\xff"), {}, "", ""}};
  EXPECT_TRUE(json::accept(FormatConversation(bad, DatasetFormat::kOpenAi)));
  EXPECT_EQ(ParseDatasetFormat("jsonl").status().message(), "unknown dataset format 'jsonl' (use openai, alpaca or sharegpt)");
}

}  // namespace
}  // namespace ragd
