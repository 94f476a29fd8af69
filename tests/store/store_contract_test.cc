// The KbStore contract, one test list run against both stores: SQLite in a
// temporary folder, and a real PostgreSQL with pgvector that ctest starts
// (fixture `postgres`, tests/store/pg_fixture.sh; the URL is read from the
// file named by RAGD_TEST_PG_URL_FILE). Without it the PostgreSQL cases
// fail, they do not skip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "store/catalog.h"
#include "store/store.h"
#include "test_util.h"

namespace ragd {
namespace {

using store::ChunkRecord;
using store::DocumentWrite;
using store::KbCatalog;
using store::KbStore;
using store::ScoredId;

std::string PgUrl() {
  const char* file = std::getenv("RAGD_TEST_PG_URL_FILE");
  if (!file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return url;
}

std::vector<float> Unit(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

DocumentWrite Doc(const std::string& id, const std::vector<std::string>& chunks, const std::vector<std::vector<float>>& vecs) {
  DocumentWrite d;
  d.doc_id = id;
  d.source = "/docs/" + id + ".txt";
  d.mime = "text/plain";
  d.title = "Title of " + id;
  d.content_hash = "h-" + id;
  d.size_bytes = 100;
  d.mtime = 1700000000;
  for (size_t i = 0; i < chunks.size(); ++i) {
    store::ChunkWrite c;
    c.text = chunks[i];
    c.chunk_index = static_cast<int>(i);
    c.page = static_cast<int>(i) + 1;
    c.heading_path = "Part > " + std::to_string(i);
    c.char_start = static_cast<int64_t>(i) * 10;
    c.char_end = c.char_start + 9;
    d.chunks.push_back(c);
    d.embeddings.insert(d.embeddings.end(), vecs[i].begin(), vecs[i].end());
  }
  return d;
}

std::vector<int64_t> Ids(const std::vector<ScoredId>& hits) {
  std::vector<int64_t> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      auto c = store::OpenDirCatalog(dir_.path());
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      catalog_ = std::move(c).value();
    } else {
      const std::string url = PgUrl();
      ASSERT_FALSE(url.empty()) << "no PostgreSQL for the store tests: run them through ctest (fixture postgres), "
                                   "or set RAGD_TEST_PG_URL_FILE to a file holding a postgres:// URL";
      auto c = store::OpenPgCatalog(url);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      catalog_ = std::move(c).value();
    }
    // Unique per test and process: several test processes share the database.
    name_ = std::string("t-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
            std::to_string(::getpid());
    std::replace(name_.begin(), name_.end(), '/', '-');
  }
  void TearDown() override {
    if (catalog_) (void)catalog_->Drop(name_);
  }

  std::unique_ptr<KbStore> Create(int dim = 4, const std::string& model = "test/4") {
    auto s = catalog_->Open(name_, {true, model, dim});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<KbStore> OpenAgain() {
    auto s = catalog_->Open(name_, {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<KbCatalog> catalog_;
  std::string name_;
};

TEST_P(StoreContract, DocumentsChunksAndVectorsRoundTripExactly) {
  auto s = Create();
  ASSERT_TRUE(s);
  // Vectors whose floats need all 9 digits: the copy must be bit-exact.
  std::vector<std::vector<float>> va{{0.1f, 0.2f, 1.0f / 3, -0.7f}, {1e-8f, 0.123456789f, -2.5f, 3.14159274f}};
  DocumentWrite a = Doc("a", {"alpha apples grow", "alpha pears \"quoted\" \\ back{slash}"}, va);
  a.metadata = {{"dept", "cards"}, {"year", "2024"}};
  a.chunks[1].ocr_confidence = 0.875f;
  a.table = store::TableData{{"fee", "amount"}, {{"annual", "100"}, {"late", "35"}}};
  DocumentWrite b = Doc("b", {"beta 银行卡 挂失"}, {{0.5f, 0.5f, 0.5f, 0.5f}});
  ASSERT_TRUE(s->Commit(std::vector<DocumentWrite>{a, b}, {}).ok());
  EXPECT_EQ(s->generation(), 1u);

  auto found = s->FindDocument("a");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->source, "/docs/a.txt");
  EXPECT_EQ((*found)->chunk_count, 2);
  EXPECT_EQ((*found)->metadata.at("dept"), "cards");
  auto missing = s->FindDocument("zzz");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto chunks = s->ListChunks("a");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].text, "alpha pears \"quoted\" \\ back{slash}");
  EXPECT_EQ((*chunks)[1].heading_path, "Part > 1");
  EXPECT_EQ((*chunks)[1].page, 2);
  EXPECT_EQ((*chunks)[1].char_end, 19);
  EXPECT_FLOAT_EQ((*chunks)[1].ocr_confidence, 0.875f);
  EXPECT_LT((*chunks)[0].ocr_confidence, 0);
  std::vector<int64_t> ids{(*chunks)[1].id, (*chunks)[0].id};
  auto vecs = s->GetVectors(ids);
  ASSERT_TRUE(vecs.ok()) << vecs.status().ToString();
  ASSERT_EQ(vecs->size(), 8u);
  EXPECT_EQ(std::memcmp(vecs->data(), va[1].data(), 16), 0);
  EXPECT_EQ(std::memcmp(vecs->data() + 4, va[0].data(), 16), 0);
  auto b_chunks = s->ListChunks("b");
  ASSERT_TRUE(b_chunks.ok());
  EXPECT_EQ((*b_chunks)[0].text, "beta 银行卡 挂失");

  auto tables = s->ListTables();
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 1u);
  EXPECT_EQ((*tables)[0].data.rows[1][1], "35");
  EXPECT_TRUE(s->HasTable("a").value());
  EXPECT_FALSE(s->HasTable("b").value());

  // Replace a (one chunk now) and remove b in one commit.
  DocumentWrite a2 = Doc("a", {"alpha only"}, {{1, 0, 0, 0}});
  ASSERT_TRUE(s->Commit(std::vector<DocumentWrite>{a2}, std::vector<std::string>{"b"}).ok());
  auto docs = s->ListDocuments();
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].chunk_count, 1);
  EXPECT_TRUE((s->FindDocument("a").value())->metadata.empty());
  EXPECT_FALSE(s->HasTable("a").value());
  auto ids_now = s->ListChunkIds();
  ASSERT_TRUE(ids_now.ok());
  ASSERT_EQ(ids_now->size(), 1u);
  auto gone = s->GetChunks(ids);
  EXPECT_EQ(gone.status().code(), StatusCode::kCorruption);  // ids of removed chunks
  auto stats = s->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 1);
  EXPECT_EQ(stats->chunks, 1);
  EXPECT_EQ(stats->generation, 2u);
  EXPECT_EQ(stats->embed_model, "test/4");
  EXPECT_TRUE(s->CheckConsistency().ok()) << s->CheckConsistency().ToString();
  // A mismatched embedding is refused before anything is written.
  DocumentWrite bad = Doc("c", {"x"}, {{1, 0, 0, 0}});
  bad.embeddings.pop_back();
  EXPECT_EQ(s->Commit(std::vector<DocumentWrite>{bad}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Stats()->documents, 1);
}

TEST_P(StoreContract, LexicalSearchIsBm25WithTheSameAnalyzer) {
  auto s = Create();
  ASSERT_TRUE(s);
  auto empty = s->LexicalSearch("annual fee", 10);  // no chunks yet: nothing, not an error
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  std::vector<float> v{1, 0, 0, 0};
  std::vector<DocumentWrite> docs{
      Doc("fees", {"The annual fee for the gold card is 300 yuan; the fee is waived after 6 purchases."}, {v}),
      Doc("loss", {"To report a lost card, call the hotline; the card is frozen at once."}, {v}),
      Doc("rates", {"Fixed deposits pay interest at the published rate."}, {v}),
      Doc("zh", {"银行卡挂失请拨打客服热线，挂失后卡片立即冻结。"}, {v}),
      Doc("fees2", {"Fee, fee, fee: every fee of every card in one list of fees."}, {v})};
  docs[4].metadata = {{"kind", "list"}};
  ASSERT_TRUE(s->Commit(docs, {}).ok());
  auto doc_of = [&](int64_t id) { return (s->GetChunks(std::vector<int64_t>{id}).value())[0].doc_id; };

  auto hits = s->LexicalSearch("annual fee", 10);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);  // only chunks with a query term
  EXPECT_EQ(doc_of((*hits)[0].id), "fees");  // "annual" is rarer than "fee"
  EXPECT_GT((*hits)[0].score, (*hits)[1].score);
  // Stemming and case folding meet ("Cards" -> card), stop words drop out.
  auto lost = s->LexicalSearch("the LOST Cards", 10);
  ASSERT_TRUE(lost.ok());
  ASSERT_FALSE(lost->empty());
  EXPECT_EQ(doc_of((*lost)[0].id), "loss");
  auto zh = s->LexicalSearch("挂失银行卡", 10);
  ASSERT_TRUE(zh.ok());
  ASSERT_EQ(zh->size(), 1u);
  EXPECT_EQ(doc_of((*zh)[0].id), "zh");
  // The filter is part of the search: the best match outside it is gone.
  FilterCondition kind{"kind", "=", "list"};
  auto filtered = s->LexicalSearch("annual fee", 10, std::span<const FilterCondition>(&kind, 1));
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ(doc_of((*filtered)[0].id), "fees2");
  EXPECT_TRUE(s->LexicalSearch("the of and", 10)->empty());  // nothing but stop words
  // Quotes and operators are words, not syntax.
  EXPECT_TRUE(s->LexicalSearch("\"fee\" OR (card", 10).ok());
}

