// Search: a query against one knowledge base (Engine::Search) and its
// ranked hits.
//
// Plain data: safe to copy between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ragd/filter.h"
#include "ragd/status.h"

namespace ragd {

enum class SearchMode { kBm25, kDense, kHybrid };
const char* SearchModeName(SearchMode mode);
Result<SearchMode> ParseSearchMode(const std::string& name);

// How hybrid search merges the BM25 and dense lists: weighted reciprocal
// ranks, or a convex combination of scores normalised by min-max or z-score;
// dispersion is z-score with each query's weight set by how far each list's
// best hit stands out (docs/RETRIEVAL.md), for knowledge bases not tuned.
enum class Fusion { kRrf, kMinMax, kZScore, kDispersion };
const char* FusionName(Fusion fusion);  // "rrf" | "minmax" | "zscore" | "dispersion"
Result<Fusion> ParseFusion(const std::string& name);

struct SearchOptions {
  std::string kb;
  std::string query;
  SearchMode mode = SearchMode::kHybrid;
  int k = 10;
  // Candidates taken from each list before fusion. 0 = max(100, 2k).
  int candidates = 0;
  // Reciprocal Rank Fusion constant (Cormack et al. 2009). Unset = the
  // knowledge base's setting (search.rrf_k), else 60.
  std::optional<int> rrf_k;
  // Hybrid fusion. Unset = the knowledge base's setting (search.fusion),
  // else z-score (measured in docs/RETRIEVAL.md).
  std::optional<Fusion> fusion;
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
  // Dense and hybrid: search with this vector instead of embedding the
  // query (the knowledge base's embedder must have made it: its length is
  // checked against the index). In dense mode the query text may then be
  // empty; BM25 still needs it.
  std::vector<float> query_vector;
  // Fill SearchHit::metadata with each hit's document metadata (one
  // lookup per distinct document).
  bool with_metadata = false;
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
  // Text read by OCR from a scanned page or an image: Tesseract's mean word
  // confidence, 0..1; -1 = the document's own text.
  float ocr_confidence = -1;
  int lexical_rank = 0;  // rank in the BM25 list, 0 = absent
  int dense_rank = 0;    // rank in the dense list, 0 = absent
  double lexical_score = 0;  // BM25 score, 0 = absent
  double dense_score = 0;    // cosine similarity to the query, 0 = absent
  std::optional<double> rerank_score;  // the cross-encoder's score, when reranked
  std::string context;       // text with neighbouring chunks (SearchOptions::neighbors), else empty
  std::map<std::string, std::string> metadata;  // the document's (SearchOptions::with_metadata), else empty
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

}  // namespace ragd
