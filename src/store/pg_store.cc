// The PostgreSQL store: a knowledge base as a schema (ragd_kb_<id>) in a
// shared database, so several ragd processes on several machines serve and
// write the same knowledge bases (docs/SCALE.md).
//
// - Dense search: pgvector. The f32 vectors are stored as `vector(dim)`
//   (kept exact, for copies and re-ranking) and indexed by HNSW over their
//   `halfvec` cast (half the index, the same trade as the SQLite store's
//   f16 usearch index). ef_search is set per query; filtered searches use
//   pgvector's iterative index scans, so a selective filter still returns k.
// - Lexical search: real BM25, from ragd's own Analyzer (the SQLite store's
//   FTS5 tokenizer runs the same one): per-chunk term frequencies in
//   `postings`, the corpus' row and token counts in `meta`, scored in SQL
//   with FTS5's formula (k1 = 1.2, b = 0.75, idf floored at 1e-6), so both
//   stores rank alike.
// - Writes: one transaction per Commit, under a transaction-scoped advisory
//   lock of the knowledge base, so concurrent writers (other processes)
//   queue and the counters stay exact.
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/status_macros.h"
#include "store/analyzer.h"
#include "store/pg_client.h"
#include "store/catalog.h"
#include "store/sql_filter.h"

namespace ragd::store {

namespace {

using pg::Param;
using pg::PgLease;
using pg::PgPool;
using pg::PgResult;

// Advisory lock keys (two int4 spaces, then the knowledge base): the
// writers' session lock (by name, so it works before the knowledge base
// exists), the commit's transaction lock (by id), and the registry's.
constexpr int kWriterLockSpace = 0x72616764;  // "ragd"
constexpr int kCommitLockSpace = 0x72616765;
constexpr int64_t kRegistryLock = 0x7261676472656769;

// The registry of knowledge bases, shared by every ragd on the database.
constexpr const char* kRegistrySchema = R"sql(
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS ragd;
CREATE TABLE IF NOT EXISTS ragd.kbs(
  id BIGSERIAL PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  created_at TEXT NOT NULL);
)sql";

// A knowledge base's tables; @ stands for its schema, DIM for its dimension.
constexpr const char* kKbSchema = R"sql(
CREATE SCHEMA @;
CREATE TABLE @.meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE @.documents(
  doc_id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  mime TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL,
  size_bytes BIGINT NOT NULL DEFAULT 0,
  mtime BIGINT NOT NULL DEFAULT 0,
  chunk_count BIGINT NOT NULL DEFAULT 0,
  ingested_at TEXT NOT NULL);
CREATE INDEX ON @.documents(source);
CREATE TABLE @.chunks(
  id BIGSERIAL PRIMARY KEY,
  doc_id TEXT NOT NULL REFERENCES @.documents(doc_id),
  chunk_index INTEGER NOT NULL,
  text TEXT NOT NULL,
  page INTEGER NOT NULL DEFAULT 0,
  heading_path TEXT NOT NULL DEFAULT '',
  char_start BIGINT NOT NULL DEFAULT 0,
  char_end BIGINT NOT NULL DEFAULT 0,
  "row" INTEGER NOT NULL DEFAULT 0,
  ocr_confidence REAL,
  length INTEGER NOT NULL DEFAULT 0,
  embedding vector(DIM) NOT NULL);
CREATE INDEX ON @.chunks(doc_id, chunk_index);
CREATE INDEX chunks_hnsw ON @.chunks USING hnsw ((embedding::halfvec(DIM)) halfvec_ip_ops)
  WITH (m = 16, ef_construction = 128);
CREATE TABLE @.postings(
  term TEXT NOT NULL,
  chunk_id BIGINT NOT NULL REFERENCES @.chunks(id) ON DELETE CASCADE,
  tf INTEGER NOT NULL,
  dl INTEGER NOT NULL);
CREATE INDEX ON @.postings(term) INCLUDE (chunk_id, tf, dl);
CREATE INDEX ON @.postings(chunk_id);
CREATE TABLE @.doc_meta(
  doc_id TEXT NOT NULL REFERENCES @.documents(doc_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(doc_id, key));
CREATE TABLE @.doc_tables(
  doc_id TEXT PRIMARY KEY REFERENCES @.documents(doc_id),
  columns TEXT NOT NULL,
  rows TEXT NOT NULL);
CREATE TABLE @.doc_summaries(
  doc_id TEXT PRIMARY KEY REFERENCES @.documents(doc_id),
  summary TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE @.interactions(
  seq BIGSERIAL PRIMARY KEY,
  user_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  rating DOUBLE PRECISION,
  time DOUBLE PRECISION);
CREATE TABLE @.staged_vectors(
  chunk_id BIGINT PRIMARY KEY,
  model TEXT NOT NULL,
  dim INTEGER NOT NULL,
  embedding REAL[] NOT NULL);
CREATE TABLE @.sessions(
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  updated_at TEXT NOT NULL);
)sql";

std::string Replace(std::string s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// '[x,y,...]' with every float exact (9 significant digits round-trip f32).
std::string VectorLiteral(const float* v, int dim) {
  std::string out = "[";
  char buf[32];
  for (int i = 0; i < dim; ++i) {
    if (i) out += ',';
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v[i]);  // shortest exact form
    out.append(buf, end);
  }
  out += ']';
  return out;
}

// Parses '[x,y,...]' (vector) or '{x,y,...}' (real[]) into out.
bool ParseFloats(const std::string& text, std::vector<float>& out) {
  if (text.size() < 2) return false;
  const char* p = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  while (p < end) {
    float x = 0;
    auto [next, ec] = std::from_chars(p, end, x);
    if (ec != std::errc()) return false;
    out.push_back(x);
    p = next;
    if (p < end && *p == ',') ++p;
  }
  return true;
}

std::string Str(int64_t v) { return std::to_string(v); }

std::vector<Param> Binds(const SqlFilter& f) {
  std::vector<Param> out;
  for (const auto& b : f.binds) {
    if (auto* n = std::get_if<int64_t>(&b)) out.emplace_back(std::to_string(*n));
    else if (auto* x = std::get_if<double>(&b)) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", *x);
      out.emplace_back(buf);
    } else out.emplace_back(std::get<std::string>(b));
  }
  return out;
}

class PgStore final : public KbStore {
 public:
  PgStore(std::shared_ptr<PgPool> pool, std::string name, int64_t id)
      : pool_(std::move(pool)), name_(std::move(name)), id_(id), schema_("ragd_kb_" + std::to_string(id)) {}