TEST_P(StoreContract, BothStoresScoreBm25Alike) {
  // The same corpus in SQLite (FTS5's bm25) and in this store: equal scores.
  if (GetParam() == "sqlite") GTEST_SKIP() << "SQLite is the reference";
  auto s = Create();
  ASSERT_TRUE(s);
  testing::TempDir ref_dir;
  auto ref = store::OpenSqliteStore(ref_dir.path(), {true, "test/4", 4});
  ASSERT_TRUE(ref.ok());
  std::vector<DocumentWrite> docs;
  const char* texts[] = {"card fee card fee annual", "a long text about the card and many other words that go on and on",
                         "annual report", "fee", "card card card", "interest rate for deposits and card fees"};
  for (int i = 0; i < 6; ++i) docs.push_back(Doc("d" + std::to_string(i), {texts[i]}, {{1, 0, 0, 0}}));
  ASSERT_TRUE(s->Commit(docs, {}).ok());
  ASSERT_TRUE((*ref)->Commit(docs, {}).ok());
  for (const char* q : {"card fee", "annual", "card", "deposits interest fee"}) {
    auto a = s->LexicalSearch(q, 10);
    auto b = (*ref)->LexicalSearch(q, 10);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size()) << q;
    for (size_t i = 0; i < a->size(); ++i) EXPECT_NEAR((*a)[i].score, (*b)[i].score, 1e-4) << q << " #" << i;
  }
}

