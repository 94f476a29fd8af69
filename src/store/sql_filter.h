// Filter conditions as an SQL condition over `documents d` (and its
// doc_meta rows), for both stores: the values are bound in order, never
// spliced into the SQL. The two dialects differ in placeholders ($n vs ?),
// the substring test and the lenient number cast of metadata values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "ragd/filter.h"

namespace ragd::store {

enum class SqlDialect { kSqlite, kPostgres };

struct SqlFilter {
  std::string where;  // empty: no condition
  std::vector<std::variant<int64_t, double, std::string>> binds;
};

// table_prefix qualifies doc_meta ("" for SQLite, "schema." for PostgreSQL);
// first_param is the number of the first PostgreSQL placeholder.
SqlFilter BuildSqlFilter(std::span<const FilterCondition> conditions, SqlDialect dialect,
                         const std::string& table_prefix = "", int first_param = 1);

}  // namespace ragd::store
