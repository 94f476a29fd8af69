// Engine: the registry of knowledge bases (a store::KbCatalog: one folder
// each under the data directory, or a PostgreSQL database), their stores
// and write locks, and the models, opened once and shared. The pipelines
// are the stages' own: ingest/ingest_pipeline, retrieve/search_pipeline,
// store/backup; this file wires them together.
#include "ragd/engine.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/ingest_pipeline.h"
#include "models/serialized_models.h"
#include "recommend/recommend_pipeline.h"
#include "retrieve/search_pipeline.h"
#include "store/backup.h"
#include "store/catalog.h"
#include "store/store.h"

namespace ragd {

namespace fs = std::filesystem;

std::string DefaultDataDir() {
  if (const char* d = std::getenv("RAGD_DATA_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return (fs::path(x) / "ragd").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".local" / "share" / "ragd").string();
  return ".ragd";
}

namespace {

Status ValidateKbName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("a knowledge base name is required (--kb NAME)");
  if (name.size() > 64) return Status::InvalidArgument("knowledge base name is longer than 64 characters");
  if (name[0] == '.' || name[0] == '-')
    return Status::InvalidArgument("knowledge base name '" + name + "' may not start with '.' or '-'");
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
      return Status::InvalidArgument("knowledge base name '" + name + "' may contain only letters, digits, '-', '_' and '.'");
  return Status::OK();
}

}  // namespace

struct Engine::Impl {
  // Guards the maps below and the models' first loading; held only briefly
  // (never across a search or an ingest). Each store locks itself (readers
  // share it, a commit takes it alone), and writers of one knowledge base
  // queue on its writer mutex, then its file lock (other processes).
  std::mutex mu;
  EngineOptions options;
  std::string data_dir;
  std::unique_ptr<store::KbCatalog> catalog;  // where the knowledge bases live
  std::unique_ptr<Embedder> embedder;  // the configured (or default) one
  // Packaged models opened for knowledge bases built with them, by name.
  std::map<std::string, std::unique_ptr<Embedder>> kb_embedders;
  std::unique_ptr<Reranker> reranker;
  // Shared so that a request keeps its store alive while a delete drops it.
  std::map<std::string, std::shared_ptr<store::KbStore>> stores;
  std::map<std::string, std::shared_ptr<std::mutex>> writer_mu;
  // Each knowledge base's recommendation index, built on first use.
  std::map<std::string, std::shared_ptr<recommend::IndexCache>> rec_indexes;

  // The folder of a knowledge base in the data directory (SQLite store
  // only: backups and restores work on it).
  Result<fs::path> KbDir(const std::string& name) const {
    std::optional<std::string> dir = catalog->Directory(name);
    if (!dir)
      return Status::InvalidArgument("knowledge base '" + name + "' is in PostgreSQL (" + catalog->Describe() +
                                     "): back it up with pg_dump, or copy it out with `ragd kb copy` (docs/SCALE.md)");
    return fs::path(*dir);
  }

  Result<Embedder*> GetEmbedder() {
    std::lock_guard lock(mu);
    return EmbedderLocked();
  }

  Result<Embedder*> EmbedderLocked() {
    if (!embedder) {
      RAGD_ASSIGN_OR_RETURN(embedder, OpenWrapped(options.embedder));
    }
    return embedder.get();
  }

  Result<std::unique_ptr<Embedder>> OpenWrapped(const EmbedderOptions& o) {
    RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> e, OpenEmbedder(o));
    if (options.trace) e = TraceEmbedder(std::move(e), BackendName(o.backend.backend), options.trace, options.trace_tags);
    return std::unique_ptr<Embedder>(std::make_unique<models::SerializedEmbedder>(std::move(e)));
  }

  // What a writer of one knowledge base holds: this process's turn, then
  // the catalog's lock (a flock, or a PostgreSQL advisory lock) that keeps
  // other processes out.
  struct WriteLock {
    std::unique_lock<std::mutex> local;
    std::unique_ptr<store::CatalogLock> shared;
  };

  Result<WriteLock> LockForWriting(const std::string& name) {
    std::shared_ptr<std::mutex> m;
    {
      std::lock_guard lock(mu);
      auto& slot = writer_mu[name];
      if (!slot) slot = std::make_shared<std::mutex>();
      m = slot;  // the map keeps it alive
    }
    std::unique_lock<std::mutex> local(*m);
    RAGD_ASSIGN_OR_RETURN(std::unique_ptr<store::CatalogLock> shared, catalog->LockForWriting(name));
    return WriteLock{std::move(local), std::move(shared)};
  }

  void Forget(const std::string& name) {
    std::lock_guard lock(mu);
    stores.erase(name);
    rec_indexes.erase(name);
  }

  // Whether BM25 may run alongside the query embedding: when the embedder is
  // a server (the call is a wait) or leaves a core free. On 2 cores with both
  // busy embedding, a third thread slowed both (hybrid p50 9.0 -> 10.5 ms on
  // SciFact), so there it runs first.
  bool LexicalAlongsideEmbedding() const {
    if (options.embedder.backend.backend != Backend::kLocal) return true;
    static const int cores = static_cast<int>(std::thread::hardware_concurrency());  // read once: glibc reads /sys
    const int threads = options.embedder.backend.threads > 0 ? options.embedder.backend.threads : cores;
    return threads < cores;
  }

  Result<Reranker*> GetReranker() {
    std::lock_guard lock(mu);
    if (!reranker) {
      RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Reranker> r, OpenReranker(*options.reranker));
      if (options.trace) r = TraceReranker(std::move(r), options.trace, options.trace_tags);
      reranker = std::make_unique<models::SerializedReranker>(std::move(r));
    }
    return reranker.get();
  }

