// KbCatalog: where knowledge bases live, and how their writers take turns.
// Two implementations: a data directory with one SQLite knowledge base per
// folder (the default, embedded), and a PostgreSQL database shared by any
// number of ragd processes (`--store postgres://...`, docs/SCALE.md).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ragd/status.h"
#include "store/store.h"

namespace ragd::store {

// Held by one writer of a knowledge base; released when destroyed.
class CatalogLock {
 public:
  virtual ~CatalogLock() = default;
};

class KbCatalog {
 public:
  virtual ~KbCatalog() = default;
  // The data directory, or the database's URL without its password.
  virtual std::string Describe() const = 0;
  // Where one knowledge base is, for people (a folder, or URL#name).
  virtual std::string Location(const std::string& name) const = 0;
  // The knowledge base's own folder (sessions, traces, uploads live
  // there); none for a database-backed catalog.
  virtual std::optional<std::string> Directory(const std::string& name) const { return std::nullopt; }
  virtual Result<std::vector<std::string>> List() = 0;  // sorted
  virtual Result<bool> Exists(const std::string& name) = 0;
  // Opens it; with options.create, creates it first when missing.
  virtual Result<std::unique_ptr<KbStore>> Open(const std::string& name, const StoreOptions& options) = 0;
  // Removes it and everything in it (NotFound when missing). The caller
  // holds its write lock and has dropped its open stores.
  virtual Status Drop(const std::string& name) = 0;
  // One writer at a time across processes (the engine queues its own
  // threads before this). Also for a knowledge base not created yet.
  virtual Result<std::unique_ptr<CatalogLock>> LockForWriting(const std::string& name) = 0;
  // Bytes the knowledge base takes on disk (0 when unknown).
  virtual int64_t BytesUsed(const std::string& name) = 0;
};

// The data directory: <dir>/<name>/kb.sqlite (+ vectors.idx, LOCK, ...).
Result<std::unique_ptr<KbCatalog>> OpenDirCatalog(const std::string& dir);
// postgres://user[:password]@host:port/db[?params] (libpq's URL form).
// Creates ragd's registry (schema `ragd`) and the vector extension if missing.
Result<std::unique_ptr<KbCatalog>> OpenPgCatalog(const std::string& url);
// Whether a --store value names PostgreSQL.
bool IsPostgresUrl(const std::string& url);

}  // namespace ragd::store
