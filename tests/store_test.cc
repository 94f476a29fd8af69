// Store round trip and crash safety with real SQLite files and the real
// embedding model; the crash is a real SIGKILL of a child process.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "ingest/ingest_pipeline.h"
#include "ragd/engine.h"
#include "store/store.h"
#include "test_util.h"

namespace ragd {

using ragd::testing::TempDir;

namespace {

store::DocumentWrite Doc(const std::string& id, const std::vector<std::string>& chunks, float seed) {
  store::DocumentWrite d;
  d.doc_id = id;
  d.source = id + ".txt";
  d.content_hash = "h-" + id;
  for (size_t i = 0; i < chunks.size(); ++i) {
    store::ChunkWrite c;
    c.text = chunks[i];
    c.chunk_index = static_cast<int>(i);
    d.chunks.push_back(c);
    for (int k = 0; k < 4; ++k) d.embeddings.push_back(k == static_cast<int>(i % 4) ? 1.0f : seed);
  }
  return d;
}

int64_t CountDocuments(const std::string& db_path) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM documents", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

}  // namespace

TEST(Store, RoundTripReplaceAndRemove) {
  TempDir dir;
  {
    auto s = store::OpenSqliteStore(dir.path(), {true, "test/4", 4});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<store::DocumentWrite> docs{Doc("a", {"alpha apples", "alpha pears"}, 0.1f), Doc("b", {"beta bananas"}, 0.2f)};
    ASSERT_TRUE((*s)->Commit(docs, {}).ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto stats = (*s)->Stats();
  EXPECT_EQ(stats->documents, 2);
  EXPECT_EQ(stats->chunks, 3);
  EXPECT_EQ(stats->vectors, 3);
  auto lex = (*s)->LexicalSearch("bananas", 5);
  ASSERT_EQ(lex->size(), 1u);
  auto chunks = (*s)->GetChunks({&(*lex)[0].id, 1});
  EXPECT_EQ((*chunks)[0].text, "beta bananas");
  EXPECT_EQ((*chunks)[0].doc_id, "b");
  std::vector<float> q{1, 0.1f, 0.1f, 0.1f};
  auto dense = (*s)->DenseSearch(q, 1);
  auto top = (*s)->GetChunks({&(*dense)[0].id, 1});
  EXPECT_EQ((*top)[0].text, "alpha apples");
  // Replace a, remove b.
  std::vector<store::DocumentWrite> repl{Doc("a", {"alpha only"}, 0.3f)};
  std::vector<std::string> removes{"b"};
  ASSERT_TRUE((*s)->Commit(repl, removes).ok());
  EXPECT_EQ((*s)->Stats()->chunks, 1);
  EXPECT_EQ((*s)->Stats()->vectors, 1);
  EXPECT_TRUE((*s)->LexicalSearch("bananas", 5)->empty());
  EXPECT_TRUE((*s)->CheckConsistency().ok());
}

TEST(Store, StaleOrDamagedVectorFileIsRebuiltFromTheDatabase) {
  TempDir dir;
  {
    auto s = store::OpenSqliteStore(dir.path(), {true, "test/4", 4});
    std::vector<store::DocumentWrite> docs{Doc("a", {"one", "two"}, 0.1f)};
    ASSERT_TRUE((*s)->Commit(docs, {}).ok());
    ASSERT_TRUE((*s)->Flush().ok());
    std::vector<store::DocumentWrite> more{Doc("b", {"three"}, 0.2f)};
    ASSERT_TRUE((*s)->Commit(more, {}).ok());
    // Simulate a crash after the commit, before the index file is saved.
    std::string old = ragd::testing::ReadAll(dir / store::kVectorFile);
    ragd::testing::WriteFile(dir / "saved.idx", old);
  }
  std::filesystem::copy_file(dir / "saved.idx", dir / store::kVectorFile, std::filesystem::copy_options::overwrite_existing);
  {
    auto s = store::OpenSqliteStore(dir.path(), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->Stats()->vectors, 3);  // stale generation -> rebuilt
    EXPECT_TRUE((*s)->CheckConsistency().ok());
  }
  ragd::testing::WriteFile(dir / store::kVectorFile, "garbage");
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Stats()->vectors, 3);
}

namespace {

// A store whose lexical searches all go to FTS5 (RAGD_LEXICAL_INDEX=fts5):
// the reference the derived index is held to.
std::unique_ptr<store::KbStore> OpenFts5Only(const std::string& dir) {
  setenv("RAGD_LEXICAL_INDEX", "fts5", 1);
  auto s = store::OpenSqliteStore(dir, {});
  unsetenv("RAGD_LEXICAL_INDEX");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

void ExpectSameLexical(store::KbStore& got, store::KbStore& want, const std::string& query,
                       std::span<const FilterCondition> filter = {}) {
  auto a = got.LexicalSearch(query, 10, filter);
  auto b = want.LexicalSearch(query, 10, filter);
  ASSERT_TRUE(a.ok() && b.ok()) << query;
  ASSERT_EQ(a->size(), b->size()) << query;
  for (size_t i = 0; i < a->size(); ++i) {
    // Ties (to float rounding) may come in another order; the scores at
    // each rank may not.
    EXPECT_NEAR((*a)[i].score, (*b)[i].score, 1e-5 * std::abs((*b)[i].score)) << query << " rank " << i;
    auto apart = [&](size_t j) { return j >= a->size() || std::abs((*a)[i].score - (*a)[j].score) > 1e-5 * std::abs((*a)[i].score); };
    if (apart(i + 1) && (i == 0 || apart(i - 1))) {
      EXPECT_EQ((*a)[i].id, (*b)[i].id) << query << " rank " << i;
    }
  }
}

}  // namespace

// The derived lexical index answers with FTS5's bm25 ranking: English with
// stemming and stop words, Chinese, repeated and unknown words, filters,
// and after replacing and removing documents; a crash before its file is
// saved, or a damaged file, gets it rebuilt from the chunks' text.
TEST(Store, LexicalIndexRanksAsFts5AndIsRebuiltWhenStale) {
  TempDir dir;
  const std::vector<std::string> words{"annual", "fee", "card", "cards", "platinum", "gold", "transfer",
                                       "transfers", "running", "runs", "wire", "abroad", "lost", "report",
                                       "信用卡", "年费", "挂失", "转账", "境外", "的", "the", "of"};
  std::mt19937 rng(5);
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  std::uniform_int_distribution<int> len(1, 40);
  auto text = [&] {
    std::string t;
    for (int i = len(rng); i > 0; --i) t += words[pick(rng)] + (words[pick(rng)].size() > 4 ? " " : ", ");
    return t;
  };
  std::vector<store::DocumentWrite> docs;
  for (int d = 0; d < 60; ++d) {
    std::vector<std::string> chunks;
    for (int c = d % 5; c >= 0; --c) chunks.push_back(text());
    docs.push_back(Doc("d" + std::to_string(d), chunks, 0.1f));
    docs.back().metadata["team"] = d % 3 == 0 ? "cards" : "payments";
  }
  const std::vector<std::string> queries{"annual fee of the platinum card", "transfer abroad", "wire wire transfers",
                                         "running", "信用卡年费", "境外转账 report", "zebra", "the of",
                                         "Cards lost: report them"};
  const FilterCondition cards{"team", "=", "cards"};
  {
    auto s = store::OpenSqliteStore(dir.path(), {true, "test/4", 4});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Commit(docs, {}).ok());
    ASSERT_TRUE((*s)->Flush().ok());
    auto fts5 = OpenFts5Only(dir.path());
    ASSERT_TRUE(fts5);
    for (const auto& q : queries) {
      ExpectSameLexical(**s, *fts5, q);
      ExpectSameLexical(**s, *fts5, q, {&cards, 1});
    }
    // Replace some documents, remove others: df, N and lengths all move.
    std::vector<store::DocumentWrite> changed{Doc("d1", {text(), text()}, 0.2f), Doc("d70", {text()}, 0.2f)};
    std::vector<std::string> removed{"d2", "d3", "d10"};
    ASSERT_TRUE((*s)->Commit(changed, removed).ok());
    ASSERT_TRUE(fts5->Refresh().ok());
    for (const auto& q : queries) ExpectSameLexical(**s, *fts5, q);
    EXPECT_TRUE((*s)->CheckConsistency().ok());
    // Killed here: the commit is in the database, lexical.idx is a
    // generation behind.
  }
  auto fts5 = OpenFts5Only(dir.path());
  {
    auto s = store::OpenSqliteStore(dir.path(), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const auto& q : queries) ExpectSameLexical(**s, *fts5, q);
    EXPECT_TRUE((*s)->CheckConsistency().ok());
    ASSERT_TRUE((*s)->Flush().ok());
  }
  std::string saved = ragd::testing::ReadAll(dir / store::kLexicalFile);
  saved[saved.size() / 2] ^= 0x20;
  ragd::testing::WriteFile(dir / store::kLexicalFile, saved);
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (const auto& q : queries) ExpectSameLexical(**s, *fts5, q);
  EXPECT_TRUE((*s)->CheckConsistency().ok());
}

// Two stores on one knowledge base, as `ragd serve` and a separate `ragd
// ingest` have: after Refresh the reader's dense search sees the writer's
// commits, and never returns an id the database no longer holds.
TEST(Store, RefreshSeesAnotherConnectionsCommits) {
  TempDir dir;
  auto writer = store::OpenSqliteStore(dir.path(), {true, "test/4", 4});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<store::DocumentWrite> first{Doc("a", {"one"}, 0.1f)};
  ASSERT_TRUE((*writer)->Commit(first, {}).ok());
  auto reader = store::OpenSqliteStore(dir.path(), {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->Refresh().ok());  // nothing changed
  auto dense_ids = [&](std::vector<float> q) {
    std::vector<int64_t> ids;
    auto hits = (*reader)->DenseSearch(q, 10);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (hits.ok())
      for (const auto& h : hits.value()) ids.push_back(h.id);
    return ids;
  };
  EXPECT_EQ(dense_ids({1, 0, 0, 0}).size(), 1u);

  // Replace a (its chunk id goes) and add b, through the other connection.
  std::vector<store::DocumentWrite> second{Doc("a", {"uno"}, 0.1f), Doc("b", {"two", "three"}, 0.2f)};
  ASSERT_TRUE((*writer)->Commit(second, {}).ok());
  ASSERT_TRUE((*reader)->Refresh().ok());
  std::vector<int64_t> ids = dense_ids({1, 0, 0, 0});
  ASSERT_EQ(ids.size(), 3u);
  auto chunks = (*reader)->GetChunks(ids);
  ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
  std::vector<std::string> texts;
  for (const auto& c : *chunks) texts.push_back(c.text);
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"three", "two", "uno"}));
  // The writer's own commits keep its index current without a reload.
  ASSERT_TRUE((*writer)->Refresh().ok());
  EXPECT_EQ((*writer)->Stats()->vectors, 3);
}

