// The built-in tools: search_kb, read_document, list_kbs, calculator and
// query_table. They read the knowledge bases the user named and nothing
// else: no command, file outside them or network address is reachable.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/calculator.h"
#include "agent/kb_argument.h"
#include "agent/table_query.h"
#include "core/status_macros.h"
#include "ragd/agent.h"
#include "ragd/filter.h"

namespace ragd {

namespace {

using nlohmann::json;

class BuiltinTool : public Tool {
 public:
  BuiltinTool(std::string name, std::string description, json parameters) {
    spec_.name = std::move(name);
    spec_.description = std::move(description);
    spec_.parameters = parameters.dump();
  }
  const ToolSpec& spec() const override { return spec_; }
  Result<ToolResult> Run(const std::string& arguments, double deadline_seconds) override {
    json args = json::parse(arguments, nullptr, false);
    if (!args.is_object()) return Status::InvalidArgument("the arguments are not a JSON object");
    return Call(args, deadline_seconds);
  }

 protected:
  virtual Result<ToolResult> Call(const json& args, double deadline_seconds) = 0;

 private:
  ToolSpec spec_;
};

class SearchKb : public BuiltinTool {
 public:
  SearchKb(Engine* engine, BuiltinToolOptions o)
      : BuiltinTool("search_kb",
                    "Search a knowledge base for passages about a query. Returns numbered passages to cite as [n], "
                    "each with its document id.",
                    Params(o)),
        engine_(engine), o_(std::move(o)) {}

  static json Params(const BuiltinToolOptions& o) {
    json p = {{"type", "object"},
              {"properties",
               {{"query", {{"type", "string"}, {"minLength", 1}, {"description", "what to look for, in the user's words"}}},
                {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", o.max_k}, {"description", "passages to return"}}},
                {"filter", {{"type", "string"}, {"description", "optional, e.g. type=pdf or source=faq"}}}}},
              {"required", {"query"}}};
    return agent::WithKbArgument(std::move(p), o.kbs);
  }

 protected:
  Result<ToolResult> Call(const json& args, double) override {
    RAGD_ASSIGN_OR_RETURN(std::string kb, agent::PickKb(args, o_.kbs));
    SearchOptions so;
    so.kb = kb;
    so.query = args.value("query", std::string());
    so.k = std::max(args.value("k", o_.default_k), o_.min_k);
    so.mode = o_.mode;
    so.filters = o_.filters;
    if (std::string f = args.value("filter", std::string()); !f.empty()) {
      RAGD_ASSIGN_OR_RETURN(FilterCondition c, ParseFilterCondition(f));
      RAGD_RETURN_IF_ERROR(ValidateFilterCondition(c));
      so.filters.push_back(std::move(c));
    }
    RAGD_ASSIGN_OR_RETURN(SearchResponse r, engine_->Search(so));
    ToolResult out;
    out.passages = std::move(r.hits);
    if (out.passages.empty()) out.content = "No passages matched.";
    return out;
  }

 private:
  Engine* engine_;
  BuiltinToolOptions o_;
};

class ReadDocument : public BuiltinTool {
 public:
  ReadDocument(Engine* engine, BuiltinToolOptions o)
      : BuiltinTool("read_document",
                    "Read a document of a knowledge base by its id (from search_kb), by page or by character range.",
                    Params(o)),
        engine_(engine), o_(std::move(o)) {}

  static json Params(const BuiltinToolOptions& o) {
    json p = {{"type", "object"},
              {"properties",
               {{"doc_id", {{"type", "string"}, {"minLength", 1}}},
                {"page", {{"type", "integer"}, {"minimum", 1}, {"description", "a PDF page"}}},
                {"start", {{"type", "integer"}, {"minimum", 0}, {"description", "first character"}}},
                {"length", {{"type", "integer"}, {"minimum", 1}, {"maximum", o.read_chars}}}}},
              {"required", {"doc_id"}}};
    return agent::WithKbArgument(std::move(p), o.kbs);
  }

