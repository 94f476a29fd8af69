// Knowledge bases and their documents as the engine lists them.
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

#include "ragd/status.h"

namespace ragd {

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
  // Engine::GetKnowledgeBase only (not listings): the share of documents
  // whose text is mostly in each script ("cjk", "latin", "other"), and a
  // warning when the embedder does not read the documents' language.
  std::map<std::string, double> scripts;
  std::string language_warning;
};

struct CopyReport {
  std::string from, to;   // where: a data directory or a redacted URL, with #name
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t interactions = 0;
  double seconds = 0;
};

struct ReembedReport {
  std::string from, to;   // Embedder::model_id() before and after
  int64_t chunks = 0;     // in the knowledge base
  int64_t embedded = 0;   // by this run
  int64_t resumed = 0;    // staged by an earlier run that stopped
  double seconds = 0;
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
  float ocr_confidence = -1;  // as SearchHit::ocr_confidence
};

// A tabular document's rows (CSV, JSON records), as ingested: every row as
// long as columns, each cell its text ("" when empty).
struct KbTable {
  std::string doc_id;
  std::string source;
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct DocumentDetail {
  DocumentInfo info;
  std::vector<ChunkInfo> chunks;
};

}  // namespace ragd