TEST(Store, AFileThatIsNotADatabaseIsCorruption) {
  TempDir dir;
  ragd::testing::WriteFile(dir / store::kDatabaseFile, "this is not a database, just text that is long enough......");
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption) << s.status().ToString();
}

TEST(Store, ANewerSchemaVersionIsRefused) {
  TempDir dir;
  { ASSERT_TRUE(store::OpenSqliteStore(dir.path(), {true, "test/4", 4}).ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / store::kDatabaseFile).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("schema version 99, newer than this ragd"), std::string::npos) << s.status().message();
}

// A child process ingests many small documents and is SIGKILLed after its
// first commit; the knowledge base must open consistent, holding whole batches.
TEST(Store, KilledIngestLeavesTheLastCommittedState) {
  TempDir data;
  std::string db = data / "crash/kb.sqlite";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    EngineOptions o;
    o.data_dir = data.path();
    auto engine = Engine::Open(o);
    if (!engine.ok()) _exit(2);
    std::vector<SourceDocument> docs;
    for (int i = 0; i < 20000; ++i)
      docs.push_back({"d" + std::to_string(i), "", "", "note number " + std::to_string(i) + " about fees"});
    SplitOptions split;
    (void)(*engine)->IngestDocuments("crash", docs, split);
    _exit(0);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(db) && CountDocuments(db) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // land mid-way through a later batch
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it could be killed";

  EngineOptions o;
  o.data_dir = data.path();
  auto engine = Engine::Open(o);
  ASSERT_TRUE(engine.ok());
  auto info = (*engine)->GetKnowledgeBase("crash");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_GT(info->documents, 0);
  EXPECT_EQ(info->documents % 256, 0) << "only whole batches of 256 documents may be visible";
  EXPECT_EQ(info->chunks, info->documents);
  auto s = store::OpenSqliteStore(data / "crash", {});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->CheckConsistency().ok()) << (*s)->CheckConsistency().ToString();
  // Searching works and the re-run completes the rest.
  SearchOptions so;
  so.kb = "crash";
  so.query = "note number 7 about fees";
  EXPECT_TRUE((*engine)->Search(so).ok());
}

