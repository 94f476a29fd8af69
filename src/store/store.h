// KbStore: one knowledge base's documents, chunks, lexical index and vectors.
// The interface speaks only ragd types (no SQL leaks out): SQLite
// (sqlite_store.cc, the default) and PostgreSQL + pgvector (pg_store.cc)
// implement it, and store/catalog.h says where each knowledge base lives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ragd/filter.h"
#include "ragd/recommend.h"
#include "ragd/status.h"
#include "store/vector_index.h"

namespace ragd::store {

// Frozen: a knowledge base records the schema version it was written with.
constexpr int kSchemaVersion = 1;

struct ChunkWrite {
  std::string text;
  int chunk_index = 0;
  int page = 0;
  std::string heading_path;
  int64_t char_start = 0;
  int64_t char_end = 0;
  int row = 0;
  float ocr_confidence = -1;  // read by OCR with this confidence (0..1); -1 = not
};

// A document's rows as a table (CSV, JSON records), kept for read-only SQL
// (the agent's query_table). Empty columns = the document is not tabular.
struct TableData {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each as long as columns
};

struct DocumentWrite {
  std::string doc_id;
  std::string source;
  std::string mime;
  std::string title;
  std::string content_hash;
  int64_t size_bytes = 0;
  int64_t mtime = 0;
  std::map<std::string, std::string> metadata;  // given at ingest, filterable
  std::vector<ChunkWrite> chunks;
  std::vector<float> embeddings;  // chunks.size() * dim
  // Tabular documents: their table, stored (and replaced) with the chunks.
  std::optional<TableData> table;
};

struct StoredTable {
  std::string doc_id;
  std::string source;
  std::string title;
  TableData data;
};

struct StoredDocument {
  std::string doc_id;
  std::string source;
  std::string mime;
  std::string title;
  std::string content_hash;
  int64_t size_bytes = 0;
  int64_t mtime = 0;
  int64_t chunk_count = 0;
  std::string ingested_at;
  std::map<std::string, std::string> metadata;  // filled by FindDocument only
};

struct ChunkRecord {
  int64_t id = 0;
  std::string doc_id;
  std::string source;
  std::string title;
  int chunk_index = 0;
  int page = 0;
  std::string heading_path;
  int64_t char_start = 0;
  int64_t char_end = 0;
  int row = 0;
  std::string text;
  float ocr_confidence = -1;
};

struct StoreStats {
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t vectors = 0;
  uint64_t generation = 0;
  int schema_version = 0;
  std::string embed_model;
  int dim = 0;
  std::string created_at;
  std::string updated_at;
};

struct StoreOptions {
  bool create = false;      // create the knowledge base if missing
  std::string embed_model;  // required with create: Embedder::model_id()
  int dim = 0;              // required with create
};

// Thread-safe: reads (searches, lookups, listings, backups) run
// concurrently; Commit, Flush, SetSetting and a Refresh that reloads take
// the store alone for their duration. Only one writer may Commit at a time
// (the engine's write lock), and the object must outlive every call.
class KbStore {
 public:
  virtual ~KbStore() = default;

  virtual Result<std::optional<StoredDocument>> FindDocument(const std::string& doc_id) = 0;
  virtual Result<std::vector<StoredDocument>> ListDocuments() = 0;
  // The tables of tabular documents (those with columns), by doc_id.
  virtual Result<std::vector<StoredTable>> ListTables() = 0;
  // Whether a document's table was recorded (also when it was not tabular):
  // false for documents ingested before tables were kept.
  virtual Result<bool> HasTable(const std::string& doc_id) = 0;
  // A document's kept summary (JSON text), the latest one written. Commit
  // drops it with the document's chunks, so a changed or removed document
  // has none. Empty when none is kept; NotFound for an unknown document.
  virtual Result<std::optional<std::string>> KeptSummary(const std::string& doc_id) = 0;
  virtual Status KeepSummary(const std::string& doc_id, const std::string& summary_json) = 0;
  // Users' interactions with items (recommendation), kept apart from the
  // documents: a replaced or removed item keeps its history. Appended in
  // one transaction, in order; items need not be documents (the caller
  // checks). ListInteractions returns them all in the order they came.
  virtual Status AddInteractions(std::span<const Interaction> rows) = 0;
  virtual Result<std::vector<Interaction>> ListInteractions() = 0;
  // Interactions stored so far (the last one's sequence number): changes
  // exactly when AddInteractions adds some, so it keys derived state.
  virtual Result<int64_t> InteractionCount() = 0;
  // Distinct users among the interactions (one query).
  virtual Result<int64_t> InteractionUsers() = 0;
  // The ids of the documents matching every condition (validated by the
  // caller), in doc_id order.
  virtual Result<std::vector<std::string>> MatchingDocuments(std::span<const FilterCondition> filter) = 0;
  // Every chunk's id with its document's id, by document and chunk order.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> ListChunkIds() = 0;
  // Replaces each upserted document (its old chunks and vectors go) and
  // removes `removes`, in one transaction: all of it is visible or none.
  virtual Status Commit(std::span<const DocumentWrite> upserts, std::span<const std::string> removes) = 0;
  // Persists derived state (the vector index file). Commit alone is already
  // durable; Flush only saves a rebuild on the next open.
  virtual Status Flush() = 0;
  // Catches up with what other processes committed since the last call:
  // the database is always read fresh, the in-memory vector index is
  // reloaded when the generation moved. Cheap when nothing changed (one
  // pragma), so it is called at the start of every request.
  virtual Status Refresh() = 0;

