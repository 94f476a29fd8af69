// Fusion tuning on a small fixed knowledge base. The question writer is a
// named fake (QuestionBook): it returns a fixed question for the chunk in
// its prompt, so the questions — and so the expected choice — do not hang
// on what a real model happens to write. The retrievers are real.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ragd/answer.h"
#include "ragd/engine.h"
#include "ragd/tune.h"
#include "../test_util.h"

namespace ragd {
namespace {

using nlohmann::json;
using testing::TempDir;

struct Entry {
  const char* id;
  const char* text;
  const char* question;  // paraphrases the text, and carries one word of another document
};

// Each question says its document's meaning in other words (dense finds
// it) and carries a rare word of another document (BM25 finds that one).
const Entry kBook[] = {
    {"cats", "Cats like to sleep in warm sunny places such as windowsills and sofas.",
     "Where does a kitten nap during the day, the marathon cat?"},
    {"rates", "The stock market closed higher after the central bank cut interest rates by half a point.",
     "Why did shares rise when borrowing got cheaper, as in the recipe?"},
    {"storm", "Heavy rain and strong winds are expected along the coast tomorrow night.",
     "Is bad weather coming to the seaside for the smartphone?"},
    {"cake", "The recipe calls for flour, eggs, sugar and a pinch of salt, baked for forty minutes.",
     "What ingredients do I need to bake a sponge for the orchestra?"},
    {"run", "Marathon runners train for months to build endurance before the race.",
     "How do long-distance athletes prepare, like tomatoes?"},
    {"phone", "The new smartphone has a larger screen and a faster processor than last year's model.",
     "What improved in the latest mobile handset at the airport?"},
    {"volcano", "Volcanoes erupt when molten rock rises through cracks in the earth's crust.",
     "What makes a mountain spew lava, physician?"},
    {"music", "The orchestra performed Beethoven's ninth symphony to a full concert hall.",
     "Which classical piece did the musicians play on the tyre?"},
    {"garden", "Tomatoes grow best in full sun with regular watering and rich soil.",
     "How do I get a good harvest of vegetables from my windowsills plot?"},
    {"flight", "Passengers must arrive at the airport two hours before an international departure.",
     "How early should travellers get to the terminal for a trip abroad with endurance?"},
    {"doctor", "A fever above thirty-nine degrees in a child should be checked by a physician.",
     "When should a kid with a high temperature be seen about the volcanoes?"},
    {"car", "Check the tyre pressure and the oil level before a long drive.",
     "What should drivers inspect before a road trip on the sofas?"},
};

// Writes the book's question for the chunk its prompt holds.
class QuestionBook final : public ChatModel {
 public:
  Result<ChatResult> Chat(std::span<const ChatMessage> messages, const GenerateOptions&, const TokenFn&,
                          const ToolCallFn&) override {
    for (const Entry& e : kBook)
      if (messages.back().content.find(e.text) != std::string::npos) {
        ChatResult r;
        r.text = json{{"pairs", json::array({{{"question", e.question}, {"answer", e.text}}})}}.dump();
        return r;
      }
    // The notices: one question every notice answers (kept once, then
    // near duplicates; the one kept is generic).
    ChatResult r;
    r.text = json{{"pairs", json::array({{{"question", "What are the branch opening hours on weekdays?"},
                                          {"answer", "The branch opening hours are nine to five on weekdays."}}})}}
                 .dump();
    return r;
  }
  Result<int> CountTokens(std::string_view text) override { return static_cast<int>(text.size() / 4); }
  int context_tokens() const override { return 4096; }
  std::string backend() const override { return "fake"; }
  std::string model() const override { return "question-book"; }
};

struct Fixture {
  TempDir dir;
  std::unique_ptr<Engine> engine;
  Prompts prompts = Prompts::Load().value();
  Fixture() {
    EngineOptions o;
    o.data_dir = dir.path();
    engine = std::move(Engine::Open(o)).value();
    std::vector<SourceDocument> docs;
    for (const Entry& e : kBook) docs.push_back({e.id, std::string(e.id) + ".txt", "", e.text, {}});
    for (int i = 1; i <= 4; ++i)
      docs.push_back({"notice" + std::to_string(i), "notice" + std::to_string(i) + ".txt", "",
                      "Notice " + std::to_string(i) + ": the branch opening hours are nine to five on weekdays.", {}});
    EXPECT_TRUE(engine->IngestDocuments("kb", docs, SplitOptions{}).ok());
  }
  // Questions of the book whose own document comes first.
  int AnsweredFirst() {
    int n = 0;
    for (const Entry& e : kBook) n += TopDoc(e.question) == e.id;
    return n;
  }
  std::string TopDoc(const std::string& query) {
    SearchOptions so;
    so.kb = "kb";
    so.query = query;
    so.k = 1;
    auto r = engine->Search(so);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && !r->hits.empty() ? r->hits[0].doc_id : "";
  }
};

TEST(KbTune, QuestionsDenseAnswersMoveTheWeightToDenseAndTheChoiceIsKept) {
  Fixture f;
  // The default leans on BM25, which the trap words mislead.
  const int before = f.AnsweredFirst();
  EXPECT_LE(before, 10);
  QuestionBook model;
  TuneOptions o;
  o.kb = "kb";
  o.sample_chunks = 16;
  o.per_chunk = 1;
  auto r = TuneKnowledgeBase(*f.engine, model, f.prompts, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->chunks, 16);
  EXPECT_EQ(r->dropped, 3);  // the notices' question again: near duplicates
  EXPECT_EQ(r->generic, 1);  // three other notices hold all its terms
  EXPECT_EQ(r->used, 12);
  const FusionTuning& t = r->tuning;
  // Dense answers every question; BM25 answers none first.
  EXPECT_GT(t.dense.ndcg_all, 0.9);
  EXPECT_LT(t.bm25.ndcg_all, 0.5);
  EXPECT_LT(t.default_fusion.ndcg_all, t.dense.ndcg_all);
  // The expected weight: dense-leaning (z-score or min-max at most 0.4, or RRF with dense ahead).
  EXPECT_LE(t.chosen.choice.lexical_weight, 0.4) << t.chosen.name;
  EXPECT_GE(t.chosen.ndcg_check, t.dense.ndcg_check - 0.005) << t.chosen.name;
  EXPECT_LT(t.chosen.choice.mmr_lambda, 0);  // one relevant chunk each: diversity does not help
  // Kept in the settings, and searches without options follow it.
  auto settings = f.engine->GetKbSettings("kb");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->at("search.fusion"), FusionName(t.chosen.choice.fusion));
  EXPECT_EQ(std::stod(settings->at("search.lexical_weight")), t.chosen.choice.lexical_weight);
  EXPECT_EQ(settings->at("search.mmr_lambda"), "off");
  EXPECT_NE(settings->at("tune.ndcg_held_out").find("tuned "), std::string::npos);
  EXPECT_EQ(settings->at("tune.model"), "question-book");
  const int after = f.AnsweredFirst();
  EXPECT_GE(after, 10) << "before " << before << ", chosen " << t.chosen.name;
  EXPECT_GT(after, before) << "chosen " << t.chosen.name;
}

TEST(KbTune, TooFewQuestionsIsAnErrorThatKeepsNothing) {
  Fixture f;
  class NoQuestions final : public ChatModel {
   public:
    Result<ChatResult> Chat(std::span<const ChatMessage>, const GenerateOptions&, const TokenFn&,
                            const ToolCallFn&) override {
      ChatResult r;
      r.text = R"({"pairs": []})";
      return r;
    }
    Result<int> CountTokens(std::string_view text) override { return static_cast<int>(text.size() / 4); }
    int context_tokens() const override { return 4096; }
    std::string backend() const override { return "fake"; }
    std::string model() const override { return "no-questions"; }
  } model;
  TuneOptions o;
  o.kb = "kb";
  o.sample_chunks = 8;
  auto r = TuneKnowledgeBase(*f.engine, model, f.prompts, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("only 0 usable questions came from 8 chunks"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("--sample"), std::string::npos);
  auto settings = f.engine->GetKbSettings("kb");
  ASSERT_TRUE(settings.ok());
  EXPECT_FALSE(settings->contains("search.fusion"));
  EXPECT_FALSE(settings->contains("tune.at"));
}

}  // namespace
}  // namespace ragd