// Tampering the database behind ragd's back is caught, and the message
// names the first disagreement.
TEST(Store, CheckConsistencyNamesTheFirstDisagreement) {
  TempDir dir;
  {
    auto s = store::OpenSqliteStore(dir.path(), {true, "test-model", 4});
    ASSERT_TRUE(s.ok());
    std::vector<store::DocumentWrite> docs{Doc("a", {"one", "two"}, 0.1f), Doc("b", {"three"}, 0.2f)};
    ASSERT_TRUE((*s)->Commit(docs, {}).ok());
    ASSERT_TRUE((*s)->Flush().ok());
    EXPECT_TRUE((*s)->CheckConsistency().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "kb.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE documents SET chunk_count = 5 WHERE doc_id = 'b'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = store::OpenSqliteStore(dir.path(), {});
  ASSERT_TRUE(s.ok());
  Status st = (*s)->CheckConsistency();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message(), "document b lists 5 chunks but has 1");
}

namespace {

// Fault injection (named as such: an embedding server that goes away in the
// middle of an ingest cannot be had on demand): a 4-d embedder whose calls
// fail from the `fail_from`-th on.
class EmbedderThatFailsLater final : public Embedder {
 public:
  explicit EmbedderThatFailsLater(int fail_from) : fail_from_(fail_from) {}
  Status Embed(std::span<const std::string> texts, EmbedKind, float* out) override {
    if (++calls_ >= fail_from_) return Status::Unavailable("the embedding server went away");
    for (size_t i = 0; i < texts.size() * 4; ++i) out[i] = i % 4 == 0 ? 1.0f : 0.0f;
    return Status::OK();
  }
  Result<int> CountTokens(std::string_view text) override { return static_cast<int>(text.size()); }
  int dim() const override { return 4; }
  int max_tokens() const override { return 512; }
  std::string model_id() const override { return "test/4"; }

 private:
  int fail_from_;
  int calls_ = 0;
};

}  // namespace

// An embedding error in the middle of an ingest ends the run with that
// error, keeps every batch committed before it, and commits nothing after
// it; running the ingest again completes it.
TEST(IngestPipeline, AnEmbeddingErrorEndsTheRunAndKeepsTheCommittedBatches) {
  TempDir dir;
  auto s = store::OpenSqliteStore(dir.path(), {true, "test/4", 4});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<SourceDocument> docs;
  for (int i = 0; i < 700; ++i) docs.push_back({"doc" + std::to_string(i), "", "", "text of document " + std::to_string(i), {}});
  SplitOptions split;
  split.unit = ChunkUnit::kChars;
  // One chunk per document, 256 documents per batch, 8 texts per embedder
  // call: calls 1-32 are the first batch, call 33 opens the second.
  EmbedderThatFailsLater failing(33);
  auto splitter = ingest::MakeSplitter(split, failing);
  ASSERT_TRUE(splitter.ok());
  auto r = ingest::IngestDocuments({s->get(), &failing, &*splitter}, docs, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "the embedding server went away");
  EXPECT_EQ((*s)->Stats()->documents, 256);
  EXPECT_TRUE((*s)->CheckConsistency().ok());

  EmbedderThatFailsLater working(1 << 30);
  r = ingest::IngestDocuments({s->get(), &working, &*splitter}, docs, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_unchanged, 256);
  EXPECT_EQ(r->files_added, 444);
  EXPECT_EQ(r->chunks_written, 444);
  EXPECT_EQ((*s)->Stats()->documents, 700);
  EXPECT_TRUE((*s)->CheckConsistency().ok());
}

// Backups taken by a second engine (as `ragd kb backup` beside a running
// ingest) while the first one commits: each holds whole commits only,
// restores under a new name, verifies, and can be searched.
TEST(Backup, SnapshotsDuringAnIngestHoldWholeCommitsAndRestore) {
  TempDir data, backups;
  constexpr int kPerCommit = 24, kCommits = 5;
  auto writer = Engine::Open({.data_dir = data.path()});
  auto reader = Engine::Open({.data_dir = data.path()});
  ASSERT_TRUE(writer.ok() && reader.ok());
  std::vector<SourceDocument> first;
  for (int i = 0; i < kPerCommit; ++i)
    first.push_back({"d" + std::to_string(i), "", "", "note number " + std::to_string(i) + " about card fees"});
  ASSERT_TRUE((*writer)->IngestDocuments("live", first, {}).ok());

  std::atomic<bool> done{false};
  std::thread ingest([&] {
    for (int c = 1; c < kCommits; ++c) {
      std::vector<SourceDocument> docs;
      for (int i = 0; i < kPerCommit; ++i) {
        int n = c * kPerCommit + i;
        docs.push_back({"d" + std::to_string(n), "", "", "note number " + std::to_string(n) + " about transfers"});
      }
      EXPECT_TRUE((*writer)->IngestDocuments("live", docs, {}).ok());
    }
    done = true;
  });
  std::vector<std::string> taken;
  while (!done || taken.empty()) {
    std::string dest = backups / ("b" + std::to_string(taken.size()));
    Status st = (*reader)->BackupKnowledgeBase("live", dest);
    ASSERT_TRUE(st.ok()) << st.ToString();
    taken.push_back(dest);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ingest.join();
  // The first backup began as the ingest thread started: it cannot hold
  // all four later commits (each embeds 24 documents first).
  std::vector<int64_t> counts;

  for (size_t i = 0; i < taken.size(); ++i) {
    std::string name = "restored" + std::to_string(i);
    Status st = (*reader)->RestoreKnowledgeBase(taken[i], name);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto info = (*reader)->GetKnowledgeBase(name);
    ASSERT_TRUE(info.ok());
    EXPECT_GE(info->documents, kPerCommit);
    EXPECT_EQ(info->documents % kPerCommit, 0) << "backup " << i << " holds part of a commit";
    counts.push_back(info->documents);
    EXPECT_TRUE((*reader)->VerifyKnowledgeBase(name).ok());
    SearchOptions so;
    so.kb = name;
    so.query = "note number 3 about card fees";
    auto r = (*reader)->Search(so);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->hits.empty());
    EXPECT_EQ(r->hits[0].doc_id, "d3");
  }
  EXPECT_LT(counts.front(), kPerCommit * kCommits) << "no backup was taken while the ingest ran";
  // A backup that finished after the ingest holds all of it.
  std::string last = backups / "after";
  ASSERT_TRUE((*reader)->BackupKnowledgeBase("live", last).ok());
  ASSERT_TRUE((*reader)->RestoreKnowledgeBase(last, "all").ok());
  EXPECT_EQ((*reader)->GetKnowledgeBase("all")->documents, kPerCommit * kCommits);

  // Refusals: an existing backup folder, an existing name, a folder that is no backup.
  Status st = (*reader)->BackupKnowledgeBase("live", last);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("already exists: back up into a new folder"), std::string::npos) << st.message();
  st = (*reader)->RestoreKnowledgeBase(last, "live");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("knowledge base 'live' already exists"), std::string::npos) << st.message();
  st = (*reader)->RestoreKnowledgeBase(data.path(), "other");
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("is not a ragd backup"), std::string::npos) << st.message();
}

}  // namespace ragd

