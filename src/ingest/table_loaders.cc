// Loaders for CSV (libcsv) and JSON / JSON Lines (nlohmann-json). A CSV row
// becomes one atomic segment: an FAQ's question and answer stay together.
#include <csv.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

namespace {

struct CsvState {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  size_t max_rows = 5'000'000;
};

void CsvField(void* s, size_t len, void* data) {
  static_cast<CsvState*>(data)->row.emplace_back(static_cast<const char*>(s), len);
}

void CsvRow(int, void* data) {
  auto* st = static_cast<CsvState*>(data);
  if (st->rows.size() < st->max_rows) st->rows.push_back(std::move(st->row));
  st->row.clear();
}

unsigned char SniffDelimiter(std::string_view text, const std::string& path) {
  if (path.ends_with(".tsv") || path.ends_with(".TSV")) return '\t';
  std::string_view first = text.substr(0, text.find('\n'));
  size_t commas = std::count(first.begin(), first.end(), ',');
  size_t tabs = std::count(first.begin(), first.end(), '\t');
  size_t semis = std::count(first.begin(), first.end(), ';');
  size_t pipes = std::count(first.begin(), first.end(), '|');
  if (tabs > commas && tabs >= semis && tabs >= pipes) return '\t';
  if (pipes > commas && pipes > semis) return '|';
  if (semis > commas) return ';';
  return ',';
}

bool MatchesAny(std::string name, std::initializer_list<const char*> words) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  name = std::string(text::Trim(name));
  for (const char* w : words)
    if (name == w) return true;
  return false;
}

}  // namespace

// The header and rows as a table: unnamed or repeated columns get a name,
// short rows are padded and long ones widen the table.
store::TableData TableFromRows(const std::vector<std::vector<std::string>>& rows) {
  store::TableData t;
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  std::set<std::string> seen;
  for (size_t c = 0; c < width; ++c) {
    std::string name = c < rows[0].size() ? std::string(text::Trim(rows[0][c])) : "";
    if (name.empty() || seen.count(name)) name = "column " + std::to_string(c + 1);
    seen.insert(name);
    t.columns.push_back(std::move(name));
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < width; ++c) row.push_back(c < rows[r].size() ? std::string(text::Trim(rows[r][c])) : "");
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<Segment> RowSegments(const std::vector<std::vector<std::string>>& rows, const std::vector<int>& numbers,
                                 const std::string& heading_path) {
  std::vector<Segment> out_segments;
  if (rows.empty()) return out_segments;
  const std::vector<std::string>& header = rows[0];
  int q_col = -1, a_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (q_col < 0 && MatchesAny(header[i], {"question", "q", "query", "问题", "问", "标准问题", "提问", "常见问题"})) q_col = static_cast<int>(i);
    if (a_col < 0 && MatchesAny(header[i], {"answer", "a", "response", "reply", "答案", "答", "回答", "解答", "标准答案"})) a_col = static_cast<int>(i);
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string out;
    auto add = [&](size_t c) {
      if (c >= row.size()) return;
      std::string_view v = text::Trim(row[c]);
      if (v.empty()) return;
      std::string name = c < header.size() && !text::Trim(header[c]).empty() ? std::string(text::Trim(header[c]))
                                                                                : "column " + std::to_string(c + 1);
      if (!out.empty()) out += "\n";
      out += name + ": " + std::string(v);
    };
    // An FAQ row reads question first, answer second, then the rest.
    if (q_col >= 0) add(q_col);
    if (a_col >= 0) add(a_col);
    for (size_t c = 0; c < row.size(); ++c)
      if (static_cast<int>(c) != q_col && static_cast<int>(c) != a_col) add(c);
    if (out.empty()) continue;
    Segment seg{std::move(out)};
    seg.row = r - 1 < numbers.size() ? numbers[r - 1] : static_cast<int>(r);
    seg.heading_path = heading_path;
    seg.atomic = true;
    out_segments.push_back(std::move(seg));
  }
  return out_segments;
}

Segment MarkdownTable(const std::vector<std::vector<std::string>>& rows, const std::string& heading_path) {
  Segment seg;
  seg.heading_path = heading_path;
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  if (rows.empty() || width == 0) return seg;
  auto line = [&](const std::vector<std::string>& r) {
    std::string out = "|";
    for (size_t c = 0; c < width; ++c) {
      std::string cell = c < r.size() ? r[c] : "";
      std::replace(cell.begin(), cell.end(), '\n', ' ');
      cell = text::NormalizeWhitespace(cell);
      text::ReplaceAll(cell, "|", "\\|");
      out += " " + cell + " |";
    }
    return out;
  };
  std::string separator = "|";
  for (size_t c = 0; c < width; ++c) separator += " --- |";
  seg.table_header = line(rows[0]) + "\n" + separator;
  seg.text = seg.table_header;
  for (size_t r = 1; r < rows.size(); ++r) seg.text += "\n" + line(rows[r]);
  return seg;
}

bool IsTabularMime(std::string_view mime) {
  return mime == "text/csv" || mime == "application/json" || mime == "application/x-ndjson";
}

Result<LoadedDocument> LoadCsv(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  struct csv_parser parser;
  if (csv_init(&parser, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI) != 0) return Status::Unavailable("cannot initialise the CSV parser");
  csv_set_delim(&parser, SniffDelimiter(utf8, path));
  CsvState st;
  size_t parsed = csv_parse(&parser, utf8.data(), utf8.size(), CsvField, CsvRow, &st);
  int err = csv_error(&parser);
  if (parsed != utf8.size() || err != CSV_SUCCESS) {
    std::string why = csv_strerror(err);
    csv_free(&parser);
    return Status::InvalidArgument(path + " is not valid CSV: " + why + " (near byte " + std::to_string(parsed) + ")");
  }
  if (csv_fini(&parser, CsvField, CsvRow, &st) != 0) {
    csv_free(&parser);
    return Status::InvalidArgument(path + " is not valid CSV: a quoted field is never closed");
  }
  csv_free(&parser);
  // libcsv appends a NUL to each field with CSV_APPEND_NULL; drop it.
  for (auto& r : st.rows)
    for (auto& f : r)
      if (!f.empty() && f.back() == '\0') f.pop_back();
  st.rows.erase(std::remove_if(st.rows.begin(), st.rows.end(),
                               [](const auto& r) {
                                 return std::all_of(r.begin(), r.end(), [](const auto& f) { return text::Trim(f).empty(); });
                               }),
                st.rows.end());
  if (st.rows.size() < 2) return Status::InvalidArgument(path + " has no data rows (a header row and at least one row are needed)");

  LoadedDocument doc;
  doc.mime = "text/csv";
  doc.table = TableFromRows(st.rows);
  std::vector<int> numbers;
  for (size_t r = 1; r < st.rows.size(); ++r) numbers.push_back(static_cast<int>(r));
  doc.segments = RowSegments(st.rows, numbers, "");
  if (doc.segments.empty()) return Status::InvalidArgument(path + " has no non-empty data rows");
  return doc;
}

namespace {

using nlohmann::json;

void Flatten(const json& v, const std::string& prefix, std::string* out, int depth) {
  if (depth > 64) return;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it)
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out, depth + 1);
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) Flatten(v[i], prefix, out, depth + 1);
  } else if (!v.is_null()) {
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    if (text::Trim(s).empty()) return;
    if (!out->empty()) out->push_back('\n');
    *out += prefix.empty() ? s : prefix + ": " + s;
  }
}

// Records (objects) as a table: nested objects flattened to "a.b" columns,
// arrays kept as JSON text, columns in order of first appearance. Anything
// that is not a list of objects, or is too wide, gives no columns.
store::TableData RecordsTable(const std::vector<const json*>& records) {
  constexpr size_t kMaxColumns = 256;
  store::TableData t;
  std::map<std::string, size_t> index;
  std::vector<std::map<size_t, std::string>> cells;
  std::function<bool(const json&, const std::string&, std::map<size_t, std::string>&, int)> add =
      [&](const json& v, const std::string& name, std::map<size_t, std::string>& row, int depth) -> bool {
    if (v.is_object() && depth < 4) {
      for (auto it = v.begin(); it != v.end(); ++it)
        if (!add(it.value(), name.empty() ? it.key() : name + "." + it.key(), row, depth + 1)) return false;
      return true;
    }
    auto [it, fresh] = index.emplace(name, t.columns.size());
    if (fresh) {
      if (t.columns.size() >= kMaxColumns) return false;
      t.columns.push_back(name);
    }
    if (!v.is_null()) row[it->second] = v.is_string() ? v.get<std::string>() : v.dump();
    return true;
  };
  for (const json* r : records) {
    if (!r->is_object() || r->empty()) return {};
    cells.emplace_back();
    if (!add(*r, "", cells.back(), 0)) return {};
  }
  for (const auto& row : cells) {
    std::vector<std::string> out(t.columns.size());
    for (const auto& [c, v] : row) out[c] = v;
    t.rows.push_back(std::move(out));
  }
  return t;
}

// A record with a "text"/"content" field is read as title + text; anything
// else is flattened to "key: value" lines.
Segment RecordSegment(const json& v) {
  Segment seg;
  if (v.is_object()) {
    for (const char* key : {"text", "content", "body", "answer"}) {
      auto it = v.find(key);
      if (it != v.end() && it->is_string()) {
        std::string title;
        for (const char* tkey : {"title", "question", "name"}) {
          auto t = v.find(tkey);
          if (t != v.end() && t->is_string()) { title = t->get<std::string>(); break; }
        }
        seg.text = text::NormalizeWhitespace(title.empty() ? it->get<std::string>() : title + "\n" + it->get<std::string>());
        return seg;
      }
    }
  }
  std::string flat;
  Flatten(v, "", &flat, 0);
  seg.text = text::NormalizeWhitespace(flat);
  return seg;
}

}  // namespace

Result<LoadedDocument> LoadJson(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  json v = json::parse(utf8, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) {
    // Parse again with exceptions only to get the position for the message.
    try {
      json again = json::parse(utf8);  // throws: it failed above
    } catch (const json::parse_error& e) {
      return Status::InvalidArgument(path + " is not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception& e) {
      // A number beyond double's range ("1e999") is out_of_range, not a
      // parse_error (fuzz_json found it; it used to end the process).
      return Status::InvalidArgument(path + " is not usable JSON: " + e.what());
    }
    return Status::InvalidArgument(path + " is not valid JSON");
  }
  LoadedDocument doc;
  doc.mime = "application/json";
  if (v.is_array()) {
    std::vector<const json*> records;
    for (const auto& r : v) records.push_back(&r);
    doc.table = RecordsTable(records);
    for (size_t i = 0; i < v.size(); ++i) {
      Segment seg = RecordSegment(v[i]);
      seg.row = static_cast<int>(i + 1);
      if (!seg.text.empty()) doc.segments.push_back(std::move(seg));
    }
  } else {
    doc.table = store::TableData{};
    Segment seg = RecordSegment(v);
    if (!seg.text.empty()) doc.segments.push_back(std::move(seg));
  }
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text values");
  return doc;
}

Result<LoadedDocument> LoadJsonl(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  LoadedDocument doc;
  doc.mime = "application/x-ndjson";
  size_t pos = 0;
  int line_no = 0;
  std::vector<json> records;
  while (pos < utf8.size()) {
    size_t end = utf8.find('\n', pos);
    if (end == std::string::npos) end = utf8.size();
    std::string_view line = text::Trim(std::string_view(utf8).substr(pos, end - pos));
    ++line_no;
    pos = end + 1;
    if (line.empty()) continue;
    json v = json::parse(line, nullptr, false);
    if (v.is_discarded())
      return Status::InvalidArgument(path + ": line " + std::to_string(line_no) + " is not valid JSON");
    Segment seg = RecordSegment(v);
    seg.row = line_no;
    if (!seg.text.empty()) doc.segments.push_back(std::move(seg));
    records.push_back(std::move(v));
  }
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no records with text");
  std::vector<const json*> ptrs;
  for (const auto& r : records) ptrs.push_back(&r);
  doc.table = RecordsTable(ptrs);
  return doc;
}

}  // namespace ragd::ingest