  Status Init() { return Refresh(); }

  Status Refresh() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r,
                          c.Exec(Sql("SELECT key, value FROM @.meta WHERE key IN ('generation', 'embed_model', 'dim')"),
                                 What("read")));
    std::map<std::string, std::string> m;
    for (int i = 0; i < r.rows(); ++i) m[r.Text(i, 0)] = r.Text(i, 1);
    if (m.size() != 3) return Status::Corruption(What("the metadata of") + " is incomplete");
    std::unique_lock lock(mu_);
    generation_ = std::stoull(m["generation"]);
    embed_model_ = m["embed_model"];
    dim_ = std::atoi(m["dim"].c_str());
    return Status::OK();
  }

  Result<std::optional<StoredDocument>> FindDocument(const std::string& doc_id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(kDocColumns) + " WHERE doc_id = $1", {doc_id}, What("find a document in")));
    if (r.rows() == 0) return std::optional<StoredDocument>();
    StoredDocument d = ReadDoc(r, 0);
    RAGD_ASSIGN_OR_RETURN(PgResult m, c.Exec(Sql("SELECT key, value FROM @.doc_meta WHERE doc_id = $1"), {doc_id},
                                             What("read metadata in")));
    for (int i = 0; i < m.rows(); ++i) d.metadata[m.Text(i, 0)] = m.Text(i, 1);
    return std::optional<StoredDocument>(std::move(d));
  }

  Result<std::vector<StoredDocument>> ListDocuments() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(kDocColumns) + " ORDER BY doc_id", What("list the documents of")));
    std::vector<StoredDocument> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadDoc(r, i));
    return out;
  }

  Result<std::vector<StoredTable>> ListTables() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT t.doc_id, d.source, d.title, t.columns, t.rows FROM @.doc_tables t "
                                                 "JOIN @.documents d ON d.doc_id = t.doc_id WHERE t.columns != '[]' "
                                                 "ORDER BY t.doc_id"),
                                             What("list the tables of")));
    std::vector<StoredTable> out;
    for (int i = 0; i < r.rows(); ++i) {
      StoredTable t{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), {}};
      auto columns = nlohmann::json::parse(r.Text(i, 3), nullptr, false);
      auto rows = nlohmann::json::parse(r.Text(i, 4), nullptr, false);
      try {
        if (!columns.is_array() || !rows.is_array()) throw nlohmann::json::type_error::create(302, "not arrays", nullptr);
        t.data.columns = columns.get<std::vector<std::string>>();
        t.data.rows = rows.get<std::vector<std::vector<std::string>>>();
      } catch (const nlohmann::json::exception&) {
        return Status::Corruption("the table of " + t.doc_id + " in " + What("") + " is not a list of text rows");
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  Result<bool> HasTable(const std::string& doc_id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT 1 FROM @.doc_tables WHERE doc_id = $1"), {doc_id}, What("read a table of")));
    return r.rows() > 0;
  }

  Result<std::optional<std::string>> KeptSummary(const std::string& doc_id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT s.summary FROM @.documents d LEFT JOIN @.doc_summaries s "
                                                 "ON s.doc_id = d.doc_id WHERE d.doc_id = $1"),
                                             {doc_id}, What("read a summary in")));
    if (r.rows() == 0) return Status::NotFound("no document '" + doc_id + "' in " + What(""));
    if (r.IsNull(0, 0)) return std::optional<std::string>();
    return std::optional<std::string>(r.Text(0, 0));
  }

  Status KeepSummary(const std::string& doc_id, const std::string& summary_json) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("INSERT INTO @.doc_summaries(doc_id, summary, created_at) "
                                                 "SELECT doc_id, $1, $2 FROM @.documents WHERE doc_id = $3 "
                                                 "ON CONFLICT (doc_id) DO UPDATE SET summary = excluded.summary, "
                                                 "created_at = excluded.created_at RETURNING 1"),
                                             {summary_json, files::NowIso8601(), doc_id}, What("keep a summary in")));
    if (r.rows() == 0) return Status::NotFound("no document '" + doc_id + "' in " + What("") + " (removed meanwhile?)");
    return Status::OK();
  }

  Status AddInteractions(std::span<const Interaction> rows) override {
    std::string users = "{", items = "{", ratings = "{", times = "{";
    for (size_t i = 0; i < rows.size(); ++i) {
      const char* sep = i ? "," : "";
      users += sep, items += sep, ratings += sep, times += sep;
      pg::AppendArrayElement(users, rows[i].user);
      pg::AppendArrayElement(items, rows[i].item);
      ratings += rows[i].rating ? Double(*rows[i].rating) : "NULL";
      times += rows[i].time ? Double(*rows[i].time) : "NULL";
    }
    users += '}', items += '}', ratings += '}', times += '}';
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    // One statement: in order (WITH ORDINALITY), all or nothing.
    return c.Exec(Sql("INSERT INTO @.interactions(user_id, item_id, rating, time) "
                      "SELECT u, i, r, t FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[]) "
                      "WITH ORDINALITY AS x(u, i, r, t, n) ORDER BY n"),
                  {users, items, ratings, times}, What("add interactions to"))
        .status();
  }

  Result<std::vector<Interaction>> ListInteractions() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT user_id, item_id, rating, time FROM @.interactions ORDER BY seq"),
                                             What("read the interactions of")));
    std::vector<Interaction> out;
    for (int i = 0; i < r.rows(); ++i) {
      Interaction x{r.Text(i, 0), r.Text(i, 1), std::nullopt, std::nullopt};
      if (!r.IsNull(i, 2)) x.rating = r.Double(i, 2);
      if (!r.IsNull(i, 3)) x.time = r.Double(i, 3);
      out.push_back(std::move(x));
    }
    return out;
  }

  // Rows, not the last sequence number: a rolled-back insert still uses
  // sequence values, and this must change exactly when rows were added.
  Result<int64_t> InteractionCount() override { return Scalar("SELECT count(*) FROM @.interactions", "count interactions in"); }
  Result<int64_t> InteractionUsers() override {
    return Scalar("SELECT count(DISTINCT user_id) FROM @.interactions", "count users in");
  }

  Result<std::vector<std::string>> MatchingDocuments(std::span<const FilterCondition> filter) override {
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kPostgres, schema_ + ".");
    std::string sql = Sql("SELECT d.doc_id FROM @.documents d");
    if (!f.where.empty()) sql += " WHERE " + f.where;
    sql += " ORDER BY d.doc_id";
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, Binds(f), What("filter the documents of")));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.Text(i, 0));
    return out;
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListChunkIds() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT doc_id, id FROM @.chunks ORDER BY doc_id, chunk_index"),
                                             What("list the chunks of")));
    std::vector<std::pair<std::string, int64_t>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Int(i, 1));
    return out;
  }

  Status Commit(std::span<const DocumentWrite> upserts, std::span<const std::string> removes) override {
    const int dim = Dim();
    for (const auto& d : upserts)
      if (d.embeddings.size() != d.chunks.size() * static_cast<size_t>(dim))
        return Status::InvalidArgument("document " + d.doc_id + ": embeddings do not match its chunks");
    // The analysis (ICU, stemming) happens before the transaction opens.
    std::vector<std::vector<ChunkTerms>> terms;
    {
      std::lock_guard lock(analyzer_mu_);
      for (const auto& d : upserts) {
        auto& doc_terms = terms.emplace_back();
        for (const auto& chunk : d.chunks) doc_terms.push_back(Count(chunk.text));
      }
    }
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    uint64_t new_generation = 0;
    RAGD_RETURN_IF_ERROR(c.InTransaction(What("commit to"), [&]() -> Status {
      RAGD_RETURN_IF_ERROR(LockInTransaction(c));
      int64_t rows_delta = 0, tokens_delta = 0;
      auto drop = [&](const std::string& doc_id) -> Status {
        for (const char* table : {"doc_meta", "doc_tables", "doc_summaries"})
          RAGD_RETURN_IF_ERROR(c.Exec(Sql(std::string("DELETE FROM @.") + table + " WHERE doc_id = $1"), {doc_id},
                                      What("remove " + doc_id + " from")).status());
        RAGD_ASSIGN_OR_RETURN(PgResult gone, c.Exec(Sql("WITH g AS (DELETE FROM @.chunks WHERE doc_id = $1 RETURNING length) "
                                                        "SELECT count(*), COALESCE(sum(length), 0) FROM g"),
                                                    {doc_id}, What("remove the chunks of " + doc_id + " from")));
        rows_delta -= gone.Int(0, 0);
        tokens_delta -= gone.Int(0, 1);
        return c.Exec(Sql("DELETE FROM @.documents WHERE doc_id = $1"), {doc_id}, What("remove " + doc_id + " from")).status();
      };
      for (const auto& id : removes) RAGD_RETURN_IF_ERROR(drop(id));
      const std::string now = files::NowIso8601();
      for (size_t di = 0; di < upserts.size(); ++di) {
        const DocumentWrite& d = upserts[di];
        RAGD_RETURN_IF_ERROR(drop(d.doc_id));
        const std::string what = What("write " + d.doc_id + " to");
        RAGD_RETURN_IF_ERROR(c.Exec(Sql("INSERT INTO @.documents(doc_id, source, mime, title, content_hash, size_bytes, "
                                        "mtime, chunk_count, ingested_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"),
                                    {d.doc_id, d.source, d.mime, d.title, d.content_hash, Str(d.size_bytes), Str(d.mtime),
                                     Str(static_cast<int64_t>(d.chunks.size())), now},
                                    what).status());
        for (const auto& [key, value] : d.metadata)
          RAGD_RETURN_IF_ERROR(c.Exec(Sql("INSERT INTO @.doc_meta(doc_id, key, value) VALUES ($1,$2,$3)"),
                                      {d.doc_id, key, value}, what).status());
        if (d.table)
          RAGD_RETURN_IF_ERROR(
              c.Exec(Sql("INSERT INTO @.doc_tables(doc_id, columns, rows) VALUES ($1,$2,$3)"),
                     {d.doc_id, nlohmann::json(d.table->columns).dump(),
                      nlohmann::json(d.table->rows).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
                     what).status());
        if (d.chunks.empty()) continue;
        RAGD_ASSIGN_OR_RETURN(std::vector<int64_t> ids, InsertChunks(c, d, terms[di], what));
        RAGD_RETURN_IF_ERROR(InsertPostings(c, ids, terms[di], what));
        for (const auto& t : terms[di]) tokens_delta += t.length;
        rows_delta += static_cast<int64_t>(d.chunks.size());
      }
      RAGD_ASSIGN_OR_RETURN(PgResult gen, c.Exec(Sql("UPDATE @.meta SET value = (value::bigint + 1)::text "
                                                     "WHERE key = 'generation' RETURNING value"),
                                                 What("update")));
      if (gen.rows() != 1) return Status::Corruption(What("") + " has no generation");
      new_generation = std::stoull(gen.Text(0, 0));
      RAGD_RETURN_IF_ERROR(AddToCounter(c, "bm25.rows", rows_delta));
      RAGD_RETURN_IF_ERROR(AddToCounter(c, "bm25.tokens", tokens_delta));
      return SetMeta(c, "updated_at", now);
    }));
    std::unique_lock lock(mu_);
    generation_ = std::max<uint64_t>(generation_, new_generation);
    return Status::OK();
  }

  Status Flush() override { return Status::OK(); }  // every commit is the database's

  Result<std::vector<ScoredId>> LexicalSearch(std::string_view query, int k, std::span<const FilterCondition> filter) override {
    std::string terms = "{";
    {
      std::lock_guard lock(analyzer_mu_);
      std::vector<std::string> seen;
      analyzer_.Analyze(query, [&](std::string_view term, size_t, size_t) {
        if (std::find(seen.begin(), seen.end(), term) != seen.end()) return;
        if (!seen.empty()) terms += ',';
        seen.emplace_back(term);
        pg::AppendArrayElement(terms, term);
      });
      if (seen.empty()) return std::vector<ScoredId>();
    }
    terms += '}';
    // FTS5's bm25(): idf = ln((N - df + 0.5) / (df + 0.5)), at least 1e-6;
    // each term adds idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)).
    // One pass over the terms' postings (an index-only scan in term order):
    // df is a window count per term, and the arithmetic is float8 (numeric
    // constants made it 5x slower).
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kPostgres, schema_ + ".", 3);
    std::string sql = Sql(
        "WITH n AS MATERIALIZED (SELECT (SELECT value::float8 FROM @.meta WHERE key = 'bm25.rows') AS rows, "
        "  (SELECT value::float8 FROM @.meta WHERE key = 'bm25.tokens') / "
        "  NULLIF((SELECT value::float8 FROM @.meta WHERE key = 'bm25.rows'), 0) AS avgdl) "
        "SELECT p.chunk_id, sum(p.w * p.tf * 2.2::float8 / (p.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * p.dl / n.avgdl))) AS s "
        "FROM (SELECT q.chunk_id, q.tf::float8 AS tf, q.dl::float8 AS dl, "
        "        greatest(ln((n.rows - count(*) OVER t + 0.5::float8) / (count(*) OVER t + 0.5::float8)), 1e-6::float8) AS w "
        "      FROM @.postings q, n WHERE q.term = ANY($1::text[]) WINDOW t AS (PARTITION BY q.term)) p CROSS JOIN n ");
    if (!f.where.empty())
      sql += Sql("JOIN @.chunks c ON c.id = p.chunk_id JOIN @.documents d ON d.doc_id = c.doc_id WHERE ") + f.where + " ";
    sql += "GROUP BY p.chunk_id ORDER BY s DESC, p.chunk_id LIMIT $2";
    std::vector<Param> params{terms, Str(k)};
    for (auto& b : Binds(f)) params.push_back(std::move(b));
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params, What("lexical search in")));
    std::vector<ScoredId> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.Int(i, 0), static_cast<float>(r.Double(i, 1))});
    return out;
  }

  Result<std::vector<ScoredId>> DenseSearch(std::span<const float> query, int k, bool exact,
                                            std::span<const FilterCondition> filter) override {
    const int dim = Dim();
    if (static_cast<int>(query.size()) != dim)
      return Status::InvalidArgument("the query vector has " + std::to_string(query.size()) + " dimensions, " +
                                     What("") + " holds " + std::to_string(dim));
    const std::string half = "halfvec(" + std::to_string(dim) + ")";
    // The index orders by the halfvec cast; exact search by the stored f32.
    const std::string distance = exact ? "c.embedding <#> $1::vector" : "c.embedding::" + half + " <#> $1::" + half;
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kPostgres, schema_ + ".", 3);
    std::string sql = "SELECT c.id, -(" + distance + ") FROM " + schema_ + ".chunks c";
    if (!f.where.empty()) sql += Sql(" JOIN @.documents d ON d.doc_id = c.doc_id WHERE ") + f.where;
    sql += " ORDER BY " + distance + " LIMIT $2";
    std::vector<Param> params{VectorLiteral(query.data(), dim), Str(k)};
    for (auto& b : Binds(f)) params.push_back(std::move(b));
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    std::vector<ScoredId> out;
    RAGD_RETURN_IF_ERROR(c.InTransaction(What("dense search in"), [&]() -> Status {
      // Like the SQLite store's index: ef_search 64, raised to k. With a
      // filter the scan goes on past ef_search until k rows match.
      RAGD_RETURN_IF_ERROR(c.Exec("SET LOCAL hnsw.ef_search = " + std::to_string(std::clamp(k, 64, 1000)) +
                                  "; SET LOCAL hnsw.iterative_scan = relaxed_order",
                                  What("dense search in")).status());
      RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, params, What("dense search in")));
      for (int i = 0; i < r.rows(); ++i) out.push_back({r.Int(i, 0), static_cast<float>(r.Double(i, 1))});
      return Status::OK();
    }));
    // relaxed_order may return neighbours slightly out of order.
    std::stable_sort(out.begin(), out.end(), [](const ScoredId& a, const ScoredId& b) { return a.score > b.score; });
    return out;
  }

  Result<std::vector<ChunkRecord>> GetChunks(std::span<const int64_t> ids) override {
    if (ids.empty()) return std::vector<ChunkRecord>();
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(kChunkColumns) + " WHERE c.id = ANY($1::bigint[])", {IdArray(ids)},
                                             What("read chunks of")));
    std::unordered_map<int64_t, ChunkRecord> by_id;
    for (int i = 0; i < r.rows(); ++i) by_id.emplace(r.Int(i, 0), ReadChunk(r, i));
    std::vector<ChunkRecord> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) return Status::Corruption("chunk " + std::to_string(id) + " is indexed but not stored");
      out.push_back(it->second);
    }
    return out;
  }

  Result<std::vector<ChunkRecord>> ListChunks(const std::string& doc_id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(kChunkColumns) + " WHERE c.doc_id = $1 ORDER BY c.chunk_index", {doc_id},
                                             What("list chunks of")));
    std::vector<ChunkRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadChunk(r, i));
    return out;
  }

  Result<std::vector<ChunkRecord>> GetChunkRange(const std::string& doc_id, int first, int last) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(kChunkColumns) + " WHERE c.doc_id = $1 AND c.chunk_index BETWEEN $2 AND $3 "
                                                                  "ORDER BY c.chunk_index",
                                             {doc_id, Str(first), Str(last)}, What("read chunks of")));
    std::vector<ChunkRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadChunk(r, i));
    return out;
  }

  Result<std::vector<float>> GetVectors(std::span<const int64_t> ids) override {
    const int dim = Dim();
    std::vector<float> out;
    if (ids.empty()) return out;
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT id, embedding::text FROM @.chunks WHERE id = ANY($1::bigint[])"),
                                             {IdArray(ids)}, What("read embeddings of")));
    std::unordered_map<int64_t, int> row_of;
    for (int i = 0; i < r.rows(); ++i) row_of[r.Int(i, 0)] = i;
    out.reserve(ids.size() * dim);
    for (int64_t id : ids) {
      auto it = row_of.find(id);
      if (it == row_of.end()) return Status::Corruption("chunk " + std::to_string(id) + " has no stored embedding");
      size_t before = out.size();
      if (!ParseFloats(r.Text(it->second, 1), out) || out.size() - before != static_cast<size_t>(dim))
        return Status::Corruption("chunk " + std::to_string(id) + " has an embedding of the wrong size");
    }
    return out;
  }

  Result<std::map<std::string, std::string>> GetSettings() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT substr(key, 9), value FROM @.meta WHERE key LIKE 'setting.%'"),
                                             What("read the settings of")));
    std::map<std::string, std::string> out;
    for (int i = 0; i < r.rows(); ++i) out[r.Text(i, 0)] = r.Text(i, 1);
    return out;
  }

  Status SetSetting(const std::string& key, const std::string& value) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    return SetMeta(c, "setting." + key, value);
  }

  Result<StoreStats> Stats() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT (SELECT count(*) FROM @.documents), (SELECT count(*) FROM @.chunks), "
                                                 "(SELECT value FROM @.meta WHERE key = 'created_at'), "
                                                 "(SELECT value FROM @.meta WHERE key = 'updated_at')"),
                                             What("count the rows of")));
    StoreStats s;
    s.documents = r.Int(0, 0);
    s.chunks = r.Int(0, 1);
    s.vectors = s.chunks;  // the embedding column is NOT NULL: one vector per chunk
    s.schema_version = kSchemaVersion;
    s.created_at = r.Text(0, 2);
    s.updated_at = r.Text(0, 3);
    std::shared_lock lock(mu_);
    s.generation = generation_;
    s.embed_model = embed_model_;
    s.dim = dim_;
    return s;
  }

  uint64_t generation() override {
    std::shared_lock lock(mu_);
    return generation_;
  }

  std::string embed_model() const override {
    std::shared_lock lock(mu_);
    return embed_model_;
  }

  Result<std::vector<int64_t>> ChunksToStage(const std::string& model) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT id FROM @.chunks WHERE id NOT IN "
                                                 "(SELECT chunk_id FROM @.staged_vectors WHERE model = $1) ORDER BY id"),
                                             {model}, What("list chunks to re-embed in")));
    std::vector<int64_t> ids;
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r.Int(i, 0));
    return ids;
  }

  Status StageVectors(const std::string& model, int dim, std::span<const int64_t> ids,
                      std::span<const float> vectors) override {
    if (dim <= 0 || vectors.size() != ids.size() * static_cast<size_t>(dim))
      return Status::InvalidArgument("staged vectors do not match their chunks");
    std::string arrays = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) arrays += ',';
      std::string v = VectorLiteral(vectors.data() + i * dim, dim);
      v.front() = '{';
      v.back() = '}';
      pg::AppendArrayElement(arrays, v);
    }
    arrays += '}';
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    return c.InTransaction(What("stage vectors in"), [&]() -> Status {
      RAGD_RETURN_IF_ERROR(c.Exec(Sql("DELETE FROM @.staged_vectors WHERE model != $1"), {model}, What("stage vectors in")).status());
      return c.Exec(Sql("INSERT INTO @.staged_vectors(chunk_id, model, dim, embedding) "
                        "SELECT id, $2, $3, v::real[] FROM unnest($1::bigint[], $4::text[]) AS x(id, v) "
                        "ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, dim = excluded.dim, "
                        "embedding = excluded.embedding"),
                    {IdArray(ids), model, Str(dim), arrays}, What("stage vectors in"))
          .status();
    });
  }

  Status SwapStagedVectors(const std::string& model, int dim) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    const std::string d = std::to_string(dim);
    RAGD_RETURN_IF_ERROR(c.InTransaction(What("swap to the staged vectors of"), [&]() -> Status {
      RAGD_RETURN_IF_ERROR(LockInTransaction(c));
      RAGD_ASSIGN_OR_RETURN(PgResult missing, c.Exec(Sql("SELECT count(*) FROM @.chunks WHERE id NOT IN "
                                                         "(SELECT chunk_id FROM @.staged_vectors WHERE model = $1 AND dim = $2)"),
                                                     {model, d}, What("count staged vectors in")));
      if (int64_t n = missing.Int(0, 0); n > 0)
        return Status::InvalidArgument(std::to_string(n) + " chunks have no vector from " + model + " yet");
      // The column takes the new dimension; the index is rebuilt for it.
      const std::string what = What("swap the vectors of");
      RAGD_RETURN_IF_ERROR(c.Exec(Sql("DROP INDEX @.chunks_hnsw; "
                                      "ALTER TABLE @.chunks ADD COLUMN staged vector(" + d + "); "
                                      "UPDATE @.chunks c SET staged = s.embedding::vector(" + d + ") "
                                      "FROM @.staged_vectors s WHERE s.chunk_id = c.id; "
                                      "ALTER TABLE @.chunks DROP COLUMN embedding; "
                                      "ALTER TABLE @.chunks RENAME COLUMN staged TO embedding; "
                                      "ALTER TABLE @.chunks ALTER COLUMN embedding SET NOT NULL; "
                                      "CREATE INDEX chunks_hnsw ON @.chunks USING hnsw ((embedding::halfvec(" + d + ")) "
                                      "halfvec_ip_ops) WITH (m = 16, ef_construction = 128); "
                                      "DELETE FROM @.staged_vectors; "
                                      "UPDATE @.meta SET value = (value::bigint + 1)::text WHERE key = 'generation';"),
                                  what).status());
      RAGD_RETURN_IF_ERROR(SetMeta(c, "embed_model", model));
      RAGD_RETURN_IF_ERROR(SetMeta(c, "dim", d));
      return SetMeta(c, "updated_at", files::NowIso8601());
    }));
    return Refresh();
  }

  Status CheckConsistency() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    const std::string what = What("check");
    // One snapshot for every query below: a commit meanwhile cannot make
    // them disagree.
    return c.InTransaction(what, [&]() -> Status {
      RAGD_RETURN_IF_ERROR(c.Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", what).status());
      RAGD_ASSIGN_OR_RETURN(PgResult orphans, c.Exec(Sql("SELECT count(*) FROM @.chunks c LEFT JOIN @.documents d "
                                                         "ON d.doc_id = c.doc_id WHERE d.doc_id IS NULL"), what));
      if (orphans.Int(0, 0) != 0) return Status::Corruption(orphans.Text(0, 0) + " chunks have no document");
      RAGD_ASSIGN_OR_RETURN(PgResult per_doc, c.Exec(Sql("SELECT d.doc_id, d.chunk_count, count(c.id) FROM @.documents d "
                                                         "LEFT JOIN @.chunks c ON c.doc_id = d.doc_id GROUP BY d.doc_id "
                                                         "HAVING count(c.id) != d.chunk_count LIMIT 1"), what));
      if (per_doc.rows() > 0)
        return Status::Corruption("document " + per_doc.Text(0, 0) + " lists " + per_doc.Text(0, 1) + " chunks but has " +
                                  per_doc.Text(0, 2));
      // The lexical index: each chunk's postings add up to its length, and
      // the corpus counters equal the chunks' rows and tokens.
      RAGD_ASSIGN_OR_RETURN(PgResult postings, c.Exec(Sql("SELECT c.id FROM @.chunks c LEFT JOIN "
                                                          "(SELECT chunk_id, sum(tf) AS tokens, min(dl) AS lo, max(dl) AS hi "
                                                          " FROM @.postings GROUP BY chunk_id) p ON p.chunk_id = c.id "
                                                          "WHERE COALESCE(p.tokens, 0) != c.length OR "
                                                          "(p.chunk_id IS NOT NULL AND (p.lo != c.length OR p.hi != c.length)) "
                                                          "LIMIT 1"), what));
      if (postings.rows() > 0)
        return Status::Corruption("the lexical index disagrees with chunk " + postings.Text(0, 0));
      RAGD_ASSIGN_OR_RETURN(PgResult totals, c.Exec(Sql("SELECT count(*), COALESCE(sum(length), 0), "
                                                        "(SELECT value::bigint FROM @.meta WHERE key = 'bm25.rows'), "
                                                        "(SELECT value::bigint FROM @.meta WHERE key = 'bm25.tokens') "
                                                        "FROM @.chunks"), what));
      if (totals.Int(0, 0) != totals.Int(0, 2) || totals.Int(0, 1) != totals.Int(0, 3))
        return Status::Corruption("the lexical index counts " + totals.Text(0, 2) + " chunks and " + totals.Text(0, 3) +
                                  " tokens, the chunks are " + totals.Text(0, 0) + " with " + totals.Text(0, 1));
      RAGD_ASSIGN_OR_RETURN(PgResult dims, c.Exec(Sql("SELECT id, vector_dims(embedding) FROM @.chunks "
                                                      "WHERE vector_dims(embedding) != $1 LIMIT 1"),
                                                  {Str(Dim())}, what));
      if (dims.rows() > 0) return Status::Corruption("chunk " + dims.Text(0, 0) + " has an embedding of the wrong size");
      return Status::OK();
    });
  }

  Result<std::optional<std::string>> LoadSession(const std::string& id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT body FROM @.sessions WHERE id = $1"), {id}, What("read a session of")));
    if (r.rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.Text(0, 0));
  }

  Status SaveSession(const std::string& id, const std::string& body) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    return c.Exec(Sql("INSERT INTO @.sessions(id, body, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) "
                      "DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"),
                  {id, body, files::NowIso8601()}, What("save a session of"))
        .status();
  }

  Result<std::vector<std::string>> ListSessions() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("SELECT body FROM @.sessions"), What("list the sessions of")));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.Text(i, 0));
    return out;
  }

  Result<bool> DeleteSession(const std::string& id) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql("DELETE FROM @.sessions WHERE id = $1 RETURNING 1"), {id},
                                             What("delete a session of")));
    return r.rows() > 0;
  }

  Status BackupTo(const std::string&) override {
    return Status::InvalidArgument(What("") + " lives in PostgreSQL at " + pool_->where() +
                                   ": back it up with pg_dump or a replica (docs/SCALE.md), or copy it out with "
                                   "`ragd kb copy`");
  }

  // Creates the knowledge base's schema and first rows (the caller holds
  // the registry's lock and committed nothing yet).
  static Status CreateSchema(PgLease& c, const std::string& schema, const StoreOptions& options, const std::string& what) {
    RAGD_RETURN_IF_ERROR(c.Exec(Replace(Replace(kKbSchema, "@", schema), "DIM", std::to_string(options.dim)), what).status());
    const std::string now = files::NowIso8601();
    return c.Exec(Replace("INSERT INTO @.meta(key, value) VALUES ('schema_version', $1), ('embed_model', $2), "
                          "('dim', $3), ('generation', '0'), ('created_at', $4), ('updated_at', $4), "
                          "('bm25.rows', '0'), ('bm25.tokens', '0')", "@", schema),
                  {std::to_string(kSchemaVersion), options.embed_model, std::to_string(options.dim), now}, what)
        .status();
  }

 private:
  struct ChunkTerms {
    std::vector<std::pair<std::string, int>> tf;
    int length = 0;
  };

  static constexpr const char* kDocColumns =
      "SELECT doc_id, source, mime, title, content_hash, size_bytes, mtime, chunk_count, ingested_at FROM @.documents";
  static constexpr const char* kChunkColumns =
      "SELECT c.id, c.doc_id, d.source, d.title, c.chunk_index, c.page, c.heading_path, c.char_start, c.char_end, "
      "c.\"row\", c.text, c.ocr_confidence FROM @.chunks c JOIN @.documents d ON d.doc_id = c.doc_id";

  std::string Sql(const std::string& sql) const { return Replace(sql, "@.", schema_ + "."); }
  std::string What(const std::string& verb) const {
    return (verb.empty() ? "" : verb + " ") + "knowledge base '" + name_ + "'";
  }
  int Dim() const {
    std::shared_lock lock(mu_);
    return dim_;
  }
  static std::string Double(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
  }
  static std::string IdArray(std::span<const int64_t> ids) {
    std::string out = "{";
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "}";
  }

  // The writers' lock of this knowledge base, until the transaction ends.
  Status LockInTransaction(PgLease& c) {
    return c.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kCommitLockSpace) + ", " + std::to_string(id_) + ")",
                  What("lock"))
        .status();
  }

  Result<int64_t> Scalar(const char* sql, const std::string& verb) {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec(Sql(sql), What(verb)));
    return r.Int(0, 0);
  }

  Status SetMeta(PgLease& c, const std::string& key, const std::string& value) {
    return c.Exec(Sql("INSERT INTO @.meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
                  {key, value}, What("update"))
        .status();
  }

  Status AddToCounter(PgLease& c, const std::string& key, int64_t delta) {
    if (delta == 0) return Status::OK();
    return c.Exec(Sql("UPDATE @.meta SET value = (value::bigint + $2)::text WHERE key = $1"), {key, Str(delta)},
                  What("update"))
        .status();
  }

  ChunkTerms Count(const std::string& text) {
    ChunkTerms t;
    std::map<std::string, int, std::less<>> tf;
    analyzer_.Analyze(text, [&](std::string_view term, size_t, size_t) {
      ++t.length;
      auto it = tf.find(term);
      if (it == tf.end()) tf.emplace(std::string(term), 1);
      else ++it->second;
    });
    t.tf.assign(tf.begin(), tf.end());
    return t;
  }

  // One statement for a document's chunks; their ids in chunk order.
  Result<std::vector<int64_t>> InsertChunks(PgLease& c, const DocumentWrite& d, const std::vector<ChunkTerms>& terms,
                                            const std::string& what) {
    const int dim = Dim();
    std::string idx = "{", text = "{", page = "{", heading = "{", start = "{", end = "{", row = "{", ocr = "{", len = "{",
                vec = "{";
    for (size_t i = 0; i < d.chunks.size(); ++i) {
      const ChunkWrite& ch = d.chunks[i];
      const char* sep = i ? "," : "";
      for (std::string* s : {&idx, &text, &page, &heading, &start, &end, &row, &ocr, &len, &vec}) *s += sep;
      idx += std::to_string(ch.chunk_index);
      pg::AppendArrayElement(text, ch.text);
      page += std::to_string(ch.page);
      pg::AppendArrayElement(heading, ch.heading_path);
      start += std::to_string(ch.char_start);
      end += std::to_string(ch.char_end);
      row += std::to_string(ch.row);
      ocr += ch.ocr_confidence >= 0 ? Double(ch.ocr_confidence) : "NULL";
      len += std::to_string(terms[i].length);
      pg::AppendArrayElement(vec, VectorLiteral(d.embeddings.data() + i * dim, dim));
    }
    for (std::string* s : {&idx, &text, &page, &heading, &start, &end, &row, &ocr, &len, &vec}) *s += '}';
    RAGD_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec(Sql("INSERT INTO @.chunks(doc_id, chunk_index, text, page, heading_path, char_start, char_end, \"row\", "
                   "ocr_confidence, length, embedding) "
                   "SELECT $1, i, t, p, h, s, e, r, o, l, v::vector FROM unnest($2::int[], $3::text[], $4::int[], "
                   "$5::text[], $6::bigint[], $7::bigint[], $8::int[], $9::real[], $10::int[], $11::text[]) "
                   "WITH ORDINALITY AS x(i, t, p, h, s, e, r, o, l, v, n) ORDER BY n RETURNING id, chunk_index"),
               {d.doc_id, idx, text, page, heading, start, end, row, ocr, len, vec}, what));
    std::map<int, int64_t> by_index;
    for (int i = 0; i < r.rows(); ++i) by_index[static_cast<int>(r.Int(i, 1))] = r.Int(i, 0);
    std::vector<int64_t> ids;
    for (const ChunkWrite& ch : d.chunks) ids.push_back(by_index[ch.chunk_index]);
    return ids;
  }

  Status InsertPostings(PgLease& c, const std::vector<int64_t>& ids, const std::vector<ChunkTerms>& terms,
                        const std::string& what) {
    std::string term = "{", chunk = "{", tf = "{", dl = "{";
    bool first = true;
    for (size_t i = 0; i < ids.size(); ++i)
      for (const auto& [t, n] : terms[i].tf) {
        const char* sep = first ? "" : ",";
        first = false;
        term += sep, chunk += sep, tf += sep, dl += sep;
        pg::AppendArrayElement(term, t);
        chunk += std::to_string(ids[i]);
        tf += std::to_string(n);
        dl += std::to_string(terms[i].length);
      }
    if (first) return Status::OK();
    term += '}', chunk += '}', tf += '}', dl += '}';
    return c.Exec(Sql("INSERT INTO @.postings(term, chunk_id, tf, dl) "
                      "SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[])"),
                  {term, chunk, tf, dl}, what)
        .status();
  }

  StoredDocument ReadDoc(const PgResult& r, int i) const {
    StoredDocument d;
    d.doc_id = r.Text(i, 0);
    d.source = r.Text(i, 1);
    d.mime = r.Text(i, 2);
    d.title = r.Text(i, 3);
    d.content_hash = r.Text(i, 4);
    d.size_bytes = r.Int(i, 5);
    d.mtime = r.Int(i, 6);
    d.chunk_count = r.Int(i, 7);
    d.ingested_at = r.Text(i, 8);
    return d;
  }

  ChunkRecord ReadChunk(const PgResult& r, int i) const {
    ChunkRecord c;
    c.id = r.Int(i, 0);
    c.doc_id = r.Text(i, 1);
    c.source = r.Text(i, 2);
    c.title = r.Text(i, 3);
    c.chunk_index = static_cast<int>(r.Int(i, 4));
    c.page = static_cast<int>(r.Int(i, 5));
    c.heading_path = r.Text(i, 6);
    c.char_start = r.Int(i, 7);
    c.char_end = r.Int(i, 8);
    c.row = static_cast<int>(r.Int(i, 9));
    c.text = r.Text(i, 10);
    if (!r.IsNull(i, 11)) c.ocr_confidence = static_cast<float>(r.Double(i, 11));
    return c;
  }

  std::shared_ptr<PgPool> pool_;
  const std::string name_;
  const int64_t id_;
  const std::string schema_;
  // What Refresh read: the view of the knowledge base this process has.
  mutable std::shared_mutex mu_;
  uint64_t generation_ = 0;
  std::string embed_model_;
  int dim_ = 0;
  Analyzer analyzer_;
  std::mutex analyzer_mu_;  // one Analyzer, one thread at a time
};