  // Opens (and caches) a knowledge base; with create it is made if missing,
  // for the current embedder. A cached one first catches up with what
  // other processes committed (KbStore::Refresh).
  Result<std::shared_ptr<store::KbStore>> OpenKb(const std::string& name, bool create) {
    RAGD_RETURN_IF_ERROR(ValidateKbName(name));
    std::shared_ptr<store::KbStore> kb;
    {
      std::lock_guard lock(mu);
      if (auto it = stores.find(name); it != stores.end()) {
        kb = it->second;
      } else {
        store::StoreOptions so;
        RAGD_ASSIGN_OR_RETURN(bool exists, catalog->Exists(name));
        if (!exists && !create)
          return Status::NotFound("knowledge base '" + name + "' does not exist in " + catalog->Describe() +
                                  " (create it with `ragd ingest PATH --kb " + name + "`)");
        if (!exists) {
          RAGD_ASSIGN_OR_RETURN(Embedder * e, EmbedderLocked());
          so.create = true;
          so.embed_model = e->model_id();
          so.dim = e->dim();
        }
        auto opened = catalog->Open(name, so);
        if (!opened.ok()) return opened.status().WithContext("knowledge base '" + name + "'");
        stores[name] = std::shared_ptr<store::KbStore>(std::move(opened).value());
        return stores[name];
      }
    }
    // Another process (a `ragd ingest` beside `ragd serve`) may have written
    // it, or deleted it (then the cached store goes too).
    if (Status st = kb->Refresh(); !st.ok()) {
      if (st.code() == StatusCode::kNotFound) Forget(name);
      return st.WithContext("knowledge base '" + name + "'");
    }
    return kb;
  }

  // The embedder a knowledge base was built with. When no model was chosen
  // (--embed-model, [embed] model), a knowledge base built with another
  // packaged model gets that one: it keeps its embedder when the default
  // changes or after `kb reembed`. A chosen model must be the knowledge
  // base's.
  Result<Embedder*> EmbedderFor(const std::string& name, store::KbStore* kb) {
    const std::string& built_with = kb->embed_model();
    const std::string packaged = built_with.substr(0, built_with.find('/'));
    const bool chosen = !options.embedder.backend.model.empty() || options.embedder.backend.backend != Backend::kLocal;
    if (!chosen && packaged != kDefaultEmbedModel) {
      std::lock_guard lock(mu);
      auto& slot = kb_embedders[packaged];
      if (!slot) {
        EmbedderOptions o = options.embedder;
        o.backend.model = packaged;
        // Not a packaged model here (a file elsewhere, a server): the
        // message below says to name it.
        if (auto opened = OpenWrapped(o); opened.ok()) slot = std::move(opened).value();
      }
      if (slot && slot->model_id() == built_with) return slot.get();
    }
    RAGD_ASSIGN_OR_RETURN(Embedder * e, GetEmbedder());
    if (built_with != e->model_id())
      return Status::InvalidArgument("knowledge base '" + name + "' was built with the embedding model " +
                                     built_with + ", but the current one is " + e->model_id() +
                                     "; pass the original model with --embed-model, or ingest into a new knowledge base");
    return e;
  }

