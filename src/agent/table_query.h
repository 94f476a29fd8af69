// Read-only SQL over a knowledge base's tables (the agent's query_table).
// The tables are loaded into a private in-memory SQLite database, which is
// then made read-only (PRAGMA query_only, and an authorizer that allows
// SELECT and reads only); each query runs under a time and a row limit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ragd/knowledge_base.h"
#include "ragd/status.h"

struct sqlite3;

namespace ragd::agent {

struct QueryLimits {
  int max_rows = 50;       // rows returned; more are counted and cut
  double seconds = 2;      // a query running longer is interrupted
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // NULL as ""
  bool truncated = false;                     // more rows than max_rows
  std::vector<std::string> tables;            // the tables the query read
};

struct TableSchema {
  std::string name;       // the SQL name ("fees" for fees.csv)
  std::string doc_id;
  std::string source;
  std::vector<std::string> columns;
  std::vector<std::string> types;  // "INTEGER" | "REAL" | "TEXT", by the values
  int64_t rows = 0;
};

class TableDatabase {
 public:
  // Loads the tables; names come from the sources' file names, made unique.
  static Result<std::unique_ptr<TableDatabase>> Open(const std::vector<KbTable>& tables);
  ~TableDatabase();
  TableDatabase(const TableDatabase&) = delete;
  TableDatabase& operator=(const TableDatabase&) = delete;

  const std::vector<TableSchema>& schema() const { return schema_; }
  // The schema as the model reads it: one line per table with its columns.
  std::string Describe() const;
  // One SELECT (or WITH … SELECT). Anything else, a second statement, an
  // unknown table or column, or the time limit is InvalidArgument with
  // SQLite's message.
  Result<QueryResult> Query(const std::string& sql, const QueryLimits& limits);

 private:
  TableDatabase() = default;
  sqlite3* db_ = nullptr;
  std::vector<TableSchema> schema_;
};

// A result as text for the model: a header line and rows, '|'-separated.
std::string FormatQueryResult(const QueryResult& r);

}  // namespace ragd::agent
