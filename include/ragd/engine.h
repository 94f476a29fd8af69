// Engine: the one entry point the CLI (and later the server) call. It owns
// the data directory of knowledge bases and the embedding model, and knows
// nothing of terminals or HTTP: progress goes to a callback, errors come back
// as Status values.
//
// Thread-safety: every method may be called from any thread, at once.
// Searches and reads of a knowledge base run concurrently, also while it is
// being ingested into: an ingest parses and embeds without a lock and takes
// the store alone only to commit each batch. Writers of one knowledge base
// (ingests, uploads, deletes, settings) take turns: within a process they
// queue; across processes the later one gets Unavailable (SQLite store) or
// waits up to a minute (PostgreSQL store). Model calls are
// serialised (one llama.cpp context), so concurrent searches share the
// embedder one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ragd/embedder.h"
#include "ragd/ingest.h"
#include "ragd/knowledge_base.h"
#include "ragd/recommend.h"
#include "ragd/search.h"
#include "ragd/models.h"
#include "ragd/trace.h"
#include "ragd/status.h"

namespace ragd {

struct EngineOptions {
  // Folder holding one sub-folder per knowledge base. Empty = DefaultDataDir().
  // With a PostgreSQL store it still holds local files: traces, the prompt cache.
  std::string data_dir;
  // Where knowledge bases live: empty (or "sqlite") = the data directory;
  // postgres://user[:password]@host:port/db = a PostgreSQL database with
  // pgvector, shared by every ragd pointed at it (docs/SCALE.md).
  std::string store_url;
  // The embedding model (local multilingual-e5-small by default), opened on first use.
  EmbedderOptions embedder;
  // A cross-encoder reranker (local GGUF or a /rerank server). When set,
  // searches rerank their top candidates (SearchOptions::rerank). Opened on
  // first use.
  std::optional<BackendOptions> reranker;
  // When set, every embedding and rerank call is recorded there, tagged with *trace_tags.
  std::shared_ptr<TraceLog> trace;
  std::shared_ptr<const TraceTags> trace_tags;
};

// $RAGD_DATA_DIR, else $XDG_DATA_HOME/ragd, else ~/.local/share/ragd.
std::string DefaultDataDir();

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::string& data_dir() const;
  // Where the knowledge bases are: the data directory, or the database's
  // URL without its password.
  std::string store() const;

  Result<std::vector<KbInfo>> ListKnowledgeBases();
  // Counts rows and bytes on disk: for listings, not per request.
  Result<KbInfo> GetKnowledgeBase(const std::string& name);
  // Cheap: OK when the knowledge base exists (and its name is valid).
  Status CheckKnowledgeBase(const std::string& name);
  // Thorough: documents, chunks, the lexical index and the vectors agree
  // (and SQLite's own integrity check; Corruption names the first
  // disagreement). Reads every row: for operators and tests, not requests.
  Status VerifyKnowledgeBase(const std::string& name);
  // A consistent snapshot of a knowledge base into the new folder dest
  // (the database by SQLite's online backup, plus sessions/ and uploads/),
  // safe while it is being searched or written. dest appears complete or
  // not at all. Restore copies such a folder in as a new knowledge base
  // and verifies it (the vector index is rebuilt from the database).
  Status BackupKnowledgeBase(const std::string& name, const std::string& dest);
  Status RestoreKnowledgeBase(const std::string& backup, const std::string& name);
  Status DeleteKnowledgeBase(const std::string& name);
  // Copies a knowledge base, with its embeddings (nothing is re-embedded),
  // settings, tables, kept summaries and interactions, into another store:
  // `to` is a postgres:// URL or a data directory. The copy gets the name
  // to_name (empty = the same) and must not exist there; it is checked
  // (VerifyKnowledgeBase's checks) before this returns. The source is read
  // under its write lock, so the copy is one consistent state.
  Result<CopyReport> CopyKnowledgeBase(const std::string& name, const std::string& to, const std::string& to_name,
                                       const ProgressFn& progress = {});
  // Creates an empty knowledge base for the current embedder; AlreadyExists
  // when it is there (checked under its write lock).
  Result<KbInfo> CreateKnowledgeBase(const std::string& name);

