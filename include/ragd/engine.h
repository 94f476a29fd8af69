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
// queue, across processes the later one gets Unavailable. Model calls are
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
#include "ragd/filter.h"
#include "ragd/models.h"
#include "ragd/trace.h"
#include "ragd/status.h"

namespace ragd {

struct EngineOptions {
  // Folder holding one sub-folder per knowledge base. Empty = DefaultDataDir().
  std::string data_dir;
  // Which backend embeds (local by default, configured by `embedder`).
  BackendOptions embed_backend;
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

struct KbInfo {
  std::string name;
  std::string path;             // the knowledge base's directory
  int64_t documents = 0;
  int64_t chunks = 0;
  std::string embed_model;      // Embedder::model_id() it was built with
  int schema_version = 0;
  int64_t bytes_on_disk = 0;
  std::string created_at;       // ISO 8601, UTC
  std::string updated_at;
};

enum class ChunkUnit { kTokens, kChars };

struct SplitOptions {
  // Target chunk length. 0 = 200 tokens (fits MiniLM's 256-token window) or
  // 1000 characters, depending on unit.
  int chunk_size = 0;
  // Shared between neighbouring chunks. -1 = 15% of chunk_size.
  int chunk_overlap = -1;
  // kTokens counts with the embedding model's own tokenizer.
  ChunkUnit unit = ChunkUnit::kTokens;
};

struct IngestOptions {
  std::string kb;                  // created if missing
  std::vector<std::string> paths;  // files or directories (recursed)
  // Also remove documents that were ingested from under `paths` but whose
  // files no longer exist.
  bool sync = false;
  SplitOptions split;
  // Files above this size are reported and skipped. 0 = 256 MiB.
  int64_t max_file_bytes = 0;
  // Files per atomic commit. 0 = 64.
  int batch_files = 0;
  // Attached to every ingested document, filterable (SearchOptions::filters).
  // Keys: see ValidateMetadata (include/ragd/filter.h).
  std::map<std::string, std::string> metadata;
  // Called after each batch is durably committed, with the ids of the
  // documents it wrote or removed: what survives a crash from then on.
  std::function<void(std::span<const std::string> doc_ids)> on_commit;
};

// A document handed over in memory (evaluation corpora, API uploads).
struct SourceDocument {
  std::string id;      // stable key; re-ingesting the same id replaces it
  std::string source;  // shown in citations (a path or a name)
  std::string title;   // put before the text when non-empty
  std::string text;
  std::map<std::string, std::string> metadata;  // as IngestOptions::metadata
};

struct FileFailure {
  std::string path;
  Status status;
};

struct IngestReport {
  int64_t files_seen = 0;
  int64_t files_added = 0;
  int64_t files_updated = 0;
  int64_t files_unchanged = 0;
  int64_t files_removed = 0;  // by sync
  int64_t chunks_written = 0;
  double seconds = 0;
  std::vector<FileFailure> failures;  // each skipped, the rest committed
};

struct IngestProgress {
  int64_t done = 0;   // items processed so far
  int64_t total = 0;  // items to process (0 while unknown)
  int64_t chunks = 0;
  std::string current;  // path or id being processed
};
using ProgressFn = std::function<void(const IngestProgress&)>;

enum class SearchMode { kBm25, kDense, kHybrid };
const char* SearchModeName(SearchMode mode);
Result<SearchMode> ParseSearchMode(const std::string& name);

struct SearchOptions {
  std::string kb;
  std::string query;
  SearchMode mode = SearchMode::kHybrid;
  int k = 10;
  // Candidates taken from each list before fusion. 0 = max(100, 2k).
  int candidates = 0;
  // Reciprocal Rank Fusion constant (Cormack et al. 2009).
  int rrf_k = 60;
  // Hybrid fusion: "rrf" (weighted reciprocal ranks), "minmax" or "zscore"
  // (normalised scores, convex combination). Unset = the knowledge base's
  // setting (search.fusion), else the default (docs/RETRIEVAL.md).
  std::optional<std::string> fusion;
  // Weight of BM25 in the fusion, dense gets 1 - w. Unset = the knowledge
  // base's setting (search.lexical_weight), else the default.
  std::optional<double> lexical_weight;
  // MMR diversification of the final list: lambda in [0, 1] (1 = relevance
  // only). Unset = the knowledge base's setting (search.mmr_lambda), else off.
  std::optional<double> mmr_lambda;
  // Hits whose final score is below this are dropped (unset = none).
  std::optional<double> min_score;
  // Each hit also carries its document's n chunks before and after, merged
  // without their overlap, in SearchHit::context (0 = none).
  int neighbors = 0;
  // Return at most one hit (the best chunk) per document.
  bool one_per_document = false;
  // Only chunks whose document's source contains this text (empty = all) /
  // whose document id is exactly this. Shorthands for the filters below.
  std::string source_contains;
  std::string doc_id;
  // Conditions every hit's document meets (include/ragd/filter.h): type,
  // dates, ingest metadata. Applied inside BM25 and the vector search.
  std::vector<FilterCondition> filters;
  // With a reranker configured (EngineOptions::reranker): the top
  // rerank_candidates fused hits (0 = max(k, 20)) are scored by the
  // cross-encoder and reordered; score becomes the reranker's score. When
  // k is larger, the hits after them follow in fused order.
  bool rerank = true;
  int rerank_candidates = 0;
};

struct SearchHit {
  int rank = 0;  // 1-based
  double score = 0;
  std::string doc_id;
  std::string source;
  std::string title;
  int64_t chunk_id = 0;
  int chunk_index = 0;
  int page = 0;              // 1-based PDF page, 0 = none
  std::string heading_path;  // "Chapter > Section", empty = none
  int row = 0;               // 1-based CSV row / JSONL line, 0 = none
  int64_t char_start = 0;    // code-point offsets into the document's text
  int64_t char_end = 0;
  std::string text;
  int lexical_rank = 0;  // rank in the BM25 list, 0 = absent
  int dense_rank = 0;    // rank in the dense list, 0 = absent
  double lexical_score = 0;  // BM25 score, 0 = absent
  double dense_score = 0;    // cosine similarity to the query, 0 = absent
  std::optional<double> rerank_score;  // the cross-encoder's score, when reranked
  std::string context;       // text with neighbouring chunks (SearchOptions::neighbors), else empty
};

struct DocumentInfo {
  std::string doc_id;
  std::string source;
  std::string mime;
  std::string title;
  int64_t size_bytes = 0;
  int64_t chunk_count = 0;
  std::string ingested_at;
  std::map<std::string, std::string> metadata;  // GetDocument only
};

struct ChunkInfo {
  int64_t chunk_id = 0;
  int chunk_index = 0;
  int page = 0;
  std::string heading_path;
  int row = 0;
  int64_t char_start = 0;
  int64_t char_end = 0;
  std::string text;
};

struct DocumentDetail {
  DocumentInfo info;
  std::vector<ChunkInfo> chunks;
};

struct SearchResponse {
  std::vector<SearchHit> hits;
  // Cosine similarity of the best dense candidate (dense and hybrid modes;
  // 0 in bm25 mode): how close the knowledge base comes to the query at all.
  double best_dense_score = 0;
  std::string embed_model;  // the knowledge base's Embedder::model_id()
  std::string reranker;     // the reranker's model when the hits were reranked, else empty
  double seconds = 0;
  // Where the seconds went. Candidates is the wall time of the first phase
  // (BM25, query embedding and ANN; in hybrid mode BM25 runs alongside the
  // other two, so it is at most their sum); the rest is ragd's own work:
  // checks, fusion, fetching the hits' chunks, MMR.
  struct Timings {
    double candidates = 0;
    double lexical = 0;  // FTS5 bm25
    double embed = 0;    // the query embedding (a model call)
    double vector = 0;   // the ANN lookup
    double rerank = 0;   // the cross-encoder (a model call)
  } timings;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::string& data_dir() const;