  // What an ingest holds while it writes one knowledge base: the write
  // lock (readers are not blocked by it), the store, embedder and splitter.
  struct Writer {
    WriteLock lock;
    std::shared_ptr<store::KbStore> kb;
    Embedder* embedder = nullptr;
    std::unique_ptr<ingest::RecursiveSplitter> splitter;
    ingest::IngestTarget target() const { return {kb.get(), embedder, splitter.get()}; }
  };

  // A knowledge base's counts and dates (no scripts: listings stay cheap).
  Result<KbInfo> Info(const std::string& name);

  Result<Writer> OpenWriter(const std::string& kb_name, const SplitOptions& split) {
    RAGD_RETURN_IF_ERROR(ValidateKbName(kb_name));
    RAGD_ASSIGN_OR_RETURN(WriteLock lock, LockForWriting(kb_name));
    Writer w{std::move(lock), nullptr, nullptr, nullptr};
    RAGD_ASSIGN_OR_RETURN(w.kb, OpenKb(kb_name, true));
    RAGD_ASSIGN_OR_RETURN(w.embedder, EmbedderFor(kb_name, w.kb.get()));
    RAGD_ASSIGN_OR_RETURN(ingest::RecursiveSplitter splitter, ingest::MakeSplitter(split, *w.embedder));
    w.splitter = std::make_unique<ingest::RecursiveSplitter>(std::move(splitter));
    return w;
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->data_dir = options.data_dir.empty() ? DefaultDataDir() : options.data_dir;
  if (options.store_url.empty() || options.store_url == "sqlite") {
    RAGD_ASSIGN_OR_RETURN(impl->catalog, store::OpenDirCatalog(impl->data_dir));
  } else if (store::IsPostgresUrl(options.store_url)) {
    RAGD_ASSIGN_OR_RETURN(impl->catalog, store::OpenPgCatalog(options.store_url));
  } else {
    return Status::InvalidArgument("unknown store '" + options.store_url +
                                   "': use postgres://user@host:port/db, or leave it empty for the data directory");
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const std::string& Engine::data_dir() const { return impl_->data_dir; }

std::string Engine::store() const { return impl_->catalog->Describe(); }

Result<Embedder*> Engine::embedder() {
  return impl_->GetEmbedder();
}

Result<std::unique_ptr<ChatModel>> Engine::OpenChatModel(const BackendOptions& options) {
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<ChatModel> model, ragd::OpenChatModel(options));
  if (impl_->options.trace) model = TraceChatModel(std::move(model), impl_->options.trace, impl_->options.trace_tags);
  return model;
}

namespace {

// Embedders trained on English only: Chinese documents get vectors close to noise.
bool EnglishOnlyEmbedder(const std::string& model_id) { return model_id.starts_with("all-MiniLM-L6-v2/"); }

// Each document's dominant script, from its first two chunks, as shares.
Result<std::map<std::string, double>> ScriptShares(store::KbStore& kb) {
  RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, kb.ListDocuments());
  std::map<std::string, double> shares;
  int64_t counted = 0;
  for (const auto& d : docs) {
    RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb.GetChunkRange(d.doc_id, 0, 1));
    std::string head;
    for (const auto& c : chunks) head += c.text;
    std::string_view script = text::DominantScript(head);
    if (script.empty()) continue;
    shares[std::string(script)] += 1;
    ++counted;
  }
  for (auto& [script, n] : shares) n /= static_cast<double>(counted);
  return shares;
}

}  // namespace

Result<KbInfo> Engine::GetKnowledgeBase(const std::string& name) {
  RAGD_ASSIGN_OR_RETURN(KbInfo info, impl_->Info(name));
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(name, false));
  RAGD_ASSIGN_OR_RETURN(info.scripts, ScriptShares(*kb));
  auto cjk = info.scripts.find("cjk");
  if (cjk != info.scripts.end() && cjk->second >= 0.2 && EnglishOnlyEmbedder(info.embed_model)) {
    char share[16];
    std::snprintf(share, sizeof share, "%.0f%%", 100 * cjk->second);
    info.language_warning = std::string(share) + " of the documents are Chinese, Japanese or Korean, but " +
                            info.embed_model + " reads English only (dense search cannot find them): " +
                            "`ragd kb reembed " + name + " --embed-model multilingual-e5-small`";
  }
  return info;
}