namespace ragd::store {

// SearchAmong scans small member sets exactly and walks the HNSW graph with
// a membership predicate for large ones; both must return members only and
// agree with brute force (exactly, resp. at high recall).
TEST(VectorIndex, SearchAmongMembersOnly) {
  constexpr int kDim = 8, kCount = 30000;
  auto index = NewUsearchIndex({kDim});
  ASSERT_NE(index, nullptr);
  std::vector<std::vector<float>> vecs(kCount, std::vector<float>(kDim));
  uint32_t seed = 7;
  for (int i = 0; i < kCount; ++i) {
    for (auto& x : vecs[i]) x = static_cast<float>((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.f - 0.5f;
    ASSERT_TRUE(index->Add(i + 1, vecs[i]).ok());
  }
  const std::vector<float> query = vecs[123];
  auto brute = [&](const std::vector<int64_t>& ids, int k) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t id : ids) {
      const auto& v = vecs[id - 1];
      double dot = 0, qn = 0, vn = 0;
      for (int d = 0; d < kDim; ++d) dot += query[d] * v[d], qn += query[d] * query[d], vn += v[d] * v[d];
      all.push_back({-dot / std::sqrt(qn * vn), id});
    }
    std::sort(all.begin(), all.end());
    std::vector<int64_t> top;
    for (int i = 0; i < k; ++i) top.push_back(all[i].second);
    return top;
  };
  for (int stride : {3, 1}) {  // 10,000 members (scanned), then 25,715 (graph walk)
    std::vector<int64_t> ids;
    for (int64_t id = 1; id <= kCount; ++id)
      if (stride == 3 ? id % 3 == 0 : id % 7 != 0) ids.push_back(id);
    auto got = index->SearchAmong(query, 20, ids);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), 20u);
    std::vector<int64_t> want = brute(ids, 20);
    int overlap = 0;
    for (const auto& s : got.value()) {
      EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), s.id)) << s.id << " is not a member";
      overlap += std::count(want.begin(), want.end(), s.id) > 0;
    }
    if (ids.size() <= 20000) {
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got.value()[i].id, want[i]) << i;
    } else {
      EXPECT_GE(overlap, 18) << "filtered HNSW recall@20";
    }
  }
  EXPECT_TRUE(index->SearchAmong(query, 5, {})->empty());
}

