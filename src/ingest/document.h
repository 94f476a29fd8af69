// What a loader produces: the text of a document cut into segments that carry
// where they came from (page, heading path, row), ready for the splitter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <functional>
#include <optional>

#include "ragd/ingest.h"
#include "ragd/status.h"
#include "store/store.h"

namespace ragd::ingest {

struct Segment {
  std::string text;
  int page = 0;              // 1-based PDF page, 0 = none
  std::string heading_path;  // "Handbook > Cards > Fees"
  int row = 0;               // 1-based CSV data row / JSONL line, 0 = none
  bool atomic = false;       // keep as one chunk when it fits (FAQ rows)
  float ocr_confidence = -1;  // read by OCR with this mean confidence (0..1); -1 = not OCR
  // A Markdown table: text starts with these header and separator lines,
  // then one row per line; chunks hold whole rows and repeat the header.
  std::string table_header;
};

// Records under a header row (rows[0]) as CSV rows are: one atomic
// segment per non-empty row, "column: value" lines, an FAQ's question and
// answer first. numbers[i] is rows[i + 1]'s row number for citations.
std::vector<Segment> RowSegments(const std::vector<std::vector<std::string>>& rows, const std::vector<int>& numbers,
                                 const std::string& heading_path);
// The same rows as a table for read-only SQL: unnamed or repeated columns
// get a name, short rows are padded.
store::TableData TableFromRows(const std::vector<std::vector<std::string>>& rows);

// A table as Markdown: the first row is the header, cells are put on one
// line with '|' escaped, short rows padded. Empty when rows is.
Segment MarkdownTable(const std::vector<std::vector<std::string>>& rows, const std::string& heading_path = "");

struct LoadedDocument {
  std::string title;
  std::string mime;
  std::vector<Segment> segments;
  // CSV and JSON records: the rows as a table (columns empty when the
  // records are not flat enough to be one), for read-only SQL.
  std::optional<store::TableData> table;
};

// Whether a MIME type is one whose loader records a table.
bool IsTabularMime(std::string_view mime);

// "A > B > C" from a stack of headings, skipping empty levels.
std::string JoinHeadingPath(const std::vector<std::string>& headings);

enum class DocType { kText, kMarkdown, kHtml, kPdf, kDocx, kPptx, kXlsx, kCsv, kJson, kJsonl, kImage };
const char* DocTypeName(DocType t);

// Finds a file's type from its content (libmagic), using the extension only
// to tell apart text formats that share a MIME type. Thread-compatible: one
// TypeDetector per thread.
class TypeDetector {
 public:
  TypeDetector();
  ~TypeDetector();
  TypeDetector(const TypeDetector&) = delete;
  TypeDetector& operator=(const TypeDetector&) = delete;
  Result<DocType> Detect(std::string_view bytes, const std::string& path);
  // The raw MIME type libmagic reports (for messages and metadata).
  std::string Mime(std::string_view bytes);

 private:
  void* magic_ = nullptr;  // magic_t
};

// What a loader may need beyond the bytes: OCR settings, and a callback
// before each page OCR reads (it is slow: callers show progress).
struct LoadOptions {
  OcrOptions ocr;
  std::function<void(int page, int pages)> on_ocr_page;
};

// Loaders. `path` is used in error messages only.
Result<LoadedDocument> LoadDocument(std::string_view bytes, DocType type, const std::string& path,
                                    const LoadOptions& options = {});
Result<LoadedDocument> LoadText(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadMarkdown(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadHtml(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadPdf(std::string_view bytes, const std::string& path, const LoadOptions& options = {});
Result<LoadedDocument> LoadDocx(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadPptx(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadXlsx(std::string_view bytes, const std::string& path);
// PNG, JPEG, TIFF (every page) through OCR (ocr.cc).
Result<LoadedDocument> LoadImage(std::string_view bytes, const std::string& path, const LoadOptions& options);
Result<LoadedDocument> LoadCsv(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadJson(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadJsonl(std::string_view bytes, const std::string& path);

}  // namespace ragd::ingest