Result<KbInfo> Engine::Impl::Info(const std::string& name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, OpenKb(name, false));
  RAGD_ASSIGN_OR_RETURN(store::StoreStats s, kb->Stats());
  KbInfo info;
  info.name = name;
  info.path = catalog->Location(name);
  info.documents = s.documents;
  info.chunks = s.chunks;
  info.embed_model = s.embed_model;
  info.schema_version = s.schema_version;
  info.bytes_on_disk = catalog->BytesUsed(name);
  info.created_at = s.created_at;
  info.updated_at = s.updated_at;
  return info;
}

Status Engine::CheckKnowledgeBase(const std::string& name) {
  return impl_->OpenKb(name, false).status();
}

Status Engine::VerifyKnowledgeBase(const std::string& name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(name, false));
  return kb->CheckConsistency().WithContext("knowledge base '" + name + "'");
}

Status Engine::BackupKnowledgeBase(const std::string& name, const std::string& dest) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(name, false));
  RAGD_ASSIGN_OR_RETURN(fs::path dir, impl_->KbDir(name));
  return store::BackupKnowledgeBase(*kb, dir.string(), dest)
      .WithContext("backup of knowledge base '" + name + "'");
}

Status Engine::RestoreKnowledgeBase(const std::string& backup, const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  RAGD_ASSIGN_OR_RETURN(const fs::path dir, impl_->KbDir(name));
  const fs::path partial = fs::path(impl_->data_dir) / ("." + name + ".restoring");
  RAGD_RETURN_IF_ERROR(store::CopyBackupInto(backup, dir.string(), partial.string()));
  // Opening rebuilds the vector index from the database; then check it all.
  auto kb = impl_->OpenKb(name, false);
  Status st = kb.ok() ? (*kb)->CheckConsistency() : kb.status();
  if (!st.ok()) {
    impl_->Forget(name);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return st.WithContext("restored knowledge base '" + name + "' (removed again)");
  }
  return (*kb)->Flush();
}

Result<std::vector<KbInfo>> Engine::ListKnowledgeBases() {
  std::vector<KbInfo> out;
  RAGD_ASSIGN_OR_RETURN(std::vector<std::string> names, impl_->catalog->List());
  for (const auto& n : names) {
    auto info = impl_->Info(n);
    if (!info.ok()) return info.status();
    out.push_back(std::move(info).value());
  }
  return out;
}

Status Engine::DeleteKnowledgeBase(const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  RAGD_ASSIGN_OR_RETURN(bool exists, impl_->catalog->Exists(name));
  if (!exists) return Status::NotFound("knowledge base '" + name + "' does not exist in " + impl_->catalog->Describe());
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(name));
  impl_->Forget(name);
  return impl_->catalog->Drop(name);
}

