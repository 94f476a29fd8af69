#include "agent/table_query.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/status_macros.h"

namespace ragd::agent {

namespace {

// A cell that is a plain decimal number (no thousands separators, units or
// currency: those stay text, as they were written).
bool ParseNumber(const std::string& s, double* out, bool* integer) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  *integer = s.find_first_of(".eE") == std::string::npos;
  return true;
}

// "docs/Fee schedule.csv" -> "fee_schedule"; letters beyond ASCII are kept.
std::string TableName(const std::string& source) {
  std::string base = source.substr(source.find_last_of('/') + 1);
  if (size_t dot = base.find_last_of('.'); dot != std::string::npos && dot > 0) base.resize(dot);
  std::string out;
  for (unsigned char c : base) {
    if (c >= 0x80 || std::isalnum(c)) out += static_cast<char>(c >= 0x80 ? c : std::tolower(c));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "t_" + out;
  return out;
}

std::string Quote(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Only reading: SELECT, reads of columns, functions, recursive CTEs.
int Authorize(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    default:
      return SQLITE_DENY;
  }
}

struct Deadline {
  std::chrono::steady_clock::time_point at;
};

int Progress(void* p) {
  return std::chrono::steady_clock::now() > static_cast<Deadline*>(p)->at ? 1 : 0;
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal("cannot load the tables: " + msg);
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<TableDatabase>> TableDatabase::Open(const std::vector<KbTable>& tables) {
  std::unique_ptr<TableDatabase> t(new TableDatabase());
  if (sqlite3_open_v2(":memory:", &t->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
    return Status::Unavailable("cannot open an in-memory SQLite database for the tables");
  std::set<std::string> used;
  for (const KbTable& kt : tables) {
    if (kt.columns.empty()) continue;
    TableSchema s;
    s.name = TableName(kt.source);
    for (int n = 2; used.count(s.name); ++n) s.name = TableName(kt.source) + "_" + std::to_string(n);
    used.insert(s.name);
    s.doc_id = kt.doc_id;
    s.source = kt.source;
    s.columns = kt.columns;
    s.rows = static_cast<int64_t>(kt.rows.size());
    // A column's type: INTEGER or REAL when every non-empty cell is such a number.
    for (size_t c = 0; c < kt.columns.size(); ++c) {
      bool numeric = true, all_int = true, any = false;
      for (const auto& row : kt.rows) {
        const std::string& v = c < row.size() ? row[c] : std::string();
        if (v.empty()) continue;
        any = true;
        double d;
        bool integer;
        if (!ParseNumber(v, &d, &integer)) { numeric = false; break; }
        all_int = all_int && integer;
      }
      s.types.push_back(!any || !numeric ? "TEXT" : all_int ? "INTEGER" : "REAL");
    }
    std::string create = "CREATE TABLE " + Quote(s.name) + "(";
    std::string insert = "INSERT INTO " + Quote(s.name) + " VALUES(";
    for (size_t c = 0; c < s.columns.size(); ++c) {
      create += (c ? ", " : "") + Quote(s.columns[c]) + " " + s.types[c];
      insert += c ? ",?" : "?";
    }
    RAGD_RETURN_IF_ERROR(Exec(t->db_, create + ")"));
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(t->db_, (insert + ")").c_str(), -1, &ins, nullptr) != SQLITE_OK)
      return Status::Internal(std::string("cannot load the tables: ") + sqlite3_errmsg(t->db_));
    if (Status st = Exec(t->db_, "BEGIN"); !st.ok()) {
      sqlite3_finalize(ins);
      return st;
    }
    for (const auto& row : kt.rows) {
      sqlite3_reset(ins);
      for (size_t c = 0; c < s.columns.size(); ++c) {
        const std::string& v = c < row.size() ? row[c] : std::string();
        double d;
        bool integer;
        if (v.empty()) sqlite3_bind_null(ins, static_cast<int>(c + 1));
        else if (s.types[c] != "TEXT" && ParseNumber(v, &d, &integer)) {
          if (s.types[c] == "INTEGER") sqlite3_bind_int64(ins, static_cast<int>(c + 1), static_cast<sqlite3_int64>(d));
          else sqlite3_bind_double(ins, static_cast<int>(c + 1), d);
        } else {
          sqlite3_bind_text(ins, static_cast<int>(c + 1), v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        }
      }
      if (sqlite3_step(ins) != SQLITE_DONE) {
        std::string msg = sqlite3_errmsg(t->db_);
        sqlite3_finalize(ins);
        return Status::Internal("cannot load table " + s.name + ": " + msg);
      }
    }
    sqlite3_finalize(ins);
    RAGD_RETURN_IF_ERROR(Exec(t->db_, "COMMIT"));
    t->schema_.push_back(std::move(s));
  }
  // From here on the connection only reads.
  RAGD_RETURN_IF_ERROR(Exec(t->db_, "PRAGMA query_only = ON"));
  sqlite3_set_authorizer(t->db_, Authorize, nullptr);
  sqlite3_limit(t->db_, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_limit(t->db_, SQLITE_LIMIT_SQL_LENGTH, 10000);
  return t;
}

TableDatabase::~TableDatabase() { sqlite3_close_v2(db_); }

std::string TableDatabase::Describe() const {
  std::string out;
  for (const TableSchema& s : schema_) {
    out += s.name + "(";
    for (size_t c = 0; c < s.columns.size(); ++c) out += (c ? ", " : "") + Quote(s.columns[c]) + " " + s.types[c];
    out += ") -- " + std::to_string(s.rows) + " rows from " + s.source.substr(s.source.find_last_of('/') + 1) + "\n";
  }
  return out;
}

Result<QueryResult> TableDatabase::Query(const std::string& sql, const QueryLimits& limits) {
  if (schema_.empty()) return Status::NotFound("the knowledge base holds no tables (CSV or JSON records)");
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    if (rc == SQLITE_AUTH) msg = "only SELECT queries are allowed (" + msg + ")";
    return Status::InvalidArgument("SQL error: " + msg + ". Tables: " + Describe());
  }
  if (!stmt) return Status::InvalidArgument("the SQL is empty");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
  for (const char* p = tail; p && *p; ++p)
    if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';')
      return Status::InvalidArgument("one SQL statement at a time");
  if (!sqlite3_stmt_readonly(stmt)) return Status::InvalidArgument("only SELECT queries are allowed");
  QueryResult r;
  const int n = sqlite3_column_count(stmt);
  for (int c = 0; c < n; ++c) r.columns.push_back(sqlite3_column_name(stmt, c));
  Deadline deadline{std::chrono::steady_clock::now() +
                    std::chrono::microseconds(static_cast<int64_t>(limits.seconds * 1e6))};
  sqlite3_progress_handler(db_, 1000, Progress, &deadline);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (static_cast<int>(r.rows.size()) >= limits.max_rows) {
      r.truncated = true;
      break;
    }
    std::vector<std::string> row;
    for (int c = 0; c < n; ++c) {
      const unsigned char* t = sqlite3_column_text(stmt, c);
      row.emplace_back(t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt, c)) : "");
    }
    r.rows.push_back(std::move(row));
  }
  sqlite3_progress_handler(db_, 0, nullptr, nullptr);
  if (rc == SQLITE_INTERRUPT)
    return Status::Unavailable("the query ran longer than the limit of " + std::to_string(limits.seconds).substr(0, 4) +
                               " s and was stopped; ask for less (WHERE, LIMIT, an aggregate)");
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Status::InvalidArgument(std::string("SQL error: ") + sqlite3_errmsg(db_));
  std::string lower = sql;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const TableSchema& s : schema_)
    if (lower.find(s.name) != std::string::npos) r.tables.push_back(s.name);
  return r;
}

std::string FormatQueryResult(const QueryResult& r) {
  std::string out;
  for (size_t c = 0; c < r.columns.size(); ++c) out += (c ? " | " : "") + r.columns[c];
  out += "\n";
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? " | " : "") + row[c];
    out += "\n";
  }
  out += "(" + std::to_string(r.rows.size()) + (r.truncated ? "+ rows: cut at the row limit; aggregate with COUNT/SUM instead)" : " rows)");
  return out;
}

}  // namespace ragd::agent
