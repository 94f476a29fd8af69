// Files of records read as records, not as one document: a catalogue
// (one document per record: recommendation's items) and users'
// interactions. Both go through the CSV and JSONL loaders' tables, so
// quoting, encodings and malformed lines get the loaders' errors.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"
#include "ragd/filter.h"
#include "ragd/ingest.h"
#include "ragd/recommend.h"

namespace ragd {
namespace {

constexpr int64_t kMaxRecordsFile = 1LL << 30;  // 1 GiB

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The file's records as a table: CSV by its header, JSONL / a JSON array by
// their keys. Chosen by the name's extension.
Result<store::TableData> ReadTable(const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string bytes, files::ReadFile(path, kMaxRecordsFile));
  std::string lower = Lower(path);
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0;
  };
  Result<ingest::LoadedDocument> doc = Status::InvalidArgument(
      path + ": records are read from .csv, .tsv, .jsonl, .ndjson or .json files");
  if (ends(".csv") || ends(".tsv")) doc = ingest::LoadCsv(bytes, path);
  else if (ends(".jsonl") || ends(".ndjson")) doc = ingest::LoadJsonl(bytes, path);
  else if (ends(".json")) doc = ingest::LoadJson(bytes, path);
  if (!doc.ok()) return doc.status();
  if (!doc->table || doc->table->columns.empty())
    return Status::InvalidArgument(path + " holds no records (a list of objects, or a CSV with a header)");
  return std::move(*doc->table);
}

int Column(const store::TableData& t, std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (size_t c = 0; c < t.columns.size(); ++c)
      if (Lower(t.columns[c]) == n) return static_cast<int>(c);
  return -1;
}

Result<std::optional<double>> Number(const std::string& cell, const std::string& path, size_t row,
                                     const std::string& column) {
  std::string_view v = text::Trim(cell);
  if (v.empty()) return std::optional<double>();
  std::string s(v);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d))
    return Status::InvalidArgument(path + ": record " + std::to_string(row) + ": " + column + " '" +
                                   std::string(text::TruncateUtf8(s, 40)) + "' is not a number");
  return std::optional<double>(d);
}

// A JSON array cell (tags) as "a, b, c"; anything else as it is.
std::string Readable(const std::string& cell) {
  if (cell.size() < 2 || cell.front() != '[' || cell.back() != ']') return cell;
  std::string out, cur;
  bool in = false, esc = false;
  for (char c : cell) {
    if (!in) {
      if (c == '"') in = true, cur.clear();
      continue;
    }
    if (esc) cur += c, esc = false;
    else if (c == '\\') esc = true;
    else if (c == '"') in = false, out += (out.empty() ? "" : ", ") + cur;
    else cur += c;
  }
  return out.empty() ? cell : out;
}

}  // namespace

Result<std::vector<SourceDocument>> ReadRecordsFile(const std::string& path, const RecordFields& fields) {
  RAGD_ASSIGN_OR_RETURN(store::TableData t, ReadTable(path));
  auto pick = [&](const std::string& given, std::initializer_list<const char*> names, const char* what) -> Result<int> {
    if (given.empty()) return Column(t, names);
    for (size_t c = 0; c < t.columns.size(); ++c)
      if (t.columns[c] == given) return static_cast<int>(c);
    return Status::InvalidArgument(path + " has no " + what + " field '" + given + "'");
  };
  RAGD_ASSIGN_OR_RETURN(int id_col, pick(fields.id, {"_id", "id", "item", "item_id"}, "id"));
  if (id_col < 0)
    return Status::InvalidArgument(path + ": no id field (_id, id, item or item_id); name one with --id-field");
  RAGD_ASSIGN_OR_RETURN(int title_col, pick(fields.title, {"title", "name"}, "title"));
  RAGD_ASSIGN_OR_RETURN(int text_col, pick(fields.text, {"text", "description", "content", "body", "summary"}, "text"));
  std::vector<SourceDocument> docs;
  std::set<std::string> seen;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    SourceDocument d;
    d.id = std::string(text::Trim(row[id_col]));
    if (d.id.empty()) return Status::InvalidArgument(path + ": record " + std::to_string(r + 1) + " has no id");
    if (!seen.insert(d.id).second)
      return Status::InvalidArgument(path + ": record " + std::to_string(r + 1) + " repeats id '" + d.id + "'");
    d.source = path + "#" + d.id;
    if (title_col >= 0) d.title = std::string(text::Trim(row[title_col]));
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (static_cast<int>(c) == id_col || static_cast<int>(c) == title_col || static_cast<int>(c) == text_col) continue;
      std::string value(text::Trim(row[c]));
      if (value.empty()) continue;
      // A field that cannot be metadata (its name, or a value too long) is
      // still part of the text below; only what can be filtered on is kept.
      if (ValidateMetadata(t.columns[c], value).ok()) d.metadata[t.columns[c]] = value;
      if (text_col < 0) d.text += (d.text.empty() ? "" : "\n") + t.columns[c] + ": " + Readable(value);
    }
    if (text_col >= 0) d.text = std::string(text::Trim(row[text_col]));
    if (d.text.empty() && d.title.empty())
      return Status::InvalidArgument(path + ": record " + std::to_string(r + 1) + " ('" + d.id + "') has no text");
    docs.push_back(std::move(d));
  }
  if (docs.empty()) return Status::InvalidArgument(path + " holds no records");
  return docs;
}

Result<std::vector<Interaction>> ReadInteractionsFile(const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(store::TableData t, ReadTable(path));
  int user = Column(t, {"user", "user_id", "userid"});
  int item = Column(t, {"item", "item_id", "itemid", "book_id", "movie_id"});
  if (user < 0 || item < 0)
    return Status::InvalidArgument(path + ": interactions need a user and an item field (user, item; found " +
                                   std::to_string(t.columns.size()) + " fields)");
  int rating = Column(t, {"rating", "score", "stars"});
  int time = Column(t, {"time", "timestamp", "order", "ts"});
  std::vector<Interaction> out;
  out.reserve(t.rows.size());
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    Interaction x;
    x.user = std::string(text::Trim(row[user]));
    x.item = std::string(text::Trim(row[item]));
    if (x.user.empty() || x.item.empty())
      return Status::InvalidArgument(path + ": record " + std::to_string(r + 1) + " has no " +
                                     (x.user.empty() ? "user" : "item"));
    if (rating >= 0) {
      RAGD_ASSIGN_OR_RETURN(x.rating, Number(row[rating], path, r + 1, t.columns[rating]));
    }
    if (time >= 0) {
      RAGD_ASSIGN_OR_RETURN(x.time, Number(row[time], path, r + 1, t.columns[time]));
    }
    out.push_back(std::move(x));
  }
  if (out.empty()) return Status::InvalidArgument(path + " holds no interactions");
  return out;
}

}  // namespace ragd
