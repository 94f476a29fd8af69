// The embedded store: a SQLite database in WAL mode (documents, chunks with
// their embeddings, an FTS5 index over chunk text) and two index files
// derived from it: a usearch HNSW index of the embeddings and a block-max
// BM25 index of the chunks' terms (store/lexical_index.h), which answers
// lexical searches with FTS5's scores without scoring every match. FTS5
// stays the stored full-text index and answers what the derived one cannot
// (a query word that analyses to several terms, i.e. a phrase).
//
// Crash safety: SQLite's transaction is the commit point. The index files
// are stamped with the generation counter that each commit bumps; when a
// stamp and the database disagree (a crash after a commit, before the
// index was saved) that index is rebuilt from the database on open.
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <filesystem>
#include <unordered_set>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "store/analyzer.h"
#include "store/filter.h"
#include "store/fts_tokenizer.h"
#include "store/lexical_index.h"
#include "store/sql_filter.h"
#include "store/store.h"

namespace ragd::store {

namespace {

namespace fs = std::filesystem;

// Thin RAII wrapper over a prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
  Stmt& Bind(int i, int v) { sqlite3_bind_int(stmt_, i, v); return *this; }
  Stmt& Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); return *this; }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(stmt_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::span<const float> Floats(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return {static_cast<const float*>(p), static_cast<size_t>(n) / sizeof(float)};
  }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Status SqlError(sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  std::string msg = what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return Status::Corruption(msg);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::Unavailable(msg + " (another ragd process is writing)");
  if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_CANTOPEN || code == SQLITE_READONLY ||
      code == SQLITE_PERM)
    return Status::IOError(msg);
  return Status::IOError(msg);
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    int code = sqlite3_errcode(db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return Status::Corruption(msg);
    return Status::IOError(msg);
  }
  return Status::OK();
}

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents(
  doc_id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  mime TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL,
  size_bytes INTEGER NOT NULL DEFAULT 0,
  mtime INTEGER NOT NULL DEFAULT 0,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  ingested_at TEXT NOT NULL);
CREATE INDEX documents_source ON documents(source);
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id TEXT NOT NULL REFERENCES documents(doc_id),
  chunk_index INTEGER NOT NULL,
  text TEXT NOT NULL,
  page INTEGER NOT NULL DEFAULT 0,
  heading_path TEXT NOT NULL DEFAULT '',
  char_start INTEGER NOT NULL DEFAULT 0,
  char_end INTEGER NOT NULL DEFAULT 0,
  row INTEGER NOT NULL DEFAULT 0,
  embedding BLOB);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id', tokenize='ragd');
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
)sql";

// Metadata given at ingest. Added after schema version 1 was frozen, so it
// is created on open when missing: older knowledge bases gain it, and a
// version-1 reader ignores it.
constexpr char kMetadataSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS doc_meta(
  doc_id TEXT NOT NULL REFERENCES documents(doc_id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(doc_id, key));
CREATE TABLE IF NOT EXISTS doc_tables(
  doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id),
  columns TEXT NOT NULL,
  rows TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc_summaries(
  doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id),
  summary TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS interactions(
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  rating REAL,
  time REAL);
CREATE TABLE IF NOT EXISTS staged_vectors(
  chunk_id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  embedding BLOB NOT NULL);
)sql";

// Binds a filter's values from placeholder number first on.
void BindAll(const SqlFilter& f, Stmt& q, int first) {
  int i = first;
  for (const auto& b : f.binds) {
    if (auto* n = std::get_if<int64_t>(&b)) q.Bind(i++, *n);
    else if (auto* x = std::get_if<double>(&b)) q.Bind(i++, *x);
    else q.Bind(i++, std::get<std::string>(b));
  }
}

class SqliteStore final : public KbStore {
 public:
  SqliteStore(std::string dir, sqlite3* db) : dir_(std::move(dir)), db_(db) {}
  ~SqliteStore() override {
    (void)Flush();
    sqlite3_close_v2(db_);
  }

