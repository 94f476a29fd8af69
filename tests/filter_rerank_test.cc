// Filters inside retrieval, ingest metadata, and cross-encoder reranking
// through the real llama.cpp API. The reranker is ragd-test-reranker.gguf:
// MiniLM's encoder with a seeded head (scripts/setup/models.sh), so these
// tests check the code path and its contracts, not relevance.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <cmath>

#include "ragd/engine.h"
#include "ragd/filter.h"
#include "ragd/models.h"
#include "test_util.h"

namespace ragd {

using ragd::testing::TempDir;
using ragd::testing::WriteFile;

namespace {

constexpr char kTestReranker[] = "ragd-test-reranker";

std::unique_ptr<Engine> OpenEngine(const std::string& dir, bool with_reranker = false) {
  EngineOptions o;
  o.data_dir = dir;
  if (with_reranker) {
    BackendOptions r;
    r.model = kTestReranker;
    o.reranker = r;
  }
  auto e = Engine::Open(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(e).value();
}

std::vector<std::string> DocIds(const SearchResponse& r) {
  std::vector<std::string> ids;
  for (const auto& h : r.hits) ids.push_back(h.doc_id);
  return ids;
}

}  // namespace

TEST(FilterParsing, KeysOperatorsAndValues) {
  auto c = ParseFilterCondition("year>=2020");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, "year");
  EXPECT_EQ(c->op, ">=");
  EXPECT_EQ(c->value, "2020");
  c = ParseFilterCondition(" team = cards ");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, "team");
  EXPECT_EQ(c->op, "=");
  EXPECT_EQ(c->value, "cards");
  c = ParseFilterCondition("type!=pdf");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->op, "!=");
  c = ParseFilterCondition("note=a<=b");  // the first operator splits
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, "note");
  EXPECT_EQ(c->value, "a<=b");
  EXPECT_NE(ParseFilterCondition("nothing").status().message().find("is not key=value"), std::string::npos);
  EXPECT_NE(ParseFilterCondition("modified>=last week").status().message().find("is not a date"), std::string::npos);
  EXPECT_NE(ParseFilterCondition("type>pdf").status().message().find("type takes = or !="), std::string::npos);
  EXPECT_NE(ParseFilterCondition("bad key=1").status().message().find("the key must be"), std::string::npos);
  EXPECT_TRUE(ParseFilterCondition("modified>=2024-02-29T12:30Z").ok());
  EXPECT_FALSE(ParseFilterCondition("modified>=2024-13-01").ok());
  EXPECT_NE(ValidateMetadata("type", "x").message().find("reserved"), std::string::npos);
  EXPECT_NE(ValidateMetadata("ok", "\xff").message().find("not valid UTF-8"), std::string::npos);
}

// 150 documents about apple pie crowd the one about an apple orchard out of
// any candidate list; a filter applied after retrieval would return nothing.
TEST(Filters, ApplyInsideRetrievalInEveryMode) {
  TempDir dir;
  auto engine = OpenEngine(dir.path());
  std::vector<SourceDocument> docs;
  for (int i = 0; i < 150; ++i)
    docs.push_back({"pie-" + std::to_string(i), "", "",
                    "Apple pie recipe " + std::to_string(i) + ": bake the apple pie with apples, apple pie spice and "
                    "butter until the apple pie is golden.",
                    {{"group", "recipes"}, {"n", std::to_string(i)}}});
  docs.push_back({"orchard", "", "", "The orchard by the river grows apple trees and pears; visitors pick fruit in autumn.",
                  {{"group", "farms"}}});
  auto rep = engine->IngestDocuments("f", docs, {});
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->files_added, 151);

  for (SearchMode mode : {SearchMode::kBm25, SearchMode::kDense, SearchMode::kHybrid}) {
    SearchOptions o;
    o.kb = "f";
    o.query = "apple pie recipe";
    o.mode = mode;
    o.k = 3;
    auto plain = engine->Search(o);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    std::vector<std::string> plain_ids = DocIds(*plain);
    EXPECT_EQ(std::count(plain_ids.begin(), plain_ids.end(), "orchard"), 0);
    o.candidates = 20;  // a short candidate list would hide it from a post-filter
    o.filters = {{"group", "=", "farms"}};
    auto filtered = engine->Search(o);
    ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
    EXPECT_EQ(DocIds(*filtered), std::vector<std::string>{"orchard"}) << SearchModeName(mode);
  }

  // Numbers compare as numbers: 9 < 10 < 100 (as text "100" < "9").
  SearchOptions o;
  o.kb = "f";
  o.query = "apple pie";
  o.k = 200;
  o.filters = {{"n", ">=", "100"}};
  auto big = engine->Search(o);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->hits.size(), 50u);
  for (const auto& h : big->hits) EXPECT_GE(std::stoi(h.doc_id.substr(4)), 100) << h.doc_id;
  // != also keeps documents without the key.
  o.filters = {{"n", "!=", "0"}};
  auto not_zero = engine->Search(o);
  ASSERT_TRUE(not_zero.ok());
  EXPECT_EQ(not_zero->hits.size(), 150u);  // 149 pies and the orchard
  // Conditions combine with AND.
  o.filters = {{"group", "=", "recipes"}, {"n", "<", "3"}};
  auto few = engine->Search(o);
  ASSERT_TRUE(few.ok());
  auto ids = DocIds(*few);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"pie-0", "pie-1", "pie-2"}));
  // A bad condition is an error, not an empty result.
  o.filters = {{"modified", ">=", "soon"}};
  EXPECT_NE(engine->Search(o).status().message().find("is not a date"), std::string::npos);
}