TEST(VectorIndex, ScoresAreCosineAndAnotherPrecisionIsRebuilt) {
  // The index ranks by inner product over unit vectors: a vector's length
  // must not change its score, which is the cosine.
  VectorIndexOptions o{4};
  auto index = NewUsearchIndex(o);
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index->Add(1, std::vector<float>{3, 0, 0, 0}).ok());     // same direction, long
  ASSERT_TRUE(index->Add(2, std::vector<float>{0.1f, 0.1f, 0, 0}).ok());  // 45 degrees, short
  auto got = index->Search(std::vector<float>{0.5f, 0, 0, 0}, 2);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, 1);
  EXPECT_NEAR((*got)[0].score, 1.0, 1e-3);
  EXPECT_NEAR((*got)[1].score, std::sqrt(0.5), 1e-3);  // f16 vectors: 3 decimals
  // A file written at f32 is stale for an f16 index (and the reverse): the
  // store then rebuilds it from SQLite instead of trusting it.
  ragd::testing::TempDir dir;
  const std::string path = dir / "v.idx";
  o.half_precision = false;
  auto f32 = NewUsearchIndex(o);
  ASSERT_TRUE(f32->Add(1, std::vector<float>{1, 0, 0, 0}).ok());
  ASSERT_TRUE(f32->Save(path, 7).ok());
  uint64_t generation = 0;
  EXPECT_TRUE(LoadUsearchIndex(path, o, &generation).ok());
  EXPECT_EQ(generation, 7u);
  o.half_precision = true;
  auto stale = LoadUsearchIndex(path, o, &generation);
  EXPECT_EQ(stale.status().code(), StatusCode::kCorruption) << stale.status().ToString();
}

}  // namespace ragd::store