 protected:
  Result<ToolResult> Call(const json& args, double) override {
    RAGD_ASSIGN_OR_RETURN(std::string kb, agent::PickKb(args, o_.kbs));
    const std::string doc_id = args.value("doc_id", std::string());
    RAGD_ASSIGN_OR_RETURN(DocumentDetail d, engine_->GetDocument(kb, doc_id));
    const int page = args.value("page", 0);
    const int64_t start = args.value("start", int64_t{0});
    const int64_t length = std::min<int64_t>(args.value("length", o_.read_chars), o_.read_chars);
    // The chunks that overlap the range (or lie on the page), as passages.
    ToolResult out;
    int64_t taken = 0;
    bool any_on_page = false;
    for (const ChunkInfo& c : d.chunks) {
      if (page > 0 ? c.page != page : c.char_end <= start) continue;
      any_on_page = true;
      if (taken >= length) break;
      SearchHit h;
      h.doc_id = d.info.doc_id;
      h.source = d.info.source;
      h.title = d.info.title;
      h.chunk_id = c.chunk_id;
      h.chunk_index = c.chunk_index;
      h.page = c.page;
      h.heading_path = c.heading_path;
      h.row = c.row;
      h.char_start = c.char_start;
      h.char_end = c.char_end;
      h.text = c.text;
      taken += static_cast<int64_t>(c.text.size());
      out.passages.push_back(std::move(h));
    }
    if (!any_on_page)
      return Status::NotFound(page > 0 ? "document " + doc_id + " has no page " + std::to_string(page)
                                       : "document " + doc_id + " ends before character " + std::to_string(start));
    if (!out.passages.empty() && out.passages.back().char_end < d.chunks.back().char_end)
      out.content = "(more follows from character " + std::to_string(out.passages.back().char_end) + ")";
    return out;
  }

 private:
  Engine* engine_;
  BuiltinToolOptions o_;
};

class ListKbs : public BuiltinTool {
 public:
  ListKbs(Engine* engine, BuiltinToolOptions o)
      : BuiltinTool("list_kbs", "List the knowledge bases this agent may read, with their documents.",
                    {{"type", "object"}, {"properties", json::object()}}),
        engine_(engine), o_(std::move(o)) {}

 protected:
  Result<ToolResult> Call(const json&, double) override {
    ToolResult out;
    for (const std::string& kb : o_.kbs) {
      RAGD_ASSIGN_OR_RETURN(std::vector<DocumentInfo> docs, engine_->ListDocuments(kb));
      out.content += kb + ": " + std::to_string(docs.size()) + " documents\n";
      for (size_t i = 0; i < docs.size() && i < 50; ++i)
        out.content += "  " + docs[i].doc_id.substr(docs[i].doc_id.find_last_of('/') + 1) + " (id " + docs[i].doc_id + ")\n";
      if (docs.size() > 50) out.content += "  … and " + std::to_string(docs.size() - 50) + " more\n";
    }
    return out;
  }

 private:
  Engine* engine_;
  BuiltinToolOptions o_;
};

class CalculatorTool : public BuiltinTool {
 public:
  CalculatorTool()
      : BuiltinTool("calculator",
                    "Evaluate an arithmetic expression exactly, e.g. 20000 * 0.0005 * 30 or round(1234.5 * 1.5%, 2). "
                    "Operators + - * / % ^, parentheses, min, max, round, abs, sqrt.",
                    {{"type", "object"},
                     {"properties", {{"expression", {{"type", "string"}, {"minLength", 1}}}}},
                     {"required", {"expression"}}}) {}

