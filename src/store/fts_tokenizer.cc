#include "store/fts_tokenizer.h"

#include <new>

#include "store/analyzer.h"

namespace ragd::store {

namespace {

int TokCreate(void*, const char**, int, Fts5Tokenizer** out) {
  auto* analyzer = new (std::nothrow) store::Analyzer();
  if (!analyzer) return SQLITE_NOMEM;
  *out = reinterpret_cast<Fts5Tokenizer*>(analyzer);
  return SQLITE_OK;
}

void TokDelete(Fts5Tokenizer* t) { delete reinterpret_cast<store::Analyzer*>(t); }

int TokTokenize(Fts5Tokenizer* t, void* ctx, int, const char* text, int n,
                int (*token)(void*, int, const char*, int, int, int)) {
  auto* analyzer = reinterpret_cast<store::Analyzer*>(t);
  int rc = SQLITE_OK;
  analyzer->Analyze(std::string_view(text, static_cast<size_t>(n)), [&](std::string_view term, size_t b, size_t e) {
    if (rc != SQLITE_OK) return;
    rc = token(ctx, 0, term.data(), static_cast<int>(term.size()), static_cast<int>(b), static_cast<int>(e));
  });
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

fts5_api* GetFtsApi(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(stmt, 1, reinterpret_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

}  // namespace

Status RegisterFtsTokenizer(sqlite3* db) {
  fts5_api* api = GetFtsApi(db);
  if (!api) return Status::Unavailable("this SQLite has no FTS5; install a build with FTS5 enabled");
  fts5_tokenizer tok{TokCreate, TokDelete, TokTokenize};
  if (api->xCreateTokenizer(api, "ragd", nullptr, &tok, nullptr) != SQLITE_OK)
    return Status::Unavailable("cannot register the ragd FTS5 tokenizer");
  return Status::OK();
}

}  // namespace ragd::store