  // Both searches consider only chunks matching every condition of filter
  // (validated by the caller): the filter is part of the search, so k
  // matching hits come back whenever they exist.
  virtual Result<std::vector<ScoredId>> LexicalSearch(std::string_view query, int k,
                                                      std::span<const FilterCondition> filter = {}) = 0;
  virtual Result<std::vector<ScoredId>> DenseSearch(std::span<const float> query, int k, bool exact = false,
                                                    std::span<const FilterCondition> filter = {}) = 0;
  virtual Result<std::vector<ChunkRecord>> GetChunks(std::span<const int64_t> ids) = 0;
  // A document's chunks in order.
  virtual Result<std::vector<ChunkRecord>> ListChunks(const std::string& doc_id) = 0;
  // Chunks first..last (chunk_index, inclusive) of a document, in order.
  virtual Result<std::vector<ChunkRecord>> GetChunkRange(const std::string& doc_id, int first, int last) = 0;
  // The stored embeddings of chunks (ids.size() * dim floats, in order).
  virtual Result<std::vector<float>> GetVectors(std::span<const int64_t> ids) = 0;
  // Per-knowledge-base settings ("search.fusion" -> "zscore", ...), one query.
  virtual Result<std::map<std::string, std::string>> GetSettings() = 0;
  virtual Status SetSetting(const std::string& key, const std::string& value) = 0;
  virtual Result<StoreStats> Stats() = 0;  // counts rows: not for per-query use
  // The commit generation this store's view is at (after Refresh): cheap,
  // it keys state derived from the documents.
  virtual uint64_t generation() = 0;
  // The Embedder::model_id() the knowledge base's vectors come from.
  virtual std::string embed_model() const = 0;
  // Re-embedding in place (`kb reembed`): another model's vectors are
  // staged beside the live ones, in committed batches, so a killed run
  // resumes where it stopped; searches use the live vectors until
  // SwapStagedVectors puts every staged one in at once (one transaction,
  // then the vector index is rebuilt). Staging for one model drops any
  // other model's staged vectors.
  // The chunks with no vector staged for model, in id order.
  virtual Result<std::vector<int64_t>> ChunksToStage(const std::string& model) = 0;
  virtual Status StageVectors(const std::string& model, int dim, std::span<const int64_t> ids,
                              std::span<const float> vectors) = 0;
  // Fails, changing nothing, unless every chunk has a vector staged for model.
  virtual Status SwapStagedVectors(const std::string& model, int dim) = 0;
  // Chat sessions, as the JSON bodies rag's SessionStore writes, by id
  // (letters, digits, - and _; checked by the caller): files in the
  // knowledge base's sessions/ folder (each replaced atomically) for
  // SQLite, a table for PostgreSQL, so any ragd on the database continues
  // any conversation. LoadSession: none when missing. DeleteSession:
  // whether there was one. ListSessions: every body, in no order.
  virtual Result<std::optional<std::string>> LoadSession(const std::string& id) = 0;
  virtual Status SaveSession(const std::string& id, const std::string& body) = 0;
  virtual Result<std::vector<std::string>> ListSessions() = 0;
  virtual Result<bool> DeleteSession(const std::string& id) = 0;
  // Checks that documents, chunks, the FTS index and the vectors agree:
  // SQLite's own integrity check, no chunk without its document, chunk
  // counts, FTS5's integrity check, and every chunk (and nothing else) in
  // the vector index. Corruption names the first disagreement.
  virtual Status CheckConsistency() = 0;
  // Writes a consistent snapshot of the database to `path` (SQLite's online
  // backup: readers and a running writer are not blocked for long). The
  // vector index is not copied: it is rebuilt from the snapshot on open.
  virtual Status BackupTo(const std::string& path) = 0;
};

// Opens (or creates) the SQLite-backed store in directory `dir`.
Result<std::unique_ptr<KbStore>> OpenSqliteStore(const std::string& dir, const StoreOptions& options);

// Files of the SQLite store inside a knowledge-base directory.
constexpr const char* kDatabaseFile = "kb.sqlite";
constexpr const char* kVectorFile = "vectors.idx";
constexpr const char* kLexicalFile = "lexical.idx";

}  // namespace ragd::store
