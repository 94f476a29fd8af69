// Ingest: what to put into a knowledge base, how to split it into chunks,
// and what came of it (Engine::IngestFiles, Engine::IngestDocuments).
//
// Plain data: safe to copy between threads. The callbacks are called on
// the ingesting thread.
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

// Reading pages that have no usable text layer (scans) and image files.
struct OcrOptions {
  // Off: image files fail with a clear error and image-only PDF pages are
  // skipped (a PDF with no text at all fails).
  bool enabled = true;
  // Tesseract languages joined by '+' ("eng", "chi_sim", "eng+chi_sim"), or
  // "auto": each page's script as Tesseract's orientation and script
  // detection names it (Han: chi_sim+eng, otherwise eng).
  std::string languages = "auto";
  // Resolution pages of PDFs are rendered at for OCR.
  int dpi = 300;
  // Folder of the *.traineddata files; empty = Tesseract's default
  // (TESSDATA_PREFIX, else Debian's /usr/share/tesseract-ocr/5/tessdata).
  std::string tessdata;
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
  OcrOptions ocr;
  // Called after each batch is durably committed, with the ids of the
  // documents it wrote or removed: what survives a crash from then on.
  // Called on the ingest's writer thread, one batch at a time in commit
  // order, and never after IngestFiles returns.
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

// Which fields of a records file (CSV with a header, JSONL, a JSON array of
// objects) make a document's id, title and text. Empty = the first present
// of: id: _id, id, item, item_id; title: title, name; text: text,
// description, content, body, summary (none: every other field as
// "name: value" lines).
struct RecordFields {
  std::string id, title, text;
};

// One document per record (a catalogue: recommendation's items): the id
// field is the document id, every other field whose name and value can be
// metadata is kept as filterable metadata (year, language_code, ...).
// Errors name the file and the record (1-based); an id seen twice is one.
Result<std::vector<SourceDocument>> ReadRecordsFile(const std::string& path, const RecordFields& fields = {});

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

}  // namespace ragd