Result<CopyReport> Engine::CopyKnowledgeBase(const std::string& name, const std::string& to,
                                             const std::string& to_name, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dest_name = to_name.empty() ? name : to_name;
  RAGD_RETURN_IF_ERROR(ValidateKbName(dest_name));
  if (to.empty()) return Status::InvalidArgument("copy where? --to postgres://... or a data directory");
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> src, impl_->OpenKb(name, false));
  std::unique_ptr<store::KbCatalog> dest_catalog;
  if (store::IsPostgresUrl(to)) {
    RAGD_ASSIGN_OR_RETURN(dest_catalog, store::OpenPgCatalog(to));
  } else {
    RAGD_ASSIGN_OR_RETURN(dest_catalog, store::OpenDirCatalog(to));
  }
  CopyReport r;
  r.from = impl_->catalog->Location(name);
  r.to = dest_catalog->Location(dest_name);
  if (r.from == r.to) return Status::InvalidArgument("a knowledge base cannot be copied onto itself (" + r.from + ")");
  // The source's writers wait until the copy is done: one consistent state.
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock src_lock, impl_->LockForWriting(name));
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<store::CatalogLock> dest_lock, dest_catalog->LockForWriting(dest_name));
  RAGD_ASSIGN_OR_RETURN(bool exists, dest_catalog->Exists(dest_name));
  if (exists)
    return Status::AlreadyExists("knowledge base '" + dest_name + "' already exists in " + dest_catalog->Describe() +
                                 ": delete it there first, or copy under another name (--as)");
  RAGD_RETURN_IF_ERROR(src->Refresh());
  RAGD_ASSIGN_OR_RETURN(store::StoreStats stats, src->Stats());
  store::StoreOptions so;
  so.create = true;
  so.embed_model = stats.embed_model;
  so.dim = stats.dim;
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<store::KbStore> dest, dest_catalog->Open(dest_name, so));
  Status st = [&]() -> Status {
    RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, src->ListDocuments());
    RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredTable> tables, src->ListTables());
    std::map<std::string, store::TableData> table_of;
    for (auto& t : tables) table_of[t.doc_id] = std::move(t.data);
    // Batches of about 512 chunks: each one commit on the other side.
    std::vector<store::DocumentWrite> batch;
    size_t batch_chunks = 0;
    IngestProgress p{0, static_cast<int64_t>(docs.size()), 0, r.to};
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      RAGD_RETURN_IF_ERROR(dest->Commit(batch, {}));
      batch.clear();
      batch_chunks = 0;
      if (progress) progress(p);
      return Status::OK();
    };
    for (const auto& listed : docs) {
      RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, src->FindDocument(listed.doc_id));
      if (!d) return Status::Corruption("document " + listed.doc_id + " vanished while copying");
      RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, src->ListChunks(d->doc_id));
      std::vector<int64_t> ids;
      for (const auto& c : chunks) ids.push_back(c.id);
      store::DocumentWrite w;
      RAGD_ASSIGN_OR_RETURN(w.embeddings, src->GetVectors(ids));
      w.doc_id = d->doc_id;
      w.source = d->source;
      w.mime = d->mime;
      w.title = d->title;
      w.content_hash = d->content_hash;
      w.size_bytes = d->size_bytes;
      w.mtime = d->mtime;
      w.metadata = d->metadata;
      for (auto& c : chunks)
        w.chunks.push_back({std::move(c.text), c.chunk_index, c.page, std::move(c.heading_path), c.char_start, c.char_end,
                            c.row, c.ocr_confidence});
      if (auto t = table_of.find(d->doc_id); t != table_of.end()) {
        w.table = std::move(t->second);
      } else {
        RAGD_ASSIGN_OR_RETURN(bool recorded, src->HasTable(d->doc_id));
        if (recorded) w.table = store::TableData{};  // not tabular, and known to be
      }
      batch_chunks += w.chunks.size();
      p.done += 1;
      p.chunks += static_cast<int64_t>(w.chunks.size());
      batch.push_back(std::move(w));
      if (batch_chunks >= 512) RAGD_RETURN_IF_ERROR(flush());
    }
    RAGD_RETURN_IF_ERROR(flush());
    r.documents = p.done;
    r.chunks = p.chunks;
    // What Commit does not carry: kept summaries, settings, interactions.
    for (const auto& d : docs) {
      RAGD_ASSIGN_OR_RETURN(std::optional<std::string> summary, src->KeptSummary(d.doc_id));
      if (summary) RAGD_RETURN_IF_ERROR(dest->KeepSummary(d.doc_id, *summary));
    }
    RAGD_ASSIGN_OR_RETURN(auto settings, src->GetSettings());
    for (const auto& [key, value] : settings) RAGD_RETURN_IF_ERROR(dest->SetSetting(key, value));
    RAGD_ASSIGN_OR_RETURN(std::vector<Interaction> interactions, src->ListInteractions());
    if (!interactions.empty()) RAGD_RETURN_IF_ERROR(dest->AddInteractions(interactions));
    r.interactions = static_cast<int64_t>(interactions.size());
    RAGD_RETURN_IF_ERROR(dest->Flush());
    return dest->CheckConsistency();
  }();
  if (!st.ok()) {
    // Nothing half-copied stays behind: the source is untouched either way.
    dest.reset();
    (void)dest_catalog->Drop(dest_name);
    return st.WithContext("copy of knowledge base '" + name + "' to " + r.to + " (the partial copy was removed)");
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

Result<KbInfo> Engine::CreateKnowledgeBase(const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  // Checked under the write lock, so two creators (two processes) cannot both succeed.
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(name));
  RAGD_ASSIGN_OR_RETURN(bool exists, impl_->catalog->Exists(name));
  if (exists)
    return Status::AlreadyExists("knowledge base '" + name + "' already exists");
  RAGD_RETURN_IF_ERROR(impl_->OpenKb(name, true).status());
  return GetKnowledgeBase(name);
}

