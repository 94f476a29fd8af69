// Search filters: conditions on a chunk's document, applied inside
// retrieval (BM25 and the vector index only consider matching chunks), so a
// filtered search returns k hits whenever k matching chunks exist.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ragd/status.h"

namespace ragd {

// "key op value". Built-in keys:
//   source    the document's source (path or name) contains value (op =)
//   doc_id    the document id equals value (= or !=)
//   type      the document's MIME type or file extension, "|" between
//             alternatives: type=pdf, type=text/markdown|md (= or !=)
//   modified  the file's modification time; ingested  when it was ingested.
//             value is a date, YYYY-MM-DD[THH:MM[:SS]][Z] (UTC); ops < <= > >= =
// Any other key is metadata given at ingest (--meta key=value). Its ops are
// = != < <= > >=; when value is a number the comparison is numeric, else
// text (ISO dates compare correctly as text).
struct FilterCondition {
  std::string key;
  std::string op = "=";
  std::string value;
};

// Parses "key=value", "year>=2020", "type!=pdf". Errors name the expression.
Result<FilterCondition> ParseFilterCondition(std::string_view expression);

// Checks a condition's key, op and value (dates must parse).
Status ValidateFilterCondition(const FilterCondition& condition);

// Metadata keys: letters, digits, '_', '-', '.', at most 64 bytes, not a
// built-in key. Values: valid UTF-8, at most 4096 bytes.
Status ValidateMetadata(const std::string& key, const std::string& value);

}  // namespace ragd