TEST(Filters, TypeAndDatesOfIngestedFiles) {
  TempDir dir, files;
  WriteFile(files / "notes.md", "# Notes\n\nThe vault opens at nine on working days.\n");
  WriteFile(files / "old.txt", "The vault opened at eight in the old days.\n");
  WriteFile(files / "table.csv", "question,answer\nWhen does the vault open?,At nine\n");
  struct utimbuf old_time{946684800, 946684800};  // 2000-01-01
  ASSERT_EQ(::utime((files / "old.txt").c_str(), &old_time), 0);
  auto engine = OpenEngine(dir.path());
  IngestOptions io;
  io.kb = "t";
  io.paths = {files.path()};
  io.metadata = {{"branch", "north"}};
  auto rep = engine->IngestFiles(io);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->files_added, 3);

  auto search = [&](std::vector<FilterCondition> filters) {
    SearchOptions o;
    o.kb = "t";
    o.query = "when does the vault open";
    o.k = 10;
    o.one_per_document = true;
    o.filters = std::move(filters);
    auto r = engine->Search(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> names;
    for (const auto& h : r->hits) names.push_back(std::filesystem::path(h.source).filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(search({{"type", "=", "md"}}), std::vector<std::string>{"notes.md"});
  EXPECT_EQ(search({{"type", "=", "csv|.txt"}}), (std::vector<std::string>{"old.txt", "table.csv"}));
  EXPECT_EQ(search({{"type", "!=", "md"}}), (std::vector<std::string>{"old.txt", "table.csv"}));
  EXPECT_EQ(search({{"modified", "<", "2001-01-01"}}), std::vector<std::string>{"old.txt"});
  EXPECT_EQ(search({{"modified", ">=", "2001-01-01"}}), (std::vector<std::string>{"notes.md", "table.csv"}));
  EXPECT_EQ(search({{"ingested", "<", "2001-01-01"}}), std::vector<std::string>{});
  EXPECT_EQ(search({{"branch", "=", "north"}}).size(), 3u);
  EXPECT_EQ(search({{"branch", "=", "south"}}).size(), 0u);

  // Metadata is part of the document: shown, and a change re-ingests it.
  auto doc = engine->GetDocument("t", files / "notes.md");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->info.metadata, (std::map<std::string, std::string>{{"branch", "north"}}));
  io.metadata = {{"branch", "south"}};
  rep = engine->IngestFiles(io);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->files_updated, 3);
  EXPECT_EQ(search({{"branch", "=", "north"}}).size(), 0u);
  EXPECT_EQ(search({{"branch", "=", "south"}}).size(), 3u);
  rep = engine->IngestFiles(io);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->files_unchanged, 3);
  // Bad metadata is refused before anything is written.
  io.metadata = {{"type", "x"}};
  EXPECT_NE(engine->IngestFiles(io).status().message().find("reserved"), std::string::npos);
}