Result<std::vector<DocumentInfo>> Engine::ListDocuments(const std::string& kb_name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, kb->ListDocuments());
  std::vector<DocumentInfo> out;
  for (auto& d : docs)
    out.push_back({std::move(d.doc_id), std::move(d.source), std::move(d.mime), std::move(d.title), d.size_bytes,
                   d.chunk_count, std::move(d.ingested_at)});
  return out;
}

Result<std::vector<std::string>> Engine::FindDocuments(const std::string& kb_name,
                                                       std::span<const FilterCondition> filter) {
  for (const auto& f : filter) RAGD_RETURN_IF_ERROR(ValidateFilterCondition(f));
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->MatchingDocuments(filter);
}

Result<DocumentDetail> Engine::GetDocument(const std::string& kb_name, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, kb->FindDocument(doc_id));
  if (!d) return Status::NotFound("knowledge base '" + kb_name + "' has no document '" + doc_id + "'");
  DocumentDetail out;
  out.info = {d->doc_id, d->source, d->mime, d->title, d->size_bytes, d->chunk_count, d->ingested_at, d->metadata};
  RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb->ListChunks(doc_id));
  for (auto& c : chunks)
    out.chunks.push_back({c.id, c.chunk_index, c.page, std::move(c.heading_path), c.row, c.char_start, c.char_end,
                          std::move(c.text), c.ocr_confidence});
  return out;
}

Result<std::optional<std::string>> Engine::KeptSummary(const std::string& kb_name, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  Result<std::optional<std::string>> s = kb->KeptSummary(doc_id);
  if (!s.ok() && s.status().code() == StatusCode::kNotFound)
    return Status::NotFound("knowledge base '" + kb_name + "' has no document '" + doc_id + "'");
  return s;
}

Status Engine::KeepSummary(const std::string& kb_name, const std::string& doc_id, const std::string& summary_json) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->KeepSummary(doc_id, summary_json);
}

Result<std::optional<std::string>> Engine::LoadSession(const std::string& kb_name, const std::string& id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->LoadSession(id);
}

Status Engine::SaveSession(const std::string& kb_name, const std::string& id, const std::string& body) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->SaveSession(id, body);
}

Result<std::vector<std::string>> Engine::ListSessions(const std::string& kb_name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->ListSessions();
}

Result<bool> Engine::DeleteSession(const std::string& kb_name, const std::string& id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->DeleteSession(id);
}

Result<InteractionImportReport> Engine::ImportInteractions(const std::string& kb_name,
                                                          std::span<const Interaction> rows) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(kb_name));
  return recommend::ImportInteractions(*kb, rows);
}

Result<RecommendResult> Engine::Recommend(const RecommendOptions& options) {
  RAGD_RETURN_IF_ERROR(recommend::CheckRecommendOptions(options));
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(options.kb, false));
  std::shared_ptr<recommend::IndexCache> cache;
  {
    std::lock_guard lock(impl_->mu);
    auto& c = impl_->rec_indexes[options.kb];
    if (!c) c = std::make_shared<recommend::IndexCache>();
    cache = c;
  }
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<const recommend::RecIndex> index, cache->Get(*kb));
  recommend::Lookups lookups;
  lookups.filter = [&](std::span<const FilterCondition> filters) { return kb->MatchingDocuments(filters); };
  lookups.search = [&](const std::string& query, int k) -> Result<std::vector<std::string>> {
    SearchOptions s;
    s.kb = options.kb;
    s.query = query;
    s.k = std::min(k, 100);
    s.filters = options.filters;
    RAGD_ASSIGN_OR_RETURN(SearchResponse r, Search(s));
    std::vector<std::string> ids;
    for (const auto& h : r.hits)
      if (std::find(ids.begin(), ids.end(), h.doc_id) == ids.end()) ids.push_back(h.doc_id);
    return ids;
  };
  return recommend::Recommend(*index, options, lookups);
}

Result<std::vector<KbTable>> Engine::ListTables(const std::string& kb_name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredTable> tables, kb->ListTables());
  std::vector<KbTable> out;
  for (auto& t : tables)
    out.push_back({std::move(t.doc_id), std::move(t.source), std::move(t.title), std::move(t.data.columns),
                   std::move(t.data.rows)});
  return out;
}

