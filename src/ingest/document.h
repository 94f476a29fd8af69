// What a loader produces: the text of a document cut into segments that carry
// where they came from (page, heading path, row), ready for the splitter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <optional>

#include "ragd/status.h"
#include "store/store.h"

namespace ragd::ingest {

struct Segment {
  std::string text;
  int page = 0;              // 1-based PDF page, 0 = none
  std::string heading_path;  // "Handbook > Cards > Fees"
  int row = 0;               // 1-based CSV data row / JSONL line, 0 = none
  bool atomic = false;       // keep as one chunk when it fits (FAQ rows)
};

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

enum class DocType { kText, kMarkdown, kHtml, kPdf, kDocx, kCsv, kJson, kJsonl };
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

// Loaders. `path` is used in error messages only.
Result<LoadedDocument> LoadDocument(std::string_view bytes, DocType type, const std::string& path);
Result<LoadedDocument> LoadText(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadMarkdown(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadHtml(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadPdf(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadDocx(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadCsv(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadJson(std::string_view bytes, const std::string& path);
Result<LoadedDocument> LoadJsonl(std::string_view bytes, const std::string& path);

}  // namespace ragd::ingest