  // Columns added after schema version 1 was frozen, the way the tables of
  // kMetadataSchema are: NULL in older rows, ignored by older readers. Two
  // processes opening at once may race to add it; the loser finds it there.
  Status AddColumnIfMissing(const char* table, const char* column, const char* type) {
    auto has = [&]() -> bool {
      Stmt q(db_, (std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?").c_str());
      if (!q.ok()) return false;
      q.Bind(1, std::string_view(column));
      return q.Step() == SQLITE_ROW;
    };
    if (has()) return Status::OK();
    Status st = Exec(db_, (std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + type).c_str());
    return st.ok() || has() ? Status::OK() : st;
  }

  Status Init(const StoreOptions& options, bool fresh) {
    sqlite3_busy_timeout(db_, 10000);
    RAGD_RETURN_IF_ERROR(RegisterFtsTokenizer(db_));
    RAGD_RETURN_IF_ERROR(Exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
                              .WithContext(DbPath()));
    if (fresh) {
      if (options.dim <= 0 || options.embed_model.empty())
        return Status::InvalidArgument("creating a knowledge base needs an embedding model and dimension");
      RAGD_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
      Status st = Exec(db_, kSchema);
      std::string now = files::NowIso8601();
      if (st.ok()) st = SetMeta("schema_version", std::to_string(kSchemaVersion));
      if (st.ok()) st = SetMeta("embed_model", options.embed_model);
      if (st.ok()) st = SetMeta("dim", std::to_string(options.dim));
      if (st.ok()) st = SetMeta("generation", "0");
      if (st.ok()) st = SetMeta("created_at", now);
      if (st.ok()) st = SetMeta("updated_at", now);
      if (st.ok()) st = Exec(db_, "COMMIT");
      if (!st.ok()) {
        (void)Exec(db_, "ROLLBACK");  // the error that made us roll back is the one to report
        return st.WithContext("cannot create " + DbPath());
      }
    }
    auto version = GetMeta("schema_version");
    if (!version.ok()) return version.status();
    RAGD_RETURN_IF_ERROR(Exec(db_, kMetadataSchema).WithContext(DbPath()));
    RAGD_RETURN_IF_ERROR(AddColumnIfMissing("chunks", "ocr_confidence", "REAL").WithContext(DbPath()));
    int v = std::atoi(version->c_str());
    if (v > kSchemaVersion)
      return Status::Corruption(DbPath() + " has schema version " + *version + ", newer than this ragd (" +
                                std::to_string(kSchemaVersion) + "); upgrade ragd");
    if (v < 1) return Status::Corruption(DbPath() + " has no valid schema version");
    RAGD_ASSIGN_OR_RETURN(data_version_, DataVersion());
    const char* lexical = std::getenv("RAGD_LEXICAL_INDEX");
    use_lexical_index_ = !(lexical && std::string_view(lexical) == "fts5");
    return LoadDerived(use_lexical_index_);
  }

  // Another connection's commits change PRAGMA data_version (this one's do
  // not); the generation then says whether the vector index must follow.
  // Checked under the shared lock; only a reload takes the store alone.
  Status Refresh() override {
    {
      std::shared_lock lock(mu_);
      RAGD_ASSIGN_OR_RETURN(int64_t version, DataVersion());
      if (version == data_version_.load()) return Status::OK();
    }
    std::unique_lock lock(mu_);
    RAGD_ASSIGN_OR_RETURN(int64_t version, DataVersion());
    if (version == data_version_.load()) return Status::OK();  // another thread caught up
    data_version_ = version;
    RAGD_ASSIGN_OR_RETURN(std::string gen, GetMeta("generation"));
    if (std::stoull(gen) == generation_) return Status::OK();
    return LoadDerived(use_lexical_index_);
  }

  Result<std::optional<StoredDocument>> FindDocument(const std::string& doc_id) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT doc_id, source, mime, title, content_hash, size_bytes, mtime, chunk_count, ingested_at "
                "FROM documents WHERE doc_id = ?");
    if (!q.ok()) return SqlError(db_, "find document");
    q.Bind(1, doc_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<StoredDocument>();
    if (rc != SQLITE_ROW) return SqlError(db_, "find document");
    StoredDocument d = ReadDoc(q);
    Stmt m(db_, "SELECT key, value FROM doc_meta WHERE doc_id = ?");
    if (!m.ok()) return SqlError(db_, "read metadata");
    m.Bind(1, doc_id);
    while ((rc = m.Step()) == SQLITE_ROW) d.metadata[m.Text(0)] = m.Text(1);
    if (rc != SQLITE_DONE) return SqlError(db_, "read metadata");
    return std::optional<StoredDocument>(std::move(d));
  }

  Result<std::vector<StoredDocument>> ListDocuments() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT doc_id, source, mime, title, content_hash, size_bytes, mtime, chunk_count, ingested_at "
                "FROM documents ORDER BY doc_id");
    if (!q.ok()) return SqlError(db_, "list documents");
    std::vector<StoredDocument> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadDoc(q));
    if (rc != SQLITE_DONE) return SqlError(db_, "list documents");
    return out;
  }

  Result<std::vector<StoredTable>> ListTables() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT t.doc_id, d.source, d.title, t.columns, t.rows FROM doc_tables t "
                "JOIN documents d ON d.doc_id = t.doc_id WHERE t.columns != '[]' ORDER BY t.doc_id");
    if (!q.ok()) return SqlError(db_, "list tables");
    std::vector<StoredTable> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      StoredTable t{q.Text(0), q.Text(1), q.Text(2), {}};
      auto columns = nlohmann::json::parse(q.Text(3), nullptr, false);
      auto rows = nlohmann::json::parse(q.Text(4), nullptr, false);
      if (!columns.is_array() || !rows.is_array()) return Status::Corruption("the table of " + t.doc_id + " in " + DbPath() + " is not valid JSON");
      try {
        t.data.columns = columns.get<std::vector<std::string>>();
        t.data.rows = rows.get<std::vector<std::vector<std::string>>>();
      } catch (const nlohmann::json::exception&) {
        return Status::Corruption("the table of " + t.doc_id + " in " + DbPath() + " is not a list of text rows");
      }
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "list tables");
    return out;
  }

  Result<bool> HasTable(const std::string& doc_id) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT 1 FROM doc_tables WHERE doc_id = ?");
    if (!q.ok()) return SqlError(db_, "read table");
    q.Bind(1, doc_id);
    int rc = q.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(db_, "read table");
    return rc == SQLITE_ROW;
  }

  Result<std::optional<std::string>> KeptSummary(const std::string& doc_id) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT s.summary FROM documents d LEFT JOIN doc_summaries s ON s.doc_id = d.doc_id "
                "WHERE d.doc_id = ?");
    if (!q.ok()) return SqlError(db_, "read summary");
    q.Bind(1, doc_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no document '" + doc_id + "' in " + DbPath());
    if (rc != SQLITE_ROW) return SqlError(db_, "read summary");
    if (q.IsNull(0)) return std::optional<std::string>();
    return std::optional<std::string>(q.Text(0));
  }

  Status KeepSummary(const std::string& doc_id, const std::string& summary_json) override {
    std::unique_lock lock(mu_);
    // Only for a document that is there: INSERT ... SELECT inserts nothing otherwise.
    Stmt q(db_, "INSERT OR REPLACE INTO doc_summaries(doc_id, summary, created_at) "
                "SELECT doc_id, ?, ? FROM documents WHERE doc_id = ?");
    if (!q.ok()) return SqlError(db_, "keep summary");
    q.Bind(1, summary_json).Bind(2, files::NowIso8601()).Bind(3, doc_id);
    if (q.Step() != SQLITE_DONE) return SqlError(db_, "keep summary of " + doc_id);
    if (sqlite3_changes(db_) == 0) return Status::NotFound("no document '" + doc_id + "' in " + DbPath() + " (removed meanwhile?)");
    return Status::OK();
  }

  Status AddInteractions(std::span<const Interaction> rows) override {
    std::unique_lock lock(mu_);
    return InTransaction("interactions", [&]() -> Status {
      Stmt q(db_, "INSERT INTO interactions(user_id, item_id, rating, time) VALUES (?, ?, ?, ?)");
      if (!q.ok()) return SqlError(db_, "add interactions");
      for (const auto& r : rows) {
        q.Reset();
        q.Bind(1, r.user).Bind(2, r.item);
        if (r.rating) q.Bind(3, *r.rating);
        if (r.time) q.Bind(4, *r.time);
        if (q.Step() != SQLITE_DONE) return SqlError(db_, "add interactions");
      }
      return Status::OK();
    });
  }

  Result<std::vector<Interaction>> ListInteractions() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT user_id, item_id, rating, time FROM interactions ORDER BY seq");
    if (!q.ok()) return SqlError(db_, "read interactions");
    std::vector<Interaction> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      Interaction r{q.Text(0), q.Text(1), std::nullopt, std::nullopt};
      if (!q.IsNull(2)) r.rating = q.Double(2);
      if (!q.IsNull(3)) r.time = q.Double(3);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "read interactions");
    return out;
  }

  uint64_t generation() override {
    std::shared_lock lock(mu_);
    return generation_;
  }

  Result<int64_t> InteractionCount() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT COALESCE(MAX(seq), 0) FROM interactions");
    if (!q.ok() || q.Step() != SQLITE_ROW) return SqlError(db_, "count interactions");
    return q.Int(0);
  }

  Result<int64_t> InteractionUsers() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT COUNT(DISTINCT user_id) FROM interactions");
    if (!q.ok() || q.Step() != SQLITE_ROW) return SqlError(db_, "count users");
    return q.Int(0);
  }

  Result<std::vector<std::string>> MatchingDocuments(std::span<const FilterCondition> filter) override {
    std::shared_lock lock(mu_);
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kSqlite);
    std::string sql = "SELECT d.doc_id FROM documents d";
    if (!f.where.empty()) sql += " WHERE " + f.where;
    sql += " ORDER BY d.doc_id";
    Stmt q(db_, sql.c_str());
    if (!q.ok()) return SqlError(db_, "filter documents");
    BindAll(f, q, 1);
    std::vector<std::string> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.Text(0));
    if (rc != SQLITE_DONE) return SqlError(db_, "filter documents");
    return out;
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListChunkIds() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT doc_id, id FROM chunks ORDER BY doc_id, chunk_index");
    if (!q.ok()) return SqlError(db_, "list chunks");
    std::vector<std::pair<std::string, int64_t>> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.emplace_back(q.Text(0), q.Int(1));
    if (rc != SQLITE_DONE) return SqlError(db_, "list chunks");
    return out;
  }

  Status Commit(std::span<const DocumentWrite> upserts, std::span<const std::string> removes) override {
    // The new chunks' terms for the lexical index, analysed before the store
    // is taken so that searches go on meanwhile.
    std::vector<std::vector<std::string>> added_terms;
    if (use_lexical_index_) {
      std::lock_guard analyzing(analyzer_mu_);
      for (const auto& d : upserts)
        for (const auto& c : d.chunks) added_terms.push_back(analyzer_.Terms(c.text));
    }
    std::unique_lock lock(mu_);
    for (const auto& d : upserts)
      if (d.embeddings.size() != d.chunks.size() * static_cast<size_t>(dim_))
        return Status::InvalidArgument("document " + d.doc_id + ": embeddings do not match its chunks");
    std::vector<int64_t> removed_ids;
    std::vector<std::string> removed_texts;  // for the lexical index
    std::vector<std::pair<int64_t, const float*>> added;
    uint64_t new_generation = 0;
    RAGD_RETURN_IF_ERROR(InTransaction("documents", [&]() -> Status {
      Stmt ids(db_, "SELECT id, text FROM chunks WHERE doc_id = ?");
      Stmt del_chunks(db_, "DELETE FROM chunks WHERE doc_id = ?");
      Stmt del_doc(db_, "DELETE FROM documents WHERE doc_id = ?");
      Stmt del_meta(db_, "DELETE FROM doc_meta WHERE doc_id = ?");
      Stmt ins_meta(db_, "INSERT INTO doc_meta(doc_id, key, value) VALUES (?,?,?)");
      Stmt del_table(db_, "DELETE FROM doc_tables WHERE doc_id = ?");
      Stmt del_summary(db_, "DELETE FROM doc_summaries WHERE doc_id = ?");
      Stmt ins_table(db_, "INSERT INTO doc_tables(doc_id, columns, rows) VALUES (?,?,?)");
      Stmt ins_doc(db_, "INSERT INTO documents(doc_id, source, mime, title, content_hash, size_bytes, mtime, "
                        "chunk_count, ingested_at) VALUES (?,?,?,?,?,?,?,?,?)");
      Stmt ins_chunk(db_, "INSERT INTO chunks(doc_id, chunk_index, text, page, heading_path, char_start, char_end, "
                          "row, embedding, ocr_confidence) VALUES (?,?,?,?,?,?,?,?,?,?)");
      if (!ids.ok() || !del_chunks.ok() || !del_doc.ok() || !del_meta.ok() || !ins_meta.ok() || !ins_doc.ok() ||
          !ins_chunk.ok() || !del_table.ok() || !ins_table.ok() || !del_summary.ok())
        return SqlError(db_, "prepare commit");
      auto drop = [&](const std::string& doc_id) -> Status {
        ids.Reset();
        ids.Bind(1, doc_id);
        int rc;
        while ((rc = ids.Step()) == SQLITE_ROW) {
          removed_ids.push_back(ids.Int(0));
          if (use_lexical_index_) removed_texts.push_back(ids.Text(1));
        }
        if (rc != SQLITE_DONE) return SqlError(db_, "read chunks of " + doc_id);
        del_chunks.Reset();
        del_chunks.Bind(1, doc_id);
        if (del_chunks.Step() != SQLITE_DONE) return SqlError(db_, "delete chunks of " + doc_id);
        del_meta.Reset();
        del_meta.Bind(1, doc_id);
        if (del_meta.Step() != SQLITE_DONE) return SqlError(db_, "delete metadata of " + doc_id);
        del_table.Reset();
        del_table.Bind(1, doc_id);
        if (del_table.Step() != SQLITE_DONE) return SqlError(db_, "delete table of " + doc_id);
        del_summary.Reset();
        del_summary.Bind(1, doc_id);
        if (del_summary.Step() != SQLITE_DONE) return SqlError(db_, "delete summary of " + doc_id);
        del_doc.Reset();
        del_doc.Bind(1, doc_id);
        if (del_doc.Step() != SQLITE_DONE) return SqlError(db_, "delete document " + doc_id);
        return Status::OK();
      };
      for (const auto& id : removes) RAGD_RETURN_IF_ERROR(drop(id));
      std::string now = files::NowIso8601();
      for (const auto& d : upserts) {
        RAGD_RETURN_IF_ERROR(drop(d.doc_id));
        ins_doc.Reset();
        ins_doc.Bind(1, d.doc_id).Bind(2, d.source).Bind(3, d.mime).Bind(4, d.title).Bind(5, d.content_hash);
        ins_doc.Bind(6, d.size_bytes).Bind(7, d.mtime).Bind(8, static_cast<int64_t>(d.chunks.size())).Bind(9, now);
        if (ins_doc.Step() != SQLITE_DONE) return SqlError(db_, "insert document " + d.doc_id);
        for (const auto& [key, value] : d.metadata) {
          ins_meta.Reset();
          ins_meta.Bind(1, d.doc_id).Bind(2, key).Bind(3, value);
          if (ins_meta.Step() != SQLITE_DONE) return SqlError(db_, "insert metadata of " + d.doc_id);
        }
        if (d.table) {
          ins_table.Reset();
          ins_table.Bind(1, d.doc_id).Bind(2, nlohmann::json(d.table->columns).dump());
          ins_table.Bind(3, nlohmann::json(d.table->rows).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
          if (ins_table.Step() != SQLITE_DONE) return SqlError(db_, "insert table of " + d.doc_id);
        }
        for (size_t i = 0; i < d.chunks.size(); ++i) {
          const ChunkWrite& c = d.chunks[i];
          const float* vec = d.embeddings.data() + i * dim_;
          ins_chunk.Reset();
          ins_chunk.Bind(1, d.doc_id).Bind(2, c.chunk_index).Bind(3, c.text).Bind(4, c.page).Bind(5, c.heading_path);
          ins_chunk.Bind(6, c.char_start).Bind(7, c.char_end).Bind(8, c.row);
          ins_chunk.BindBlob(9, vec, sizeof(float) * dim_);
          if (c.ocr_confidence >= 0) ins_chunk.Bind(10, static_cast<double>(c.ocr_confidence));  // else NULL
          if (ins_chunk.Step() != SQLITE_DONE) return SqlError(db_, "insert chunk of " + d.doc_id);
          added.emplace_back(sqlite3_last_insert_rowid(db_), vec);
        }
      }
      auto gen = GetMeta("generation");
      if (!gen.ok()) return gen.status();
      new_generation = std::stoull(*gen) + 1;
      RAGD_RETURN_IF_ERROR(SetMeta("generation", std::to_string(new_generation)));
      return SetMeta("updated_at", now);
    }));
    // Committed. Bring the in-memory index along; if that fails the file is
    // simply left stale and rebuilt from the database next time.
    generation_ = new_generation;
    dirty_ = true;
    for (int64_t id : removed_ids)
      if (!index_->Remove(id).ok()) index_broken_ = true;
    for (const auto& [id, vec] : added)
      if (!index_->Add(id, {vec, static_cast<size_t>(dim_)}).ok()) index_broken_ = true;
    if (lexical_ && !lexical_broken_) {
      std::lock_guard analyzing(analyzer_mu_);
      for (size_t i = 0; i < removed_ids.size(); ++i) lexical_->Remove(removed_ids[i], analyzer_.Terms(removed_texts[i]));
      for (size_t i = 0; i < added.size() && !lexical_broken_; ++i)
        if (!lexical_->Add(added[i].first, added_terms[i]).ok()) lexical_broken_ = true;
      lexical_->CompactIfWorthIt();
    }
    return Status::OK();
  }

  Status Flush() override {
    std::unique_lock lock(mu_);
    if (!dirty_ || index_broken_) return Status::OK();
    Status st = index_->Save(VectorPath(), generation_);
    if (st.ok() && lexical_ && !lexical_broken_) st = lexical_->Save(LexicalPath(), generation_);
    if (st.ok()) dirty_ = false;
    return st;
  }

  Result<std::vector<ScoredId>> LexicalSearch(std::string_view query, int k,
                                              std::span<const FilterCondition> filter) override {
    std::shared_lock lock(mu_);
    // The query's words, each quoted, OR-ed: FTS5 runs each through the same
    // analyzer as the documents (one term, or a phrase of several), and
    // bm25() ranks the union. The derived index scores the same words the
    // same way when every word is one term.
    std::string match;
    std::unordered_set<std::string> seen;
    std::map<std::string, int> terms;  // term -> how many words analyse to it
    bool one_term_each = true;
    {
      std::lock_guard analyzing(analyzer_mu_);  // an Analyzer is one thread's at a time
      std::vector<std::string> words;
      analyzer_.Analyze(query, [&](std::string_view, size_t b, size_t e) {
        std::string word(query.substr(b, e - b));
        if (seen.insert(word).second) words.push_back(std::move(word));
      });
      for (const std::string& word : words) {
        if (!match.empty()) match += " OR ";
        match += '"';
        for (char c : word) {
          if (c == '"') match += '"';
          match += c;
        }
        match += '"';
        if (!lexical_ || !one_term_each) continue;
        std::vector<std::string> own = analyzer_.Terms(word);  // what FTS5 makes of the quoted word
        if (own.size() == 1) ++terms[own[0]];
        else if (!own.empty()) one_term_each = false;
      }
    }
    std::vector<ScoredId> out;
    if (match.empty()) return out;
    if (lexical_ && !lexical_broken_ && one_term_each) {
      std::vector<LexicalIndex::QueryTerm> q;
      for (auto& [term, weight] : terms) q.push_back({term, weight});
      if (filter.empty()) return lexical_->Search(q, k);
      RAGD_ASSIGN_OR_RETURN(std::vector<int64_t> ids, FilteredChunkIds(filter));
      return lexical_->Search(q, k, &ids);
    }
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kSqlite);
    std::string sql = "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ?";
    if (!f.where.empty())
      sql += " AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE " + f.where + ")";
    sql += " ORDER BY bm25(chunks_fts) LIMIT ?";
    Stmt q(db_, sql.c_str());
    if (!q.ok()) return SqlError(db_, "lexical search");
    q.Bind(1, match);
    BindAll(f, q, 2);
    q.Bind(2 + static_cast<int>(f.binds.size()), k);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back({q.Int(0), static_cast<float>(-q.Double(1))});
    if (rc != SQLITE_DONE) return SqlError(db_, "lexical search");
    return out;
  }

  Result<std::vector<ScoredId>> DenseSearch(std::span<const float> query, int k, bool exact,
                                            std::span<const FilterCondition> filter) override {
    std::shared_lock lock(mu_);
    if (filter.empty()) return exact ? index_->SearchExact(query, k) : index_->Search(query, k);
    RAGD_ASSIGN_OR_RETURN(std::vector<int64_t> ids, FilteredChunkIds(filter));
    return index_->SearchAmong(query, k, ids);
  }

  // The ids of the chunks whose documents match filter, ascending. The
  // caller holds the store (shared).
  Result<std::vector<int64_t>> FilteredChunkIds(std::span<const FilterCondition> filter) {
    SqlFilter f = BuildSqlFilter(filter, SqlDialect::kSqlite);
    std::string sql = "SELECT c.id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE " + f.where +
                      " ORDER BY c.id";
    Stmt q(db_, sql.c_str());
    if (!q.ok()) return SqlError(db_, "filter chunks");
    BindAll(f, q, 1);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Int(0));
    if (rc != SQLITE_DONE) return SqlError(db_, "filter chunks");
    return ids;
  }

  Result<std::vector<ChunkRecord>> GetChunks(std::span<const int64_t> ids) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT c.id, c.doc_id, d.source, d.title, c.chunk_index, c.page, c.heading_path, c.char_start, "
                "c.char_end, c.row, c.text, c.ocr_confidence FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                "WHERE c.id = ?");
    if (!q.ok()) return SqlError(db_, "read chunks");
    std::vector<ChunkRecord> out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      q.Reset();
      q.Bind(1, id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return Status::Corruption("chunk " + std::to_string(id) + " is indexed but not stored");
      if (rc != SQLITE_ROW) return SqlError(db_, "read chunk");
      ChunkRecord c;
      c.id = q.Int(0);
      c.doc_id = q.Text(1);
      c.source = q.Text(2);
      c.title = q.Text(3);
      c.chunk_index = static_cast<int>(q.Int(4));
      c.page = static_cast<int>(q.Int(5));
      c.heading_path = q.Text(6);
      c.char_start = q.Int(7);
      c.char_end = q.Int(8);
      c.row = static_cast<int>(q.Int(9));
      c.text = q.Text(10);
      if (!q.IsNull(11)) c.ocr_confidence = static_cast<float>(q.Double(11));
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<ChunkRecord>> ListChunks(const std::string& doc_id) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT c.id FROM chunks c WHERE c.doc_id = ? ORDER BY c.chunk_index");
    if (!q.ok()) return SqlError(db_, "list chunks");
    q.Bind(1, doc_id);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Int(0));
    if (rc != SQLITE_DONE) return SqlError(db_, "list chunks");
    return GetChunks(ids);
  }

  Result<std::vector<ChunkRecord>> GetChunkRange(const std::string& doc_id, int first, int last) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT id FROM chunks WHERE doc_id = ? AND chunk_index BETWEEN ? AND ? ORDER BY chunk_index");
    if (!q.ok()) return SqlError(db_, "read chunk range");
    q.Bind(1, doc_id).Bind(2, first).Bind(3, last);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Int(0));
    if (rc != SQLITE_DONE) return SqlError(db_, "read chunk range");
    return GetChunks(ids);
  }

  Result<std::vector<float>> GetVectors(std::span<const int64_t> ids) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT embedding FROM chunks WHERE id = ?");
    if (!q.ok()) return SqlError(db_, "read embeddings");
    std::vector<float> out;
    out.reserve(ids.size() * dim_);
    for (int64_t id : ids) {
      q.Reset();
      q.Bind(1, id);
      if (q.Step() != SQLITE_ROW) return Status::Corruption("chunk " + std::to_string(id) + " has no stored embedding");
      auto v = q.Floats(0);
      if (static_cast<int>(v.size()) != dim_)
        return Status::Corruption("chunk " + std::to_string(id) + " has an embedding of the wrong size");
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }

  Result<std::map<std::string, std::string>> GetSettings() override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT substr(key, 9), value FROM meta WHERE key LIKE 'setting.%'");
    if (!q.ok()) return SqlError(db_, "read settings");
    std::map<std::string, std::string> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out[q.Text(0)] = q.Text(1);
    if (rc != SQLITE_DONE) return SqlError(db_, "read settings");
    return out;
  }

  Status SetSetting(const std::string& key, const std::string& value) override {
    std::unique_lock lock(mu_);
    return SetMeta("setting." + key, value);
  }

  Result<StoreStats> Stats() override {
    std::shared_lock lock(mu_);
    StoreStats s;
    Stmt q(db_, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)");
    if (!q.ok() || q.Step() != SQLITE_ROW) return SqlError(db_, "stats");
    s.documents = q.Int(0);
    s.chunks = q.Int(1);
    s.vectors = static_cast<int64_t>(index_->size());
    s.generation = generation_;
    s.schema_version = kSchemaVersion;
    s.embed_model = embed_model_;
    s.dim = dim_;
    auto created = GetMeta("created_at");
    auto updated = GetMeta("updated_at");
    if (created.ok()) s.created_at = *created;
    if (updated.ok()) s.updated_at = *updated;
    return s;
  }

  std::string embed_model() const override {
    std::shared_lock lock(mu_);
    return embed_model_;
  }

  Result<std::vector<int64_t>> ChunksToStage(const std::string& model) override {
    std::shared_lock lock(mu_);
    Stmt q(db_, "SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM staged_vectors WHERE model = ?) ORDER BY id");
    if (!q.ok()) return SqlError(db_, "list chunks to re-embed");
    q.Bind(1, model);
    std::vector<int64_t> ids;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Int(0));
    if (rc != SQLITE_DONE) return SqlError(db_, "list chunks to re-embed");
    return ids;
  }

  Status StageVectors(const std::string& model, int dim, std::span<const int64_t> ids,
                      std::span<const float> vectors) override {
    if (dim <= 0 || vectors.size() != ids.size() * static_cast<size_t>(dim))
      return Status::InvalidArgument("staged vectors do not match their chunks");
    std::unique_lock lock(mu_);
    return InTransaction("staged vectors", [&]() -> Status {
      Stmt drop(db_, "DELETE FROM staged_vectors WHERE model != ?");
      Stmt ins(db_, "INSERT OR REPLACE INTO staged_vectors(chunk_id, model, embedding) VALUES (?,?,?)");
      if (!drop.ok() || !ins.ok()) return SqlError(db_, "prepare staging");
      drop.Bind(1, model);
      if (drop.Step() != SQLITE_DONE) return SqlError(db_, "drop other staged vectors");
      for (size_t i = 0; i < ids.size(); ++i) {
        ins.Reset();
        ins.Bind(1, ids[i]).Bind(2, model);
        ins.BindBlob(3, vectors.data() + i * dim, sizeof(float) * dim);
        if (ins.Step() != SQLITE_DONE) return SqlError(db_, "stage a vector");
      }
      return Status::OK();
    });
  }

  Status SwapStagedVectors(const std::string& model, int dim) override {
    std::unique_lock lock(mu_);
    RAGD_RETURN_IF_ERROR(InTransaction("the swap to the staged vectors", [&]() -> Status {
      Stmt missing(db_, "SELECT count(*) FROM chunks WHERE id NOT IN "
                        "(SELECT chunk_id FROM staged_vectors WHERE model = ? AND length(embedding) = ?)");
      if (!missing.ok()) return SqlError(db_, "count staged vectors");
      missing.Bind(1, model).Bind(2, static_cast<int64_t>(sizeof(float) * dim));
      if (missing.Step() != SQLITE_ROW) return SqlError(db_, "count staged vectors");
      if (int64_t n = missing.Int(0); n > 0)
        return Status::InvalidArgument(std::to_string(n) + " chunks have no vector from " + model + " yet");
      RAGD_RETURN_IF_ERROR(Exec(db_, "UPDATE chunks SET embedding = "
                                     "(SELECT embedding FROM staged_vectors s WHERE s.chunk_id = chunks.id); "
                                     "DELETE FROM staged_vectors;"));
      RAGD_ASSIGN_OR_RETURN(std::string gen, GetMeta("generation"));
      RAGD_RETURN_IF_ERROR(SetMeta("generation", std::to_string(std::stoull(gen) + 1)));
      RAGD_RETURN_IF_ERROR(SetMeta("embed_model", model));
      RAGD_RETURN_IF_ERROR(SetMeta("dim", std::to_string(dim)));
      return SetMeta("updated_at", files::NowIso8601());
    }));
    // The new generation: the vector index is rebuilt from the new vectors;
    // the lexical one is still right and is saved with the new stamp.
    RAGD_RETURN_IF_ERROR(LoadDerived(/*lexical=*/false));
    dirty_ = true;
    return Status::OK();
  }

  Result<std::optional<std::string>> LoadSession(const std::string& id) override {
    std::string path = SessionPath(id);
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<std::string>();
    RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, 64 << 20));
    return std::optional<std::string>(std::move(raw));
  }

  Status SaveSession(const std::string& id, const std::string& body) override {
    std::error_code ec;
    fs::create_directories(fs::path(dir_) / "sessions", ec);
    if (ec) return Status::IOError("cannot create " + (fs::path(dir_) / "sessions").string() + ": " + ec.message());
    return files::WriteFileAtomic(SessionPath(id), body);
  }

  Result<std::vector<std::string>> ListSessions() override {
    std::vector<std::string> out;
    const fs::path dir = fs::path(dir_) / "sessions";
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (!e.path().filename().string().ends_with(".json")) continue;
      RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(e.path().string(), 64 << 20));
      out.push_back(std::move(raw));
    }
    if (ec) return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
    return out;
  }

  Result<bool> DeleteSession(const std::string& id) override {
    std::error_code ec;
    if (fs::remove(SessionPath(id), ec)) return true;
    if (ec) return Status::IOError("cannot delete session '" + id + "': " + ec.message());
    return false;
  }

  Status CheckConsistency() override {
    std::shared_lock lock(mu_);
    Stmt integrity(db_, "PRAGMA quick_check");
    if (!integrity.ok() || integrity.Step() != SQLITE_ROW) return SqlError(db_, "consistency check");
    if (integrity.Text(0) != "ok") return Status::Corruption(DbPath() + " fails SQLite's check: " + integrity.Text(0));
    Stmt orphans(db_, "SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.doc_id = c.doc_id WHERE d.doc_id IS NULL");
    if (!orphans.ok() || orphans.Step() != SQLITE_ROW) return SqlError(db_, "consistency check");
    if (orphans.Int(0) != 0) return Status::Corruption(std::to_string(orphans.Int(0)) + " chunks have no document");
    Stmt per_doc(db_,
                 "SELECT d.doc_id, d.chunk_count, (SELECT count(*) FROM chunks c WHERE c.doc_id = d.doc_id) AS n "
                 "FROM documents d WHERE n != d.chunk_count LIMIT 1");
    if (!per_doc.ok()) return SqlError(db_, "consistency check");
    if (int rc = per_doc.Step(); rc == SQLITE_ROW)
      return Status::Corruption("document " + per_doc.Text(0) + " lists " + std::to_string(per_doc.Int(1)) +
                                " chunks but has " + std::to_string(per_doc.Int(2)));
    else if (rc != SQLITE_DONE) return SqlError(db_, "consistency check");
    if (!Exec(db_, "INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)").ok())
      return Status::Corruption("the full-text index disagrees with the chunks table");
    Stmt ids(db_, "SELECT id FROM chunks");
    if (!ids.ok()) return SqlError(db_, "consistency check");
    size_t chunks = 0;
    int rc;
    while ((rc = ids.Step()) == SQLITE_ROW) {
      ++chunks;
      if (!index_->Contains(ids.Int(0)))
        return Status::Corruption("chunk " + std::to_string(ids.Int(0)) + " has no vector in the index");
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "consistency check");
    if (index_->size() != chunks)
      return Status::Corruption("the vector index holds " + std::to_string(index_->size()) + " vectors for " +
                                std::to_string(chunks) + " chunks");
    if (lexical_ && !lexical_broken_) {
      if (lexical_->size() != chunks)
        return Status::Corruption("the lexical index holds " + std::to_string(lexical_->size()) + " chunks of " +
                                  std::to_string(chunks));
      ids.Reset();
      while ((rc = ids.Step()) == SQLITE_ROW)
        if (!lexical_->Contains(ids.Int(0)))
          return Status::Corruption("chunk " + std::to_string(ids.Int(0)) + " is missing from the lexical index");
      if (rc != SQLITE_DONE) return SqlError(db_, "consistency check");
    }
    return Status::OK();
  }

  Status BackupTo(const std::string& path) override {
    std::shared_lock lock(mu_);
    std::error_code ec;
    if (fs::exists(path, ec)) return Status::AlreadyExists(path + " already exists: back up into a new file");
    sqlite3* dest = nullptr;
    if (sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      Status st = Status::IOError("cannot create " + path + ": " + (dest ? sqlite3_errmsg(dest) : "out of memory"));
      sqlite3_close(dest);
      return st;
    }
    // One step copies every page under one read transaction: a snapshot of
    // the last commit, whatever a writer does meanwhile (WAL).
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dest);
    if (b) sqlite3_backup_finish(b);
    Status st;
    if (rc != SQLITE_DONE) st = Status::IOError("backup to " + path + " failed: " + sqlite3_errstr(rc));
    else if (Exec(dest, "PRAGMA journal_mode=DELETE").ok() == false) st = SqlError(dest, path);
    sqlite3_close(dest);
    if (!st.ok()) fs::remove(path, ec);
    return st;
  }

 private:

  std::string DbPath() const { return (fs::path(dir_) / kDatabaseFile).string(); }
  std::string SessionPath(const std::string& id) const { return (fs::path(dir_) / "sessions" / (id + ".json")).string(); }
  std::string VectorPath() const { return (fs::path(dir_) / kVectorFile).string(); }
  std::string LexicalPath() const { return (fs::path(dir_) / kLexicalFile).string(); }

  Result<std::string> GetMeta(const std::string& key) {
    Stmt q(db_, "SELECT value FROM meta WHERE key = ?");
    if (!q.ok()) {
      Status st = SqlError(db_, DbPath());
      if (st.code() == StatusCode::kIOError && std::string(sqlite3_errmsg(db_)).find("no such table") != std::string::npos)
        return Status::Corruption(DbPath() + " is not a ragd knowledge base (no meta table)");
      return st;
    }
    q.Bind(1, key);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Text(0);
    if (rc == SQLITE_DONE) return Status::Corruption(DbPath() + " lacks the '" + key + "' setting");
    return SqlError(db_, DbPath());
  }

  Status SetMeta(const std::string& key, const std::string& value) {
    Stmt q(db_, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!q.ok()) return SqlError(db_, "set meta");
    q.Bind(1, key).Bind(2, value);
    if (q.Step() != SQLITE_DONE) return SqlError(db_, "set meta");
    return Status::OK();
  }

  Result<int64_t> DataVersion() {
    Stmt q(db_, "PRAGMA data_version");
    if (!q.ok() || q.Step() != SQLITE_ROW) return SqlError(db_, "read the data version of " + DbPath());
    return q.Int(0);
  }

  // Runs body inside BEGIN IMMEDIATE … COMMIT, rolled back when body or the
  // commit fails. what names the work in errors ("commit " + what).
  template <typename Body>
  Status InTransaction(const std::string& what, Body&& body) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return SqlError(db_, "cannot start a transaction on " + DbPath());
    Status st = body();
    if (st.ok() && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) st = SqlError(db_, "commit " + what);
    if (!st.ok()) (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }

  // The generation, the embeddings and the chunks' text are read in one
  // transaction, so a commit by another process in between cannot mix two
  // states.
  Status LoadDerived(bool lexical) {
    RAGD_RETURN_IF_ERROR(Exec(db_, "BEGIN").WithContext(DbPath()));
    Status st = LoadVectorsInTransaction();
    if (st.ok() && lexical) st = LoadLexicalInTransaction();
    Status end = Exec(db_, "COMMIT").WithContext(DbPath());
    return st.ok() ? end : st;
  }

  // After LoadVectorsInTransaction (generation_ is read). A missing, stale
  // or damaged file is rebuilt by analysing every chunk's text again, as
  // FTS5 did when it was written.
  Status LoadLexicalInTransaction() {
    lexical_broken_ = false;
    uint64_t file_gen = 0;
    auto loaded = LexicalIndex::Load(LexicalPath(), &file_gen);
    if (loaded.ok() && file_gen == generation_) {
      lexical_ = std::move(loaded).value();
      return Status::OK();
    }
    auto index = std::make_unique<LexicalIndex>();
    Stmt q(db_, "SELECT id, text FROM chunks ORDER BY id");
    if (!q.ok()) return SqlError(db_, "read chunks for the lexical index");
    std::lock_guard analyzing(analyzer_mu_);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW)
      RAGD_RETURN_IF_ERROR(index->Add(q.Int(0), analyzer_.Terms(q.Text(1))));
    if (rc != SQLITE_DONE) return SqlError(db_, "read chunks for the lexical index");
    lexical_ = std::move(index);
    dirty_ = true;
    return Status::OK();
  }

  Status LoadVectorsInTransaction() {
    auto gen = GetMeta("generation");
    if (!gen.ok()) return gen.status();
    generation_ = std::stoull(*gen);
    // A swap (kb reembed) in another process may have changed both.
    RAGD_ASSIGN_OR_RETURN(std::string dim, GetMeta("dim"));
    RAGD_ASSIGN_OR_RETURN(embed_model_, GetMeta("embed_model"));
    dim_ = std::atoi(dim.c_str());
    VectorIndexOptions opts;
    opts.dim = dim_;
    uint64_t file_gen = 0;
    auto loaded = LoadUsearchIndex(VectorPath(), opts, &file_gen);
    if (loaded.ok() && file_gen == generation_) {
      index_ = std::move(loaded).value();
      return Status::OK();
    }
    // Missing, stale or damaged: rebuild from the embeddings in the database.
    index_ = NewUsearchIndex(opts);
    if (!index_) return Status::Unavailable("cannot create a vector index");
    Stmt q(db_, "SELECT id, embedding FROM chunks WHERE embedding IS NOT NULL");
    if (!q.ok()) return SqlError(db_, "read embeddings");
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      auto vec = q.Floats(1);
      if (static_cast<int>(vec.size()) != dim_)
        return Status::Corruption("chunk " + std::to_string(q.Int(0)) + " has an embedding of the wrong size");
      RAGD_RETURN_IF_ERROR(index_->Add(q.Int(0), vec));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "read embeddings");
    dirty_ = true;
    return Status::OK();
  }

  StoredDocument ReadDoc(const Stmt& q) {
    StoredDocument d;
    d.doc_id = q.Text(0);
    d.source = q.Text(1);
    d.mime = q.Text(2);
    d.title = q.Text(3);
    d.content_hash = q.Text(4);
    d.size_bytes = q.Int(5);
    d.mtime = q.Int(6);
    d.chunk_count = q.Int(7);
    d.ingested_at = q.Text(8);
    return d;
  }

  std::string dir_;
  sqlite3* db_;
  int dim_ = 0;
  std::string embed_model_;
  uint64_t generation_ = 0;
  std::atomic<int64_t> data_version_{0};  // PRAGMA data_version when last refreshed
  std::unique_ptr<VectorIndex> index_;
  std::unique_ptr<LexicalIndex> lexical_;  // null when RAGD_LEXICAL_INDEX=fts5
  bool use_lexical_index_ = true;
  bool dirty_ = false;  // an index file is behind the generation
  bool index_broken_ = false;
  bool lexical_broken_ = false;  // an update failed: FTS5 answers until the next load
  Analyzer analyzer_;
  std::mutex analyzer_mu_;  // guards analyzer_ between concurrent lexical searches
  // Reads share the store; Commit, Flush, SetSetting and a reloading Refresh
  // take it alone (the connection is one: a write transaction must not
  // interleave with reads, and the vector index is swapped or updated).
  mutable std::shared_mutex mu_;
};

}  // namespace

Result<std::unique_ptr<KbStore>> OpenSqliteStore(const std::string& dir, const StoreOptions& options) {
  std::error_code ec;
  fs::path db_path = fs::path(dir) / kDatabaseFile;
  bool exists = fs::exists(db_path, ec);
  if (!exists && !options.create) return Status::NotFound("no knowledge base at " + dir);
  if (!exists) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(db_path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError("cannot open " + db_path.string() + ": " + msg);
  }
  auto store = std::make_unique<SqliteStore>(dir, db);
  if (Status st = store->Init(options, !exists); !st.ok()) return st;
  return std::unique_ptr<KbStore>(std::move(store));
}

}  // namespace ragd::store