Status Engine::DeleteDocument(const std::string& kb_name, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(kb_name));
  RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, kb->FindDocument(doc_id));
  if (!d) return Status::NotFound("knowledge base '" + kb_name + "' has no document '" + doc_id + "'");
  return ingest::DeleteDocument(*kb, doc_id);
}

Result<IngestReport> Engine::IngestFiles(const IngestOptions& options, const ProgressFn& progress) {
  RAGD_RETURN_IF_ERROR(ingest::CheckIngestOptions(options));
  RAGD_ASSIGN_OR_RETURN(Impl::Writer w, impl_->OpenWriter(options.kb, options.split));
  return ingest::IngestFiles(w.target(), options, progress);
}

Result<IngestReport> Engine::IngestDocuments(const std::string& kb_name, std::span<const SourceDocument> docs,
                                             const SplitOptions& split, const ProgressFn& progress) {
  RAGD_ASSIGN_OR_RETURN(Impl::Writer w, impl_->OpenWriter(kb_name, split));
  return ingest::IngestDocuments(w.target(), docs, progress);
}

Result<SearchResponse> Engine::Search(const SearchOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  RAGD_RETURN_IF_ERROR(retrieve::CheckSearchOptions(options));
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(options.kb, false));
  retrieve::SearchModels models;
  models.embedder = [&]() { return impl_->EmbedderFor(options.kb, kb.get()); };
  if (impl_->options.reranker) models.reranker = [&]() { return impl_->GetReranker(); };
  models.lexical_alongside_embedding = impl_->LexicalAlongsideEmbedding();
  RAGD_ASSIGN_OR_RETURN(SearchResponse resp, retrieve::Search(*kb, options, models));
  resp.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return resp;
}

Result<ReembedReport> Engine::ReembedKnowledgeBase(const std::string& kb_name, const EmbedderOptions& to,
                                                   const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, impl_->OpenWrapped(to));
  ReembedReport r;
  r.to = embedder->model_id();
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock lock, impl_->LockForWriting(kb_name));
  RAGD_RETURN_IF_ERROR(kb->Refresh());
  r.from = kb->embed_model();
  if (r.from == r.to)
    return Status::InvalidArgument("knowledge base '" + kb_name + "' already uses the embedding model " + r.to);
  RAGD_ASSIGN_OR_RETURN(std::vector<int64_t> todo, kb->ChunksToStage(r.to));
  RAGD_ASSIGN_OR_RETURN(store::StoreStats stats, kb->Stats());
  r.chunks = stats.chunks;
  r.resumed = r.chunks - static_cast<int64_t>(todo.size());
  // Batches of 64 chunks: each is one commit, so a stop loses at most one.
  constexpr size_t kBatch = 64;
  const int dim = embedder->dim();
  IngestProgress p{0, static_cast<int64_t>(todo.size()), 0, r.to};
  for (size_t i = 0; i < todo.size(); i += kBatch) {
    std::span<const int64_t> ids(todo.data() + i, std::min(kBatch, todo.size() - i));
    RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb->GetChunks(ids));
    if (chunks.size() != ids.size())
      return Status::Corruption("knowledge base '" + kb_name + "': chunks vanished while re-embedding");
    std::vector<std::string> texts;
    for (auto& c : chunks) texts.push_back(std::move(c.text));
    std::vector<float> vecs(texts.size() * static_cast<size_t>(dim));
    RAGD_RETURN_IF_ERROR(embedder->Embed(texts, EmbedKind::kPassage, vecs.data()));
    RAGD_RETURN_IF_ERROR(kb->StageVectors(r.to, dim, ids, vecs));
    r.embedded += static_cast<int64_t>(ids.size());
    p.done = r.embedded;
    p.chunks = r.embedded;
    if (progress) progress(p);
  }
  RAGD_RETURN_IF_ERROR(kb->SwapStagedVectors(r.to, dim).WithContext("knowledge base '" + kb_name + "'"));
  RAGD_RETURN_IF_ERROR(kb->Flush());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

Status Engine::SetKbSetting(const std::string& kb_name, const std::string& key, const std::string& value) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_RETURN_IF_ERROR(retrieve::CheckSearchSetting(key, value));
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(kb_name));
  return kb->SetSetting(key, value);
}

Result<std::map<std::string, std::string>> Engine::GetKbSettings(const std::string& kb_name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->GetSettings();
}

}  // namespace ragd
