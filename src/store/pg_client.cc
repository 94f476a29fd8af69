#include "store/pg_client.h"

#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>

namespace ragd::store::pg {

PgResult::~PgResult() { PQclear(r_); }

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }
std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
int64_t PgResult::Int(int row, int col) const { return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
double PgResult::Double(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

namespace {

// libpq's message on one line ("...refused\n\tIs the server running..." ->
// "...refused; is the server running...").
std::string Trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (size_t at; (at = s.find("\n\t")) != std::string::npos;) {
    s.replace(at, 2, "; ");
    if (at + 2 < s.size()) s[at + 2] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[at + 2])));
  }
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

// SQLSTATE classes: 08 connection, 57P0x shutdown/restart, 53 resources,
// 40 serialization/deadlock, 55P03 lock timeout: all pass (503, retry).
Status FromResult(pg_conn* conn, pg_result* r, const std::string& where, const std::string& what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string msg = Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  if (msg.empty()) msg = Trimmed(PQerrorMessage(conn));
  std::string text = what + ": " + msg;
  if (PQstatus(conn) == CONNECTION_BAD || code.starts_with("08") || code.starts_with("57P") ||
      code.starts_with("53") || code.starts_with("40") || code == "55P03")
    return Status::Unavailable(text + " (PostgreSQL at " + where + "; retry when it is back)");
  // Another ragd dropped the knowledge base (its schema) under this one.
  if (code == "42P01" || code == "3F000") return Status::NotFound(text + " (was it deleted by another ragd?)");
  if (code == "23505") return Status::AlreadyExists(text);
  if (code.starts_with("22") || code.starts_with("23")) return Status::InvalidArgument(text);
  if (code == "XX001" || code == "XX002") return Status::Corruption(text);
  return Status::IOError(text);
}

}  // namespace

bool IsPostgresUrl(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

std::string RedactUrl(const std::string& url) {
  if (!IsPostgresUrl(url)) return url.find("password") == std::string::npos ? url : "(a libpq connection string)";
  size_t scheme = url.find("://") + 3;
  size_t at = url.find('@', scheme);
  if (at == std::string::npos) return url;
  size_t colon = url.find(':', scheme);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

void AppendArrayElement(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

PgPool::PgPool(std::string url, int size) : url_(std::move(url)), where_(RedactUrl(url_)), size_(size) {}

PgPool::~PgPool() {
  for (pg_conn* c : idle_) PQfinish(c);
}

Result<pg_conn*> PgPool::Connect() {
  pg_conn* c = PQconnectdb(url_.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = Trimmed(PQerrorMessage(c));
    PQfinish(c);
    return Status::Unavailable("cannot connect to PostgreSQL at " + where_ + ": " + msg);
  }
  // Notices (CREATE ... IF NOT EXISTS) would go to stderr: the library never prints.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return c;
}

Result<std::shared_ptr<PgPool>> PgPool::Open(const std::string& url, int size) {
  // libpq waits for an unreachable host without end by default: a request
  // would hang instead of answering 503. 5 s unless the URL says otherwise.
  std::string with_timeout = url;
  if (IsPostgresUrl(url) && url.find("connect_timeout=") == std::string::npos)
    with_timeout += (url.find('?') == std::string::npos ? "?" : "&") + std::string("connect_timeout=5");
  std::shared_ptr<PgPool> pool(new PgPool(url, size < 1 ? 1 : size));  // messages show the URL as given
  pool->url_ = with_timeout;
  RAGD_ASSIGN_OR_RETURN(pg_conn * c, pool->Connect());
  pool->idle_.push_back(c);
  pool->open_ = 1;
  return pool;
}

Result<PgLease> PgPool::Acquire() {
  pg_conn* c = nullptr;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      c = idle_.back();
      idle_.pop_back();
    } else {
      ++open_;  // reserved; connected below, outside the lock
    }
  }
  if (!c) {
    auto made = Connect();
    if (!made.ok()) {
      std::lock_guard lock(mu_);
      --open_;
      cv_.notify_one();
      return made.status();
    }
    return PgLease(this, *made);
  }
  if (PQstatus(c) == CONNECTION_BAD) {
    PQreset(c);  // the server restarted: one new connection, same settings
    if (PQstatus(c) != CONNECTION_OK) {
      Status st = Status::Unavailable("cannot reach PostgreSQL at " + where_ + ": " + Trimmed(PQerrorMessage(c)));
      Release(c);
      return st;
    }
  }
  return PgLease(this, c);
}

void PgPool::Release(pg_conn* conn) {
  std::lock_guard lock(mu_);
  idle_.push_back(conn);
  cv_.notify_one();
}

PgLease::~PgLease() {
  if (!conn_) return;
  // A lease dropped inside a transaction (an early return) must not hand
  // the transaction to the next user.
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE && PQstatus(conn_) == CONNECTION_OK)
    PQclear(PQexec(conn_, "ROLLBACK"));
  pool_->Release(conn_);
}

Result<PgResult> PgLease::Exec(const std::string& sql, const std::vector<Param>& params, const std::string& what) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Without parameters the simple protocol, which takes several statements (schemas).
  auto run = [&] {
    return params.empty() ? PQexec(conn_, sql.c_str())
                          : PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                                         nullptr, nullptr, 0);
  };
  const bool outside_transaction = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  pg_result* r = run();
  ExecStatusType st = PQresultStatus(r);
  // The database restarted since this connection was last used: one new
  // connection and one more try, for statements that are safe to repeat
  // (a read, or the BEGIN of a write; writes outside a transaction are
  // not repeated), so a restart costs no request.
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && PQstatus(conn_) == CONNECTION_BAD && outside_transaction &&
      (sql.starts_with("SELECT") || sql.starts_with("WITH") || sql.starts_with("BEGIN"))) {
    PQclear(r);
    PQreset(conn_);
    r = run();
    st = PQresultStatus(r);
  }
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return PgResult(r);
  Status err = FromResult(conn_, r, pool_->where(), what);
  PQclear(r);
  return err;
}

}  // namespace ragd::store::pg