  // Switches a knowledge base's embedder in place (`ragd kb reembed`):
  // every chunk is embedded with `to`, in committed batches staged beside
  // the live vectors, which keep serving searches; then all new vectors go
  // in at once. A killed run keeps what it staged and the next run for the
  // same model resumes there. Ingests into it wait until it is done.
  // progress: chunks embedded of those to embed.
  Result<ReembedReport> ReembedKnowledgeBase(const std::string& kb, const EmbedderOptions& to,
                                             const ProgressFn& progress = {});

  // Per-knowledge-base search defaults: search.fusion (rrf | minmax |
  // zscore | dispersion), search.lexical_weight (0..1), search.rrf_k
  // (1..1000), search.mmr_lambda (0..1, or "off"); tune.* keys hold the
  // figures `kb tune` chose them on. Unknown keys and bad values are refused.
  Status SetKbSetting(const std::string& kb, const std::string& key, const std::string& value);
  Result<std::map<std::string, std::string>> GetKbSettings(const std::string& kb);

  Result<std::vector<DocumentInfo>> ListDocuments(const std::string& kb);
  Result<DocumentDetail> GetDocument(const std::string& kb, const std::string& doc_id);
  // The ids of the documents meeting every condition (include/ragd/filter.h;
  // none = all), in id order.
  Result<std::vector<std::string>> FindDocuments(const std::string& kb, std::span<const FilterCondition> filter);
  Status DeleteDocument(const std::string& kb, const std::string& doc_id);
  // The tables of a knowledge base's tabular documents (CSV, JSON records),
  // by doc_id. Documents ingested before ragd kept tables are missing until
  // the next ingest of their folder loads them again.
  Result<std::vector<KbTable>> ListTables(const std::string& kb);
  // A document's kept summary (the JSON of ragd summarize --json), the
  // latest written; none once the document changed or was removed.
  // NotFound for an unknown knowledge base or document.
  Result<std::optional<std::string>> KeptSummary(const std::string& kb, const std::string& doc_id);
  Status KeepSummary(const std::string& kb, const std::string& doc_id, const std::string& summary_json);

  // Chat sessions' JSON bodies, by id (SessionStore in ragd/sessions.h
  // reads and writes them): in the knowledge base's folder, or in the
  // database, where every ragd sharing it sees them.
  Result<std::optional<std::string>> LoadSession(const std::string& kb, const std::string& id);
  Status SaveSession(const std::string& kb, const std::string& id, const std::string& body);
  Result<std::vector<std::string>> ListSessions(const std::string& kb);
  Result<bool> DeleteSession(const std::string& kb, const std::string& id);
  // Appends users' interactions with the knowledge base's items (its
  // documents): checked first, then stored in one transaction (rows whose
  // item is not a document are counted, not stored).
  Result<InteractionImportReport> ImportInteractions(const std::string& kb, std::span<const Interaction> rows);
  // Recommends items from the fused candidate sources (no model: the
  // re-rank and reasons are RecommendWithModel's, include/ragd/rag.h).
  Result<RecommendResult> Recommend(const RecommendOptions& options);

  // Ingests files; one bad file is reported in the report and skipped.
  Result<IngestReport> IngestFiles(const IngestOptions& options, const ProgressFn& progress = {});
  // Ingests in-memory documents (unchanged ones, by content hash, cost nothing).
  Result<IngestReport> IngestDocuments(const std::string& kb, std::span<const SourceDocument> docs,
                                       const SplitOptions& split, const ProgressFn& progress = {});

  Result<SearchResponse> Search(const SearchOptions& options);

  // The embedder, loaded on first use.
  Result<Embedder*> embedder();

  // A chat model for options, traced like the engine's embedder and
  // reranker (EngineOptions::trace): the engine is where model calls get
  // their trace wrappers. The caller owns it (one Chat at a time).
  Result<std::unique_ptr<ChatModel>> OpenChatModel(const BackendOptions& options);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragd
