#include "eval/beir.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"

namespace ragd::eval {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kMaxFile = int64_t{4} << 30;

template <typename Fn>
Status ForEachLine(const std::string& data, Fn fn) {
  size_t pos = 0;
  int line = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    ++line;
    std::string_view l = text::Trim(std::string_view(data).substr(pos, end - pos));
    pos = end + 1;
    if (l.empty()) continue;
    RAGD_RETURN_IF_ERROR(fn(l, line));
  }
  return Status::OK();
}

std::string StringField(const json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace

Status ReadJsonLines(const std::string& path,
                     const std::function<Status(const nlohmann::json& record, const std::string& where)>& fn) {
  RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, kMaxFile));
  return ForEachLine(raw, [&](std::string_view l, int line) -> Status {
    const std::string where = path + ":" + std::to_string(line) + ": ";
    json v = json::parse(l, nullptr, false);
    if (v.is_discarded() || !v.is_object()) return Status::InvalidArgument(where + "not a JSON object");
    return fn(v, where);
  });
}

Result<BeirSet> ReadBeir(const std::string& dir, const std::string& split) {
  BeirSet set;
  std::string corpus_path = (fs::path(dir) / "corpus.jsonl").string();
  std::string queries_path = (fs::path(dir) / "queries.jsonl").string();
  std::string qrels_path = (fs::path(dir) / "qrels" / (split + ".tsv")).string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("no BEIR folder at " + dir);

  RAGD_ASSIGN_OR_RETURN(std::string corpus, files::ReadFile(corpus_path, kMaxFile));
  set.corpus_hash = files::ContentHash(corpus);
  RAGD_RETURN_IF_ERROR(ForEachLine(corpus, [&](std::string_view l, int line) -> Status {
    json v = json::parse(l, nullptr, false);
    if (v.is_discarded() || !v.is_object())
      return Status::InvalidArgument(corpus_path + ":" + std::to_string(line) + ": not a JSON object");
    SourceDocument d;
    d.id = StringField(v, "_id");
    if (d.id.empty()) return Status::InvalidArgument(corpus_path + ":" + std::to_string(line) + ": record has no _id");
    d.title = StringField(v, "title");
    d.text = StringField(v, "text");
    d.source = "corpus.jsonl#" + d.id;
    set.corpus.push_back(std::move(d));
    return Status::OK();
  }));

  RAGD_ASSIGN_OR_RETURN(std::string qrels, files::ReadFile(qrels_path, kMaxFile));
  RAGD_RETURN_IF_ERROR(ForEachLine(qrels, [&](std::string_view l, int line) -> Status {
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t tab = l.find('\t', start);
      cols.emplace_back(l.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 3) return Status::InvalidArgument(qrels_path + ":" + std::to_string(line) + ": expected query-id, corpus-id, score");
    if (line == 1 && cols[0] == "query-id") return Status::OK();  // header
    char* end = nullptr;
    long score = std::strtol(cols[2].c_str(), &end, 10);
    if (end == cols[2].c_str()) return Status::InvalidArgument(qrels_path + ":" + std::to_string(line) + ": score is not a number");
    set.qrels[cols[0]][cols[1]] = static_cast<int>(score);
    return Status::OK();
  }));

  RAGD_ASSIGN_OR_RETURN(std::string queries, files::ReadFile(queries_path, kMaxFile));
  std::set<std::string> found;
  RAGD_RETURN_IF_ERROR(ForEachLine(queries, [&](std::string_view l, int line) -> Status {
    json v = json::parse(l, nullptr, false);
    if (v.is_discarded() || !v.is_object())
      return Status::InvalidArgument(queries_path + ":" + std::to_string(line) + ": not a JSON object");
    std::string id = StringField(v, "_id");
    if (!set.qrels.count(id)) return Status::OK();
    found.insert(id);
    set.queries.push_back({id, StringField(v, "text")});
    return Status::OK();
  }));
  if (set.queries.empty()) return Status::InvalidArgument(qrels_path + " judges no query found in " + queries_path);
  return set;
}

}  // namespace ragd::eval

namespace ragd::eval {

Result<std::map<std::string, std::vector<std::string>>> ReadAnswers(const std::string& dir) {
  std::string path = (fs::path(dir) / "answers.jsonl").string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Status::NotFound("no answers.jsonl in " + dir + " (lines of {\"_id\": query id, \"answers\": [...]})");
  RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, kMaxFile));
  std::map<std::string, std::vector<std::string>> out;
  RAGD_RETURN_IF_ERROR(ForEachLine(raw, [&](std::string_view l, int line) -> Status {
    json v = json::parse(l, nullptr, false);
    const std::string where = path + ":" + std::to_string(line) + ": ";
    if (v.is_discarded() || !v.is_object()) return Status::InvalidArgument(where + "not a JSON object");
    std::string id = StringField(v, "_id");
    if (id.empty()) return Status::InvalidArgument(where + "record has no _id");
    auto a = v.find("answers");
    if (a == v.end() || !a->is_array()) return Status::InvalidArgument(where + "'answers' must be an array of strings");
    for (const auto& x : *a) {
      if (!x.is_string()) return Status::InvalidArgument(where + "'answers' must be an array of strings");
      out[id].push_back(x.get<std::string>());
    }
    return Status::OK();
  }));
  return out;
}

Result<std::vector<BeirQuery>> ReadQuestions(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Status::NotFound("no such question file: " + path + " (lines of {\"_id\": ..., \"text\": ...})");
  RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, kMaxFile));
  std::vector<BeirQuery> out;
  RAGD_RETURN_IF_ERROR(ForEachLine(raw, [&](std::string_view l, int line) -> Status {
    json v = json::parse(l, nullptr, false);
    const std::string where = path + ":" + std::to_string(line) + ": ";
    if (v.is_discarded() || !v.is_object()) return Status::InvalidArgument(where + "not a JSON object");
    BeirQuery q{StringField(v, "_id"), StringField(v, "text")};
    if (q.id.empty() || text::Trim(q.text).empty())
      return Status::InvalidArgument(where + "a question needs an '_id' and a non-empty 'text'");
    out.push_back(std::move(q));
    return Status::OK();
  }));
  if (out.empty()) return Status::InvalidArgument(path + " holds no questions");
  return out;
}

}  // namespace ragd::eval