 protected:
  Result<ToolResult> Call(const json& args, double) override {
    RAGD_ASSIGN_OR_RETURN(double v, agent::Calculate(args.value("expression", std::string())));
    return ToolResult{agent::FormatNumber(v), {}};
  }
};

class QueryTable : public BuiltinTool {
 public:
  QueryTable(std::unique_ptr<agent::TableDatabase> db, std::vector<KbTable> tables, int max_rows)
      : BuiltinTool("query_table",
                    "Count, sum, average or list the rows of the knowledge base's tables with one read-only SQL SELECT "
                    "(SQLite dialect). Only these tables and columns exist:\n" +
                        db->Describe(),
                    {{"type", "object"},
                     {"properties", {{"sql", {{"type", "string"}, {"minLength", 1}}}}},
                     {"required", {"sql"}}}),
        db_(std::move(db)), tables_(std::move(tables)), max_rows_(max_rows) {}

 protected:
  Result<ToolResult> Call(const json& args, double deadline_seconds) override {
    agent::QueryLimits limits;
    limits.max_rows = max_rows_;
    limits.seconds = std::min(deadline_seconds, 10.0);
    RAGD_ASSIGN_OR_RETURN(agent::QueryResult r, db_->Query(args.value("sql", std::string()), limits));
    ToolResult out;
    out.content = agent::FormatQueryResult(r);
    // The result cites the tables it read, as one passage each.
    for (const std::string& name : r.tables) {
      for (const auto& s : db_->schema()) {
        if (s.name != name) continue;
        SearchHit h;
        h.doc_id = s.doc_id;
        h.source = s.source;
        h.heading_path = "table " + s.name;
        h.text = "SQL: " + args.value("sql", std::string()) + "\n" + out.content;
        out.passages.push_back(std::move(h));
      }
    }
    if (!out.passages.empty()) out.content = "";  // shown as the passages
    return out;
  }

 private:
  std::unique_ptr<agent::TableDatabase> db_;
  std::vector<KbTable> tables_;
  int max_rows_;
};

}  // namespace

Result<std::vector<std::unique_ptr<Tool>>> BuiltinTools(Engine* engine, const BuiltinToolOptions& options) {
  if (options.kbs.empty()) return Status::InvalidArgument("an agent needs at least one knowledge base (--kb)");
  std::vector<KbTable> tables;
  for (const std::string& kb : options.kbs) {
    RAGD_RETURN_IF_ERROR(engine->CheckKnowledgeBase(kb));
    RAGD_ASSIGN_OR_RETURN(std::vector<KbTable> t, engine->ListTables(kb));
    for (auto& x : t) tables.push_back(std::move(x));
  }
  std::vector<std::unique_ptr<Tool>> tools;
  tools.push_back(std::make_unique<SearchKb>(engine, options));
  tools.push_back(std::make_unique<ReadDocument>(engine, options));
  tools.push_back(std::make_unique<ListKbs>(engine, options));
  tools.push_back(std::make_unique<CalculatorTool>());
  if (!tables.empty()) {
    RAGD_ASSIGN_OR_RETURN(std::unique_ptr<agent::TableDatabase> db, agent::TableDatabase::Open(tables));
    tools.push_back(std::make_unique<QueryTable>(std::move(db), std::move(tables), options.max_table_rows));
  }
  return tools;
}

}  // namespace ragd

namespace ragd::agent {

nlohmann::json WithKbArgument(nlohmann::json params, const std::vector<std::string>& kbs) {
  if (kbs.size() > 1) {
    params["properties"]["kb"] = {{"type", "string"}, {"enum", kbs}, {"description", "the knowledge base"}};
    params["required"].push_back("kb");
  }
  return params;
}

Result<std::string> PickKb(const nlohmann::json& args, const std::vector<std::string>& kbs) {
  std::string kb = args.value("kb", std::string());
  if (kb.empty()) {
    if (kbs.size() == 1) return kbs[0];
    return Status::InvalidArgument("say which knowledge base: one of " + nlohmann::json(kbs).dump());
  }
  if (std::find(kbs.begin(), kbs.end(), kb) == kbs.end())
    return Status::InvalidArgument("no knowledge base '" + kb + "' here; the knowledge bases are " +
                                   nlohmann::json(kbs).dump());
  return kb;
}

}  // namespace ragd::agent