TEST_P(StoreContract, ASelectiveFilterStillGetsKDenseHits) {
  // 2,000 chunks in 400 documents; the filter keeps 4 documents (20
  // chunks). An HNSW walk that filtered only its first ef_search candidates
  // would return few or none of them; the store must return the 10 best.
  const int dim = 16;
  auto s = Create(dim, "test/16");
  ASSERT_TRUE(s);
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  std::vector<DocumentWrite> docs;
  for (int d = 0; d < 400; ++d) {
    std::vector<std::string> texts;
    std::vector<std::vector<float>> vecs;
    for (int c = 0; c < 5; ++c) {
      texts.push_back("chunk " + std::to_string(c) + " of document " + std::to_string(d));
      std::vector<float> v(dim);
      for (float& x : v) x = g(rng);
      vecs.push_back(Unit(v));
    }
    docs.push_back(Doc("doc" + std::to_string(d), texts, vecs));
    docs.back().metadata = {{"team", d % 100 == 0 ? "rare" : "common"}};
  }
  ASSERT_TRUE(s->Commit(docs, {}).ok());
  std::vector<float> q(dim);
  for (float& x : q) x = g(rng);
  q = Unit(q);
  FilterCondition rare{"team", "=", "rare"};
  std::span<const FilterCondition> filter(&rare, 1);
  auto approx = s->DenseSearch(q, 10, false, filter);
  auto exact = s->DenseSearch(q, 10, true, filter);
  ASSERT_TRUE(approx.ok()) << approx.status().ToString();
  ASSERT_TRUE(exact.ok());
  ASSERT_EQ(exact->size(), 10u);
  EXPECT_EQ(Ids(*approx), Ids(*exact));
  if (GetParam() == "postgres") {
    // PostgreSQL's planner scans exactly when it sees the filter is
    // selective (as above). On a large knowledge base, or with a filter it
    // cannot estimate, it walks the HNSW index instead; force that walk here
    // (a second catalog whose connections have enable_seqscan and enable_sort off): the
    // iterative scan keeps walking until 10 rows pass the filter, where a
    // plain walk would stop after ef_search candidates with 0 or 1 of them.
    auto forced = store::OpenPgCatalog(PgUrl() + "?options=-c%20enable_seqscan%3Doff%20-c%20enable_sort%3Doff");
    ASSERT_TRUE(forced.ok()) << forced.status().ToString();
    auto walked = (*forced)->Open(name_, {});
    ASSERT_TRUE(walked.ok());
    auto via_index = (*walked)->DenseSearch(q, 10, false, filter);
    ASSERT_TRUE(via_index.ok()) << via_index.status().ToString();
    EXPECT_EQ(Ids(*via_index), Ids(*exact));
  }
  // Unfiltered: the approximate top 10 finds most of the exact one, and the
  // scores are cosines (unit vectors).
  auto all_approx = s->DenseSearch(q, 10, false);
  auto all_exact = s->DenseSearch(q, 10, true);
  ASSERT_TRUE(all_approx.ok() && all_exact.ok());
  const std::vector<int64_t> exact_ids = Ids(*all_exact);
  int overlap = 0;
  for (int64_t id : Ids(*all_approx)) overlap += std::count(exact_ids.begin(), exact_ids.end(), id) > 0;
  EXPECT_GE(overlap, 8);
  EXPECT_LE((*all_exact)[0].score, 1.0001f);
  EXPECT_GE((*all_exact)[0].score, (*all_exact)[9].score);
  EXPECT_EQ(s->DenseSearch(std::vector<float>(3, 0.5f), 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreContract, FiltersOnBuiltInKeysAndNumbers) {
  auto s = Create();
  ASSERT_TRUE(s);
  std::vector<float> v{1, 0, 0, 0};
  std::vector<DocumentWrite> docs{Doc("a", {"x"}, {v}), Doc("b", {"x"}, {v}), Doc("c", {"x"}, {v})};
  docs[0].metadata = {{"year", "2023"}};
  docs[1].metadata = {{"year", "2025"}};
  docs[2].metadata = {{"year", "unknown"}};
  docs[2].source = "/other/c.PDF";
  ASSERT_TRUE(s->Commit(docs, {}).ok());
  auto match = [&](std::vector<FilterCondition> f) {
    auto r = s->MatchingDocuments(f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(match({{"year", ">=", "2024"}}), V({"b"}));  // numeric, not text, and "unknown" is no number
  EXPECT_EQ(match({{"year", "!=", "2023"}}), V({"b", "c"}));
  EXPECT_EQ(match({{"source", "=", "/docs/"}}), V({"a", "b"}));
  EXPECT_EQ(match({{"type", "=", "pdf|.md"}}), V({"c"}));
  EXPECT_EQ(match({{"doc_id", "=", "b"}, {"year", "<", "2030"}}), V({"b"}));
  EXPECT_EQ(match({{"modified", ">=", "2023-11-14"}}), V({"a", "b", "c"}));
  EXPECT_EQ(match({{"modified", "<", "2023-11-14"}}), V({}));
}

TEST_P(StoreContract, SettingsSummariesInteractionsAndSessions) {
  auto s = Create();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Commit(std::vector<DocumentWrite>{Doc("a", {"x"}, {{1, 0, 0, 0}})}, {}).ok());
  ASSERT_TRUE(s->SetSetting("search.fusion", "rrf").ok());
  ASSERT_TRUE(s->SetSetting("search.fusion", "zscore").ok());
  EXPECT_EQ(s->GetSettings()->at("search.fusion"), "zscore");

  EXPECT_FALSE(s->KeptSummary("a")->has_value());
  ASSERT_TRUE(s->KeepSummary("a", "{\"summary\": \"first\"}").ok());
  ASSERT_TRUE(s->KeepSummary("a", "{\"summary\": \"second\"}").ok());
  EXPECT_EQ(*s->KeptSummary("a").value(), "{\"summary\": \"second\"}");
  EXPECT_EQ(s->KeepSummary("nope", "{}").code(), StatusCode::kNotFound);
  EXPECT_EQ(s->KeptSummary("nope").status().code(), StatusCode::kNotFound);

  EXPECT_EQ(s->InteractionCount().value(), 0);
  std::vector<Interaction> rows{{"u1", "a", 5.0, 10.0}, {"u2", "a", std::nullopt, std::nullopt}, {"u1", "b", 1.5, 11.0}};
  ASSERT_TRUE(s->AddInteractions(rows).ok());
  auto back = s->ListInteractions();
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[2].item, "b");
  EXPECT_EQ(*(*back)[2].rating, 1.5);
  EXPECT_FALSE((*back)[1].rating.has_value());
  EXPECT_EQ(s->InteractionCount().value(), 3);
  EXPECT_EQ(s->InteractionUsers().value(), 2);

  EXPECT_FALSE(s->LoadSession("s1")->has_value());
  ASSERT_TRUE(s->SaveSession("s1", "{\"turns\": 1}").ok());
  ASSERT_TRUE(s->SaveSession("s1", "{\"turns\": 2}").ok());
  ASSERT_TRUE(s->SaveSession("s2", "{}").ok());
  EXPECT_EQ(*s->LoadSession("s1").value(), "{\"turns\": 2}");
  EXPECT_EQ(s->ListSessions()->size(), 2u);
  EXPECT_TRUE(s->DeleteSession("s2").value());
  EXPECT_FALSE(s->DeleteSession("s2").value());
  // A replaced document loses its kept summary.
  ASSERT_TRUE(s->Commit(std::vector<DocumentWrite>{Doc("a", {"y"}, {{1, 0, 0, 0}})}, {}).ok());
  EXPECT_FALSE(s->KeptSummary("a")->has_value());
}

TEST_P(StoreContract, AnotherHandleSeesCommitsAfterRefresh) {
  auto writer = Create();
  ASSERT_TRUE(writer);
  auto reader = OpenAgain();
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->generation(), 0u);
  ASSERT_TRUE(writer->Commit(std::vector<DocumentWrite>{Doc("a", {"fresh words"}, {{0, 1, 0, 0}})}, {}).ok());
  ASSERT_TRUE(writer->Flush().ok());
  ASSERT_TRUE(reader->Refresh().ok());
  EXPECT_EQ(reader->generation(), 1u);
  auto hits = reader->DenseSearch(std::vector<float>{0, 1, 0, 0}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(reader->LexicalSearch("fresh", 5)->size(), 1u);
}

TEST_P(StoreContract, ReembeddingSwapsEveryVectorAtOnce) {
  auto s = Create();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Commit(std::vector<DocumentWrite>{Doc("a", {"one", "two"}, {{1, 0, 0, 0}, {0, 1, 0, 0}})}, {}).ok());
  auto todo = s->ChunksToStage("other/2");
  ASSERT_TRUE(todo.ok());
  ASSERT_EQ(todo->size(), 2u);
  // Half staged: the swap refuses and nothing changes.
  ASSERT_TRUE(s->StageVectors("other/2", 2, std::span<const int64_t>(todo->data(), 1), std::vector<float>{0.6f, 0.8f}).ok());
  EXPECT_EQ(s->ChunksToStage("other/2")->size(), 1u);
  EXPECT_EQ(s->SwapStagedVectors("other/2", 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->embed_model(), "test/4");
  ASSERT_TRUE(s->StageVectors("other/2", 2, std::span<const int64_t>(todo->data() + 1, 1), std::vector<float>{1, 0}).ok());
  ASSERT_TRUE(s->SwapStagedVectors("other/2", 2).ok());
  EXPECT_EQ(s->embed_model(), "other/2");
  EXPECT_EQ(s->Stats()->dim, 2);
  auto vecs = s->GetVectors(*todo);
  ASSERT_TRUE(vecs.ok());
  EXPECT_EQ(*vecs, (std::vector<float>{0.6f, 0.8f, 1, 0}));
  auto hits = s->DenseSearch(std::vector<float>{1, 0}, 1);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, (*todo)[1]);
  EXPECT_TRUE(s->CheckConsistency().ok());
}

TEST_P(StoreContract, ConcurrentWritersThroughTwoHandlesLoseNothing) {
  // Two handles (as two processes would have) commit in parallel; every
  // document lands and the counters behind BM25 stay exact.
  auto a = Create();
  ASSERT_TRUE(a);
  auto b = OpenAgain();
  ASSERT_TRUE(b);
  auto write = [](KbStore* s, const std::string& prefix) {
    for (int i = 0; i < 20; ++i) {
      Status st = s->Commit(std::vector<DocumentWrite>{Doc(prefix + std::to_string(i), {"shared words " + prefix}, {{1, 0, 0, 0}})}, {});
      if (!st.ok()) return st;
    }
    return Status::OK();
  };
  Status sa, sb;
  if (GetParam() == "sqlite") {
    // One SQLite file takes one writer at a time (the engine's lock); here
    // the two handles take turns, still through separate connections.
    sa = write(a.get(), "a");
    sb = write(b.get(), "b");
  } else {
    std::thread ta([&] { sa = write(a.get(), "a"); });
    std::thread tb([&] { sb = write(b.get(), "b"); });
    ta.join();
    tb.join();
  }
  ASSERT_TRUE(sa.ok()) << sa.ToString();
  ASSERT_TRUE(sb.ok()) << sb.ToString();
  ASSERT_TRUE(a->Refresh().ok());
  EXPECT_EQ(a->Stats()->documents, 40);
  EXPECT_EQ(a->generation(), 40u);
  EXPECT_TRUE(a->CheckConsistency().ok()) << a->CheckConsistency().ToString();
  EXPECT_EQ(a->LexicalSearch("shared", 100)->size(), 40u);
}

TEST_P(StoreContract, CatalogCreatesListsLocksAndDrops) {
  auto s = Create();
  ASSERT_TRUE(s);
  s.reset();
  auto names = catalog_->List();
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(), name_), names->end());
  EXPECT_TRUE(catalog_->Exists(name_).value());
  EXPECT_EQ(catalog_->Open(name_ + "-none", {}).status().code(), StatusCode::kNotFound);
  {
    auto lock = catalog_->LockForWriting(name_);
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  }
  auto again = catalog_->LockForWriting(name_);  // released with the first
  ASSERT_TRUE(again.ok());
  again->reset();
  ASSERT_TRUE(catalog_->Drop(name_).ok());
  EXPECT_FALSE(catalog_->Exists(name_).value());
  EXPECT_EQ(catalog_->Drop(name_).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace ragd
