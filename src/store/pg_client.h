// A small pool of libpq connections to one PostgreSQL database, for the
// PostgreSQL store (pg_store.cc). Queries go as text with text parameters
// ($1, $2, ...); errors come back as Status values that say what failed:
// a database that is down or restarting is Unavailable (the server answers
// 503), and a broken connection is reopened on its next use, so ragd
// recovers when the database does.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status_macros.h"
#include "ragd/status.h"

struct pg_conn;
struct pg_result;

namespace ragd::store::pg {

// A parameter: text, or NULL.
using Param = std::optional<std::string>;

class PgResult {
 public:
  explicit PgResult(pg_result* r = nullptr) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  int rows() const;
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  bool IsNull(int row, int col) const;

 private:
  pg_result* r_;
};

class PgPool;

// One connection taken from the pool, given back when destroyed. Use from
// one thread at a time.
class PgLease {
 public:
  PgLease(PgPool* pool, pg_conn* conn) : pool_(pool), conn_(conn) {}
  ~PgLease();
  PgLease(PgLease&& o) noexcept : pool_(o.pool_), conn_(o.conn_) { o.conn_ = nullptr; }
  PgLease& operator=(PgLease&&) = delete;

  // what names the work in errors ("search knowledge base 'x'").
  Result<PgResult> Exec(const std::string& sql, const std::vector<Param>& params, const std::string& what);
  Result<PgResult> Exec(const std::string& sql, const std::string& what) { return Exec(sql, {}, what); }
  // Runs body between BEGIN and COMMIT; rolls back when body or COMMIT fails.
  template <typename Body>
  Status InTransaction(const std::string& what, Body&& body) {
    RAGD_RETURN_IF_ERROR(Exec("BEGIN", what).status());
    Status st = body();
    if (st.ok()) st = Exec("COMMIT", what).status();
    if (!st.ok()) (void)Exec("ROLLBACK", what);
    return st;
  }

 private:
  PgPool* pool_;
  pg_conn* conn_;
};

class PgPool {
 public:
  // Connects once to check the URL (postgres://user[:password]@host:port/db,
  // libpq's form); the rest connect on demand, up to size.
  static Result<std::shared_ptr<PgPool>> Open(const std::string& url, int size = 8);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Waits for a free connection; reconnects a broken one.
  Result<PgLease> Acquire();
  // The URL without its password, for messages.
  const std::string& where() const { return where_; }

 private:
  friend class PgLease;
  PgPool(std::string url, int size);
  void Release(pg_conn* conn);
  Result<pg_conn*> Connect();

  std::string url_;
  std::string where_;
  int size_;
  int open_ = 0;
  std::vector<pg_conn*> idle_;
  std::mutex mu_;
  std::condition_variable cv_;
};

// Quotes a text value as an element of a PostgreSQL array literal.
void AppendArrayElement(std::string& out, std::string_view value);
// A URL's form for messages: the password replaced by "***".
std::string RedactUrl(const std::string& url);
// Whether url names PostgreSQL (postgres:// or postgresql://).
bool IsPostgresUrl(const std::string& url);

}  // namespace ragd::store::pg