TEST(LocalReranker, ScoresEachPairTheSameAloneOrInABatch) {
  BackendOptions o;
  o.model = kTestReranker;
  auto r = OpenReranker(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->model(), "ragd-test-reranker");
  EXPECT_EQ((*r)->backend(), "local");
  std::vector<std::string> docs = {"International wires take two working days.", "The cafeteria opens at noon.",
                                   "电汇通常需要两个工作日到账。", std::string(20000, 'x') + " very long"};
  auto batch = (*r)->Rerank("How long does a wire transfer take?", docs);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    EXPECT_TRUE(std::isfinite((*batch)[i]));
    auto one = (*r)->Rerank("How long does a wire transfer take?", {&docs[i], 1});
    ASSERT_TRUE(one.ok());
    EXPECT_NEAR((*one)[0], (*batch)[i], 1e-4) << i;
  }
  // Different documents get different scores: the head reads the pair.
  EXPECT_GT(std::abs((*batch)[0] - (*batch)[1]), 1e-4);
  auto empty = (*r)->Rerank("q", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(LocalReranker, AModelWithoutAClassificationHeadIsRefused) {
  BackendOptions o;
  o.model = "all-MiniLM-L6-v2";
  auto r = OpenReranker(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has no classification head"), std::string::npos) << r.status().ToString();
  o.model = "/nonexistent/reranker.gguf";
  r = OpenReranker(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/reranker.gguf"), std::string::npos) << r.status().ToString();
  o.backend = Backend::kOllama;
  EXPECT_NE(OpenReranker(o).status().message().find("Ollama has no rerank API"), std::string::npos);
}

TEST(Rerank, ReordersTheFusedCandidatesByTheRerankerScore) {
  TempDir dir;
  {
    auto engine = OpenEngine(dir.path());
    IngestOptions io;
    io.kb = "bank";
    io.paths = {std::string(RAGD_SOURCE_DIR) + "/examples/bank-kb"};
    ASSERT_TRUE(engine->IngestFiles(io).ok());
  }
  auto engine = OpenEngine(dir.path(), true);
  SearchOptions o;
  o.kb = "bank";
  o.query = "international wire transfer";
  o.k = 5;
  o.rerank_candidates = 12;
  auto reranked = engine->Search(o);
  ASSERT_TRUE(reranked.ok()) << reranked.status().ToString();
  EXPECT_EQ(reranked->reranker, "ragd-test-reranker");
  ASSERT_EQ(reranked->hits.size(), 5u);
  o.rerank = false;
  o.k = 12;
  auto fused = engine->Search(o);
  ASSERT_TRUE(fused.ok());
  EXPECT_TRUE(fused->reranker.empty());
  ASSERT_EQ(fused->hits.size(), 12u);

  // The reranked list is the 12 fused candidates ordered by the reranker's
  // own score for each (query, passage) pair, best 5 kept.
  BackendOptions ro;
  ro.model = kTestReranker;
  auto reranker = OpenReranker(ro);
  ASSERT_TRUE(reranker.ok());
  std::vector<std::string> texts;
  for (const auto& h : fused->hits) {
    EXPECT_FALSE(h.rerank_score.has_value());
    texts.push_back(h.text);
  }
  auto scores = (*reranker)->Rerank(o.query, texts);
  ASSERT_TRUE(scores.ok());
  std::vector<size_t> order(texts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return (*scores)[a] > (*scores)[b]; });
  for (size_t i = 0; i < 5; ++i) {
    const SearchHit& h = reranked->hits[i];
    EXPECT_EQ(h.rank, static_cast<int>(i) + 1);
    EXPECT_EQ(h.chunk_id, fused->hits[order[i]].chunk_id) << i;
    ASSERT_TRUE(h.rerank_score.has_value());
    EXPECT_NEAR(*h.rerank_score, (*scores)[order[i]], 1e-4);
    EXPECT_DOUBLE_EQ(h.score, *h.rerank_score);
  }

  // k beyond the candidates: the first 4 are reranked, the rest keep the
  // fused order and carry no reranker score.
  o.rerank = true;
  o.k = 12;
  o.rerank_candidates = 4;
  auto partial = engine->Search(o);
  ASSERT_TRUE(partial.ok());
  ASSERT_EQ(partial->hits.size(), 12u);
  std::vector<int64_t> head, fused_head;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(partial->hits[i].rerank_score.has_value());
    head.push_back(partial->hits[i].chunk_id);
    fused_head.push_back(fused->hits[i].chunk_id);
  }
  std::sort(head.begin(), head.end());
  std::sort(fused_head.begin(), fused_head.end());
  EXPECT_EQ(head, fused_head);
  for (size_t i = 4; i < 12; ++i) {
    EXPECT_FALSE(partial->hits[i].rerank_score.has_value()) << i;
    EXPECT_EQ(partial->hits[i].chunk_id, fused->hits[i].chunk_id) << i;
  }
}

}  // namespace ragd
