#include <algorithm>
// Engine tests with the real packaged embedding model and real SQLite files.
#include <gtest/gtest.h>

#include <cmath>

#include "ragd/engine.h"
#include "ragd/eval.h"
#include "test_util.h"

namespace ragd {

using ragd::testing::TempDir;
using ragd::testing::WriteFile;

namespace {

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  EngineOptions o;
  o.data_dir = dir;
  auto e = Engine::Open(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(e).value();
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

TEST(Embedder, ParaphrasesScoreAboveUnrelatedPairs) {
  EmbedderOptions mini;
  mini.backend.model = "all-MiniLM-L6-v2";
  auto e = OpenEmbedder(mini);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Embedder& emb = *e.value();
  EXPECT_EQ(emb.dim(), 384);
  EXPECT_EQ(emb.model_id(), "all-MiniLM-L6-v2/384");
  std::vector<std::string> texts{"How do I reset my password?", "I forgot my password, how can I change it?",
                                 "The weather is sunny in Shanghai today.", "How do I reset my password?"};
  std::vector<float> out(texts.size() * 384);
  ASSERT_TRUE(emb.Embed(texts, EmbedKind::kPassage, out.data()).ok());
  std::vector<std::vector<float>> v;
  for (size_t i = 0; i < texts.size(); ++i) v.emplace_back(out.begin() + i * 384, out.begin() + (i + 1) * 384);
  for (auto& x : v) EXPECT_NEAR(Dot(x, x), 1.0, 1e-4);  // L2-normalised
  double para = Dot(v[0], v[1]), unrelated = Dot(v[0], v[2]);
  EXPECT_GT(para, 0.6);
  EXPECT_LT(unrelated, 0.2);
  EXPECT_GT(para - unrelated, 0.4);
  // Same text, same vector: within a batch up to float rounding, and
  // bit for bit across calls.
  for (size_t d = 0; d < 384; ++d) EXPECT_NEAR(v[0][d], v[3][d], 1e-5);
  std::vector<float> again(384);
  ASSERT_TRUE(emb.Embed({texts.data(), 1}, EmbedKind::kPassage, again.data()).ok());
  std::vector<float> once(384);
  ASSERT_TRUE(emb.Embed({texts.data(), 1}, EmbedKind::kPassage, once.data()).ok());
  EXPECT_EQ(again, once);
  // A lone short text runs in its own context without flash attention,
  // which keeps K and V in f32 where flash attention rounds them to f16:
  // the same direction as in a batch, to 1e-5.
  EXPECT_GT(Dot(again, v[0]), 1 - 1e-5);
}

TEST(Embedder, MultilingualE5RanksChineseAnswersAndFoldsFullWidth) {
  auto e = OpenEmbedder({});  // the default
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Embedder& emb = *e.value();
  EXPECT_EQ(emb.model_id(), "multilingual-e5-small/384");
  std::vector<std::string> docs{"信用卡逾期还款会收取违约金和利息。", "今天上海天气晴朗，适合出游。",
                                "Late credit card payments are charged a fee and interest."};
  std::vector<float> d(3 * 384), q(384);
  ASSERT_TRUE(emb.Embed(docs, EmbedKind::kPassage, d.data()).ok());
  std::string query = "信用卡晚还款有什么后果？";
  ASSERT_TRUE(emb.Embed({&query, 1}, EmbedKind::kQuery, q.data()).ok());
  auto sim = [&](int i) {
    double s = 0;
    for (int k = 0; k < 384; ++k) s += q[k] * d[i * 384 + k];
    return s;
  };
  EXPECT_GT(sim(0), sim(1) + 0.05);  // the Chinese answer beats unrelated Chinese
  EXPECT_GT(sim(0), sim(2));         // e5-small prefers its own language (measured, not a goal)
  // NFKC: full-width forms embed like their ASCII equivalents.
  std::vector<std::string> forms{"ATM 取款", "ＡＴＭ　取款"};
  std::vector<float> f(2 * 384);
  ASSERT_TRUE(emb.Embed(forms, EmbedKind::kPassage, f.data()).ok());
  double same = 0;
  for (int k = 0; k < 384; ++k) same += f[k] * f[384 + k];
  EXPECT_GT(same, 0.999);
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(docs_ / "cards.md",
              "# Cards\n\n## Annual fee\n\nThe gold card annual fee is 300 yuan, waived after 10 purchases a year.\n\n"
              "## Lost card\n\nIf your card is lost or stolen, call the hotline at once to block it.\n");
    WriteFile(docs_ / "faq.csv",
              "question,answer\nHow long does a wire transfer abroad take?,International transfers take 1 to 3 working days.\n"
              "定期存款可以提前支取吗？,可以，提前支取部分按活期利率计息。\n");
    WriteFile(docs_ / "deposits.txt", "Fixed deposits pay 1.5% a year for one year and 2% for three years.\n");
    engine_ = OpenEngine(data_.path());
  }

  IngestReport Ingest(bool sync = false) {
    IngestOptions o;
    o.kb = "t";
    o.paths = {docs_.path()};
    o.sync = sync;
    auto r = engine_->IngestFiles(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : IngestReport{};
  }

  std::string Top(const std::string& q, SearchMode mode) {
    SearchOptions o;
    o.kb = "t";
    o.query = q;
    o.mode = mode;
    o.k = 3;
    auto r = engine_->Search(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->hits.empty()) return "";
    return r->hits[0].text;
  }

  TempDir data_, docs_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, KnownAnswersInEveryMode) {
  IngestReport rep = Ingest();
  EXPECT_EQ(rep.files_added, 3);
  EXPECT_EQ(rep.chunks_written, 5);
  for (SearchMode m : {SearchMode::kBm25, SearchMode::kDense, SearchMode::kHybrid}) {
    SCOPED_TRACE(SearchModeName(m));
    EXPECT_NE(Top("what is the annual fee of the gold card", m).find("300 yuan"), std::string::npos);
    EXPECT_NE(Top("my card was stolen, what should I do?", m).find("block it"), std::string::npos);
    EXPECT_NE(Top("how many days for an international wire transfer", m).find("1 to 3 working days"), std::string::npos);
  }
  EXPECT_NE(Top("定期存款提前支取", SearchMode::kBm25).find("活期利率"), std::string::npos);
}

TEST_F(EngineTest, HitsCarryCitationMetadata) {
  Ingest();
  SearchOptions o;
  o.kb = "t";
  o.query = "gold card annual fee";
  o.mode = SearchMode::kBm25;
  auto r = engine_->Search(o);
  ASSERT_TRUE(r.ok());
  const SearchHit& h = r->hits[0];
  EXPECT_TRUE(h.source.ends_with("cards.md"));
  EXPECT_EQ(h.heading_path, "Cards > Annual fee");
  EXPECT_EQ(h.lexical_rank, 1);
  EXPECT_EQ(h.char_end - h.char_start, static_cast<int64_t>(h.text.size()));  // ASCII: code points = bytes
}

// A caller's own query vector (LangChain's search by vector, LlamaIndex's
// query embedding) ranks as the query text does; hits can carry their
// documents' metadata; FindDocuments answers a filter with ids.
TEST_F(EngineTest, QueryVectorMetadataAndFindDocuments) {
  IngestOptions io;
  io.kb = "t";
  io.paths = {docs_.path()};
  io.metadata = {{"team", "cards"}};
  ASSERT_TRUE(engine_->IngestFiles(io).ok());
  SearchOptions o;
  o.kb = "t";
  o.query = "my card was stolen, what should I do?";
  o.mode = SearchMode::kDense;
  o.k = 3;
  auto by_text = engine_->Search(o);
  ASSERT_TRUE(by_text.ok()) << by_text.status().ToString();
  auto e = engine_->embedder();
  ASSERT_TRUE(e.ok());
  std::vector<float> q((*e)->dim());
  ASSERT_TRUE((*e)->Embed({&o.query, 1}, EmbedKind::kQuery, q.data()).ok());
  for (float& x : q) x *= 3;  // any length: it is normalised
  o.query_vector = q;
  o.query.clear();
  o.with_metadata = true;
  auto by_vector = engine_->Search(o);
  ASSERT_TRUE(by_vector.ok()) << by_vector.status().ToString();
  ASSERT_EQ(by_vector->hits.size(), by_text->hits.size());
  for (size_t i = 0; i < by_text->hits.size(); ++i) {
    EXPECT_EQ(by_vector->hits[i].chunk_id, by_text->hits[i].chunk_id);
    EXPECT_NEAR(by_vector->hits[i].score, by_text->hits[i].score, 1e-5);
    EXPECT_EQ(by_vector->hits[i].metadata, (std::map<std::string, std::string>{{"team", "cards"}}));
  }
  EXPECT_TRUE(by_text->hits[0].metadata.empty());  // only when asked
  o.query_vector.resize(5);
  auto bad = engine_->Search(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("has 5 dimensions"), std::string::npos) << bad.status().message();
  o.mode = SearchMode::kBm25;
  EXPECT_EQ(engine_->Search(o).status().code(), StatusCode::kInvalidArgument);

  auto all = engine_->FindDocuments("t", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  std::vector<FilterCondition> md = {{"type", "=", "md"}};
  auto md_docs = engine_->FindDocuments("t", md);
  ASSERT_TRUE(md_docs.ok());
  ASSERT_EQ(md_docs->size(), 1u);
  EXPECT_TRUE(md_docs->front().ends_with("cards.md"));
  std::vector<FilterCondition> bad_filter = {{"modified", ">", "yesterday"}};
  EXPECT_EQ(engine_->FindDocuments("t", bad_filter).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->FindDocuments("nope", {}).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, DocumentsAreListedShownWithTheirChunksAndDeleted) {
  Ingest();
  auto docs = engine_->ListDocuments("t");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3u);
  auto csv = std::find_if(docs->begin(), docs->end(), [](const DocumentInfo& d) { return d.source.ends_with("faq.csv"); });
  ASSERT_NE(csv, docs->end());
  EXPECT_EQ(csv->chunk_count, 2);
  auto detail = engine_->GetDocument("t", csv->doc_id);
  ASSERT_TRUE(detail.ok());
  ASSERT_EQ(detail->chunks.size(), 2u);
  EXPECT_EQ(detail->chunks[0].chunk_index, 0);
  EXPECT_EQ(detail->chunks[1].row, 2);
  EXPECT_NE(detail->chunks[1].text.find("活期利率"), std::string::npos);

  ASSERT_TRUE(engine_->DeleteDocument("t", csv->doc_id).ok());
  EXPECT_EQ(engine_->ListDocuments("t")->size(), 2u);
  EXPECT_EQ(engine_->GetDocument("t", csv->doc_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->DeleteDocument("t", csv->doc_id).code(), StatusCode::kNotFound);
  EXPECT_EQ(Top("定期存款提前支取", SearchMode::kHybrid).find("活期利率"), std::string::npos);

  auto created = engine_->CreateKnowledgeBase("empty");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->documents, 0);
  EXPECT_EQ(engine_->CreateKnowledgeBase("empty").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(engine_->CreateKnowledgeBase("../x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(engine_->ListDocuments("empty")->empty());
}

TEST_F(EngineTest, FusionMmrThresholdAndNeighboursArePerQueryAndPerKnowledgeBase) {
  Ingest();
  SearchOptions o;
  o.kb = "t";
  o.query = "gold card annual fee";
  o.k = 5;
  auto base = engine_->Search(o);
  ASSERT_TRUE(base.ok());
  for (Fusion fusion : {Fusion::kRrf, Fusion::kMinMax, Fusion::kZScore}) {
    SCOPED_TRACE(FusionName(fusion));
    EXPECT_EQ(ParseFusion(FusionName(fusion)).value(), fusion);
    o.fusion = fusion;
    auto r = engine_->Search(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->hits[0].text.find("300 yuan"), std::string::npos);
  }
  // The weight moves the fused scores: w = 1 keeps the BM25 order exactly.
  o.fusion = Fusion::kMinMax;
  o.lexical_weight = 1.0;
  auto lex_only = engine_->Search(o);
  SearchOptions bm25 = o;
  bm25.mode = SearchMode::kBm25;
  auto b = engine_->Search(bm25);
  ASSERT_TRUE(lex_only.ok() && b.ok());
  for (size_t i = 0; i < b->hits.size(); ++i) EXPECT_EQ(lex_only->hits[i].chunk_id, b->hits[i].chunk_id) << i;
  EXPECT_EQ(ParseFusion("median").status().ToString(), "invalid argument: unknown fusion 'median' (rrf, minmax, zscore or dispersion)");
  o.lexical_weight = 1.5;
  EXPECT_EQ(engine_->Search(o).status().code(), StatusCode::kInvalidArgument);
  o.lexical_weight = 1.0;

  // Knowledge-base settings apply when the query leaves them unset.
  ASSERT_TRUE(engine_->SetKbSetting("t", "search.fusion", "zscore").ok());
  ASSERT_TRUE(engine_->SetKbSetting("t", "search.lexical_weight", "0.7").ok());
  EXPECT_EQ(engine_->SetKbSetting("t", "search.lexical_weight", "heavy").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->SetKbSetting("t", "search.colour", "red").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->SetKbSetting("t", "search.fusion", "median").code(), StatusCode::kInvalidArgument);
  auto settings = engine_->GetKbSettings("t");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->at("search.fusion"), "zscore");
  SearchOptions plain;
  plain.kb = "t";
  plain.query = "gold card annual fee";
  plain.k = 5;
  SearchOptions explicit_z = plain;
  explicit_z.fusion = Fusion::kZScore;
  explicit_z.lexical_weight = 0.7;
  auto via_kb = engine_->Search(plain), via_query = engine_->Search(explicit_z);
  ASSERT_TRUE(via_kb.ok() && via_query.ok());
  ASSERT_EQ(via_kb->hits.size(), via_query->hits.size());
  for (size_t i = 0; i < via_kb->hits.size(); ++i) EXPECT_DOUBLE_EQ(via_kb->hits[i].score, via_query->hits[i].score);

  // MMR with lambda 1 is relevance order; lower lambdas keep k hits, all distinct.
  plain.mmr_lambda = 1.0;
  auto mmr1 = engine_->Search(plain);
  ASSERT_TRUE(mmr1.ok());
  for (size_t i = 0; i < mmr1->hits.size(); ++i) EXPECT_EQ(mmr1->hits[i].chunk_id, via_kb->hits[i].chunk_id);
  plain.mmr_lambda = 0.3;
  auto mmr = engine_->Search(plain);
  ASSERT_TRUE(mmr.ok());
  EXPECT_EQ(mmr->hits.size(), 5u);
  EXPECT_EQ(mmr->hits[0].chunk_id, via_kb->hits[0].chunk_id);  // the best is always picked first
  plain.mmr_lambda.reset();

  // A threshold drops low-scoring hits.
  plain.min_score = via_kb->hits[1].score;
  auto cut = engine_->Search(plain);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->hits.size(), 2u);
  plain.min_score.reset();

  // Neighbours: the hit's context holds the adjacent chunk of its document.
  plain.neighbors = 1;
  plain.query = "gold card annual fee";
  auto ctx = engine_->Search(plain);
  ASSERT_TRUE(ctx.ok());
  const SearchHit& top = ctx->hits[0];
  EXPECT_NE(top.context.find("300 yuan"), std::string::npos);
  EXPECT_EQ(top.text.find("block it"), std::string::npos);  // not in the hit itself
  EXPECT_NE(top.context.find("block it"), std::string::npos) << top.context;  // the next section's chunk
}

TEST_F(EngineTest, UnchangedFilesCostNothingChangedOnesAreReplacedAndSyncRemoves) {
  Ingest();
  IngestReport again = Ingest();
  EXPECT_EQ(again.files_unchanged, 3);
  EXPECT_EQ(again.chunks_written, 0);
  WriteFile(docs_ / "deposits.txt", "Fixed deposits now pay 1.8% a year.\n");
  IngestReport changed = Ingest();
  EXPECT_EQ(changed.files_updated, 1);
  EXPECT_EQ(changed.chunks_written, 1);
  EXPECT_NE(Top("fixed deposit rate per year", SearchMode::kBm25).find("1.8%"), std::string::npos);
  std::filesystem::remove(docs_ / "faq.csv");
  IngestReport synced = Ingest(true);
  EXPECT_EQ(synced.files_removed, 1);
  auto info = engine_->GetKnowledgeBase("t");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->documents, 2);
  EXPECT_EQ(info->chunks, 3);
}

TEST_F(EngineTest, BadFilesAreReportedAndTheRestCommits) {
  WriteFile(docs_ / "broken.docx", "not a zip at all");
  WriteFile(docs_ / "empty.txt", "");
  IngestReport rep = Ingest();
  EXPECT_EQ(rep.files_added, 3);
  ASSERT_EQ(rep.failures.size(), 2u);
  EXPECT_TRUE(rep.failures[0].path.ends_with("broken.docx"));
  EXPECT_NE(rep.failures[0].status.message().find("not a valid DOCX"), std::string::npos);
  EXPECT_NE(rep.failures[1].status.message().find("is empty"), std::string::npos);
}

TEST_F(EngineTest, ClearErrors) {
  SearchOptions o;
  o.kb = "missing";
  o.query = "x";
  auto r = engine_->Search(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("knowledge base 'missing' does not exist"), std::string::npos);
  o.kb = "../etc";
  EXPECT_EQ(engine_->Search(o).status().code(), StatusCode::kInvalidArgument);
  IngestOptions io;
  io.kb = "t";
  io.paths = {docs_ / "nope"};
  auto ir = engine_->IngestFiles(io);
  ASSERT_TRUE(ir.ok());
  ASSERT_EQ(ir->failures.size(), 1u);
  EXPECT_EQ(ir->failures[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->DeleteKnowledgeBase("t").code(), StatusCode::kOk);
  EXPECT_EQ(engine_->DeleteKnowledgeBase("t").code(), StatusCode::kNotFound);
}

}  // namespace ragd

namespace ragd {

TEST(Eval, BeirFolderGivesKnownScoresAndSkipsEmptyQueries) {
  ragd::testing::TempDir beir, data;
  ragd::testing::WriteFile(beir / "corpus.jsonl",
                           "{\"_id\":\"d1\",\"title\":\"Cards\",\"text\":\"Annual fee of the gold card.\"}\n"
                           "{\"_id\":\"d2\",\"title\":\"Loans\",\"text\":\"Mortgage interest rates for home buyers.\"}\n"
                           "{\"_id\":\"d3\",\"title\":\"存款\",\"text\":\"定期存款提前支取按活期利率计息。\"}\n");
  ragd::testing::WriteFile(beir / "queries.jsonl",
                           "{\"_id\":\"q1\",\"text\":\"gold card annual fee\"}\n"
                           "{\"_id\":\"q2\",\"text\":\"mortgage rates\"}\n"
                           "{\"_id\":\"q3\",\"text\":\"定期存款提前支取\"}\n"
                           "{\"_id\":\"q4\",\"text\":\"\"}\n"
                           "{\"_id\":\"q5\",\"text\":\"unjudged\"}\n");
  ragd::testing::WriteFile(beir / "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\nq4\td1\t1\n");
  EngineOptions o;
  o.data_dir = data.path();
  auto engine = Engine::Open(o);
  ASSERT_TRUE(engine.ok());
  RetrievalEvalOptions eo;
  eo.beir_dir = beir.path();
  eo.mode = SearchMode::kBm25;
  auto r = EvaluateRetrieval(**engine, eo);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metrics.queries, 3);
  EXPECT_EQ(r->skipped_queries, std::vector<std::string>{"q4"});
  EXPECT_DOUBLE_EQ(r->metrics.ndcg_at_10, 1.0);
  EXPECT_DOUBLE_EQ(r->metrics.mrr_at_10, 1.0);
  EXPECT_EQ(r->ingest.files_added, 3);
  // The knowledge base is reused: a second run ingests nothing.
  auto again = EvaluateRetrieval(**engine, eo);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ingest.files_unchanged, 3);
  EXPECT_EQ(again->ingest.chunks_written, 0);
  // A malformed corpus line is named.
  ragd::testing::WriteFile(beir / "corpus.jsonl", "{\"_id\":\"d1\",\"text\":\"ok\"}\n{broken\n");
  auto bad = EvaluateRetrieval(**engine, eo);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("corpus.jsonl:2: not a JSON object"), std::string::npos) << bad.status().message();
}

}  // namespace ragd