// Registry lookups; name -> id, or nullopt.
Result<std::optional<int64_t>> FindKb(PgLease& c, const std::string& name) {
  RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT id FROM ragd.kbs WHERE name = $1", {name},
                                           "look up knowledge base '" + name + "'"));
  if (r.rows() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(r.Int(0, 0));
}

class PgCatalog final : public KbCatalog {
 public:
  explicit PgCatalog(std::shared_ptr<PgPool> pool) : pool_(std::move(pool)) {}

  Status Init() {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    // Two ragd processes starting at once: one creates, the other waits.
    return c.InTransaction("prepare the database", [&]() -> Status {
      RAGD_RETURN_IF_ERROR(c.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kRegistryLock) + ")",
                                  "prepare the database").status());
      Status st = c.Exec(kRegistrySchema, "prepare the database (ragd needs the pgvector extension: "
                                          "CREATE EXTENSION vector, as a superuser, once)").status();
      return st;
    });
  }

  std::string Describe() const override { return pool_->where(); }
  std::string Location(const std::string& name) const override { return pool_->where() + "#" + name; }

  Result<std::vector<std::string>> List() override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT name FROM ragd.kbs ORDER BY name", "list knowledge bases"));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.Text(i, 0));
    return out;
  }

  Result<bool> Exists(const std::string& name) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindKb(c, name));
    return id.has_value();
  }

  Result<std::unique_ptr<KbStore>> Open(const std::string& name, const StoreOptions& options) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    RAGD_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindKb(c, name));
    if (!id && !options.create) return Status::NotFound("no knowledge base '" + name + "' in " + Describe());
    if (!id) {
      if (options.dim <= 0 || options.embed_model.empty())
        return Status::InvalidArgument("creating a knowledge base needs an embedding model and dimension");
      const std::string what = "create knowledge base '" + name + "' in " + Describe();
      RAGD_RETURN_IF_ERROR(c.InTransaction(what, [&]() -> Status {
        RAGD_RETURN_IF_ERROR(c.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kRegistryLock) + ")", what).status());
        RAGD_ASSIGN_OR_RETURN(id, FindKb(c, name));  // another process may have won
        if (id) return Status::OK();
        RAGD_ASSIGN_OR_RETURN(PgResult r, c.Exec("INSERT INTO ragd.kbs(name, created_at) VALUES ($1, $2) RETURNING id",
                                                 {name, files::NowIso8601()}, what));
        id = r.Int(0, 0);
        return PgStore::CreateSchema(c, "ragd_kb_" + std::to_string(*id), options, what);
      }));
    }
    auto store = std::make_unique<PgStore>(pool_, name, *id);
    RAGD_RETURN_IF_ERROR(store->Init());
    return std::unique_ptr<KbStore>(std::move(store));
  }

  Status Drop(const std::string& name) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    const std::string what = "delete knowledge base '" + name + "' from " + Describe();
    return c.InTransaction(what, [&]() -> Status {
      RAGD_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindKb(c, name));
      if (!id) return Status::NotFound("no knowledge base '" + name + "' in " + Describe());
      RAGD_RETURN_IF_ERROR(c.Exec("DELETE FROM ragd.kbs WHERE id = $1", {Str(*id)}, what).status());
      return c.Exec("DROP SCHEMA ragd_kb_" + std::to_string(*id) + " CASCADE", what).status();
    });
  }

  // A session-level advisory lock on a connection of its own, held until
  // the returned object goes: other processes' writers wait for it (up to
  // a minute, then Unavailable), readers never do.
  Result<std::unique_ptr<CatalogLock>> LockForWriting(const std::string& name) override {
    RAGD_ASSIGN_OR_RETURN(PgLease c, pool_->Acquire());
    // By the name's hash: a collision only makes two writers take turns.
    const std::string key = std::to_string(kWriterLockSpace) + ", hashtext(" + Quote(name) + ")";
    const std::string what = "lock knowledge base '" + name + "' for writing";
    RAGD_RETURN_IF_ERROR(c.Exec("SET lock_timeout = '60s'", what).status());
    Status st = c.Exec("SELECT pg_advisory_lock(" + key + ")", what).status();
    (void)c.Exec("SET lock_timeout = 0", what);
    if (!st.ok()) return st.code() == StatusCode::kUnavailable
                             ? Status::Unavailable("another ragd has been writing to knowledge base '" + name +
                                                   "' for a minute; try again when it is done")
                             : st;
    return std::unique_ptr<CatalogLock>(new AdvisoryLock(std::move(c), key));
  }

  int64_t BytesUsed(const std::string& name) override {
    auto c = pool_->Acquire();
    if (!c.ok()) return 0;
    auto id = FindKb(*c, name);
    if (!id.ok() || !*id) return 0;
    auto r = c->Exec("SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                     "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
                     {"ragd_kb_" + std::to_string(**id)}, "size");
    return r.ok() && r->rows() ? r->Int(0, 0) : 0;
  }

 private:
  class AdvisoryLock final : public CatalogLock {
   public:
    AdvisoryLock(PgLease c, std::string key) : c_(std::move(c)), key_(std::move(key)) {}
    ~AdvisoryLock() override { (void)c_.Exec("SELECT pg_advisory_unlock(" + key_ + ")", "unlock"); }

   private:
    PgLease c_;
    std::string key_;
  };

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
  }

  std::shared_ptr<PgPool> pool_;
};

}  // namespace

bool IsPostgresUrl(const std::string& url) { return pg::IsPostgresUrl(url); }

Result<std::unique_ptr<KbCatalog>> OpenPgCatalog(const std::string& url) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, PgPool::Open(url, 8));
  auto catalog = std::make_unique<PgCatalog>(std::move(pool));
  RAGD_RETURN_IF_ERROR(catalog->Init());
  return std::unique_ptr<KbCatalog>(std::move(catalog));
}

}  // namespace ragd::store