  Result<std::vector<KbInfo>> ListKnowledgeBases();
  // Counts rows and bytes on disk: for listings, not per request.
  Result<KbInfo> GetKnowledgeBase(const std::string& name);
  // Cheap: OK when the knowledge base exists (and its name is valid).
  Status CheckKnowledgeBase(const std::string& name);
  // Thorough: SQLite's integrity check, and documents, chunks, the FTS
  // index and the vector index agree (Corruption names the first
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
  // Creates an empty knowledge base for the current embedder; AlreadyExists
  // when it is there (checked under its write lock).
  Result<KbInfo> CreateKnowledgeBase(const std::string& name);

  // Per-knowledge-base search defaults: search.fusion (rrf | minmax |
  // zscore), search.lexical_weight (0..1), search.mmr_lambda (0..1, or
  // "off"). Unknown keys and bad values are refused.
  Status SetKbSetting(const std::string& kb, const std::string& key, const std::string& value);
  Result<std::map<std::string, std::string>> GetKbSettings(const std::string& kb);

  Result<std::vector<DocumentInfo>> ListDocuments(const std::string& kb);
  Result<DocumentDetail> GetDocument(const std::string& kb, const std::string& doc_id);
  Status DeleteDocument(const std::string& kb, const std::string& doc_id);

  // Ingests files; one bad file is reported in the report and skipped.
  Result<IngestReport> IngestFiles(const IngestOptions& options, const ProgressFn& progress = {});
  // Ingests in-memory documents (unchanged ones, by content hash, cost nothing).
  Result<IngestReport> IngestDocuments(const std::string& kb, std::span<const SourceDocument> docs,
                                       const SplitOptions& split, const ProgressFn& progress = {});

  Result<SearchResponse> Search(const SearchOptions& options);

  // The embedder, loaded on first use.
  Result<Embedder*> embedder();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragd
