// Engine: knowledge-base directories, the ingest loop and search. The
// pipeline stages live in their own folders (ingest/, store/, retrieve/,
// models/); this file wires them together.
#include "ragd/engine.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "engine/kb_lock.h"
#include "ingest/chunker.h"
#include "ingest/document.h"
#include "ingest/splitter.h"
#include "retrieve/fusion.h"
#include "store/store.h"

namespace ragd {

namespace fs = std::filesystem;

std::string DefaultDataDir() {
  if (const char* d = std::getenv("RAGD_DATA_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return (fs::path(x) / "ragd").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".local" / "share" / "ragd").string();
  return ".ragd";
}

const char* SearchModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kBm25: return "bm25";
    case SearchMode::kDense: return "dense";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "?";
}

Result<SearchMode> ParseSearchMode(const std::string& name) {
  if (name == "bm25" || name == "lexical") return SearchMode::kBm25;
  if (name == "dense" || name == "vector") return SearchMode::kDense;
  if (name == "hybrid") return SearchMode::kHybrid;
  return Status::InvalidArgument("unknown search mode '" + name + "' (use bm25, dense or hybrid)");
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

// The content hash that decides "unchanged": the text, plus the metadata
// when there is any, so re-ingesting with other --meta values updates the
// document (documents without metadata keep their plain content hash).
std::string DocumentHash(std::string_view content, const std::map<std::string, std::string>& metadata) {
  if (metadata.empty()) return files::ContentHash(content);
  std::string all(content);
  for (const auto& [key, value] : metadata) all += std::string("\0meta\0", 6) + key + '\0' + value;
  return files::ContentHash(all);
}

int64_t DirBytes(const fs::path& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  return total;
}

// A file found under the ingest paths, or the reason it could not be listed.
struct FoundFile {
  std::string path;  // canonical
  Status status;
};

bool IsHidden(const fs::path& p) {
  std::string name = p.filename().string();
  return name.size() > 1 && name[0] == '.';
}

void CollectFiles(const std::string& input, std::vector<FoundFile>* out) {
  std::error_code ec;
  fs::path p(input);
  fs::file_status st = fs::status(p, ec);
  if (ec || !fs::exists(st)) {
    if (fs::is_symlink(fs::symlink_status(p, ec)))
      out->push_back({input, Status::NotFound(input + " is a dangling or looping symbolic link")});
    else
      out->push_back({input, Status::NotFound("no such file or directory: " + input)});
    return;
  }
  if (fs::is_regular_file(st)) {
    out->push_back({fs::canonical(p, ec).string(), Status::OK()});
    return;
  }
  if (!fs::is_directory(st)) {
    out->push_back({input, Status::InvalidArgument(input + " is neither a regular file nor a directory")});
    return;
  }
  // Symlinked directories are not followed: no loops, no escaping the tree.
  auto it = fs::recursive_directory_iterator(p, fs::directory_options::none, ec);
  if (ec) {
    out->push_back({input, Status::IOError("cannot read directory " + input + ": " + ec.message())});
    return;
  }
  for (; it != fs::recursive_directory_iterator(); ) {
    const fs::directory_entry& e = *it;
    std::error_code eec;
    if (IsHidden(e.path())) {
      if (e.is_directory(eec)) it.disable_recursion_pending();
    } else if (e.is_symlink(eec)) {
      fs::file_status target = fs::status(e.path(), eec);
      if (eec || !fs::exists(target))
        out->push_back({e.path().string(), Status::NotFound(e.path().string() + " is a dangling or looping symbolic link")});
      else if (fs::is_regular_file(target))
        out->push_back({fs::canonical(e.path(), eec).string(), Status::OK()});
    } else if (e.is_regular_file(eec)) {
      // Canonical, so a file reached through different spellings of its
      // folder is one document.
      fs::path canon = fs::canonical(e.path(), eec);
      out->push_back({(eec ? fs::absolute(e.path()).lexically_normal() : canon).string(), Status::OK()});
    } else if (e.is_directory(eec) && ::access(e.path().c_str(), R_OK | X_OK) != 0) {
      out->push_back({e.path().string(), Status::IOError("permission denied: cannot read directory " + e.path().string())});
      it.disable_recursion_pending();
    }
    it.increment(ec);
    if (ec) {
      out->push_back({input, Status::IOError("error while walking " + input + ": " + ec.message())});
      break;
    }
  }
}

}  // namespace

// The models are not thread-safe (a llama.cpp context is one caller's at a
// time): the engine hands out these wrappers, which let one call in at once.
// A plain mutex, not a FIFO one: served in arrival order, 8 searching clients
// stretched a 41 s upload to 494 s on 2 cores (the search p99 fell from 38 s
// to 6 s); docs/DECISIONS.md has the measurements.
class SerializedEmbedder final : public Embedder {
 public:
  explicit SerializedEmbedder(std::unique_ptr<Embedder> inner) : inner_(std::move(inner)) {}
  Status Embed(std::span<const std::string> texts, EmbedKind kind, float* out) override {
    std::lock_guard lock(mu_);
    return inner_->Embed(texts, kind, out);
  }
  Result<int> CountTokens(std::string_view text) override {
    std::lock_guard lock(mu_);
    return inner_->CountTokens(text);
  }
  int dim() const override { return inner_->dim(); }
  int max_tokens() const override { return inner_->max_tokens(); }
  std::string model_id() const override { return inner_->model_id(); }

 private:
  std::unique_ptr<Embedder> inner_;
  std::mutex mu_;
};

class SerializedReranker final : public Reranker {
 public:
  explicit SerializedReranker(std::unique_ptr<Reranker> inner) : inner_(std::move(inner)) {}
  Result<std::vector<double>> Rerank(std::string_view query, std::span<const std::string> documents) override {
    std::lock_guard lock(mu_);
    return inner_->Rerank(query, documents);
  }
  std::string backend() const override { return inner_->backend(); }
  std::string model() const override { return inner_->model(); }

 private:
  std::unique_ptr<Reranker> inner_;
  std::mutex mu_;
};

struct Engine::Impl {
  // Guards the maps below and the models' first loading; held only briefly
  // (never across a search or an ingest). Each store locks itself (readers
  // share it, a commit takes it alone), and writers of one knowledge base
  // queue on its writer mutex, then its file lock (other processes).
  std::mutex mu;
  EngineOptions options;
  std::string data_dir;
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<Reranker> reranker;
  // Shared so that a request keeps its store alive while a delete drops it.
  std::map<std::string, std::shared_ptr<store::KbStore>> stores;
  std::map<std::string, std::shared_ptr<std::mutex>> writer_mu;

  fs::path KbDir(const std::string& name) const { return fs::path(data_dir) / name; }

  Result<Embedder*> GetEmbedder() {
    std::lock_guard lock(mu);
    return EmbedderLocked();
  }

  Result<Embedder*> EmbedderLocked() {
    if (!embedder) {
      RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> e, OpenEmbedder(options.embed_backend, options.embedder));
      if (options.trace) e = TraceEmbedder(std::move(e), options.embed_backend.backend, options.trace, options.trace_tags);
      embedder = std::make_unique<SerializedEmbedder>(std::move(e));
    }
    return embedder.get();
  }

  // What a writer of one knowledge base holds: this process's turn, then
  // the file lock that keeps other processes out.
  struct WriteLock {
    std::unique_lock<std::mutex> local;
    KbLock file;
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
    RAGD_ASSIGN_OR_RETURN(KbLock file, KbLock::Acquire(KbDir(name).string(), name));
    return WriteLock{std::move(local), std::move(file)};
  }

  void Forget(const std::string& name) {
    std::lock_guard lock(mu);
    stores.erase(name);
  }

  // Whether BM25 may run alongside the query embedding: when the embedder is
  // a server (the call is a wait) or leaves a core free. On 2 cores with both
  // busy embedding, a third thread slowed both (hybrid p50 9.0 -> 10.5 ms on
  // SciFact), so there it runs first.
  bool LexicalAlongsideEmbedding() const {
    if (options.embed_backend.backend != "local") return true;
    static const int cores = static_cast<int>(std::thread::hardware_concurrency());  // read once: glibc reads /sys
    const int threads = options.embedder.threads > 0 ? options.embedder.threads : cores;
    return threads < cores;
  }

  Result<Reranker*> GetReranker() {
    std::lock_guard lock(mu);
    if (!reranker) {
      RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Reranker> r, OpenReranker(*options.reranker));
      if (options.trace) r = TraceReranker(std::move(r), options.trace, options.trace_tags);
      reranker = std::make_unique<SerializedReranker>(std::move(r));
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
        fs::path dir = KbDir(name);
        std::error_code ec;
        bool exists = fs::exists(dir / store::kDatabaseFile, ec);
        if (!exists && !create)
          return Status::NotFound("knowledge base '" + name + "' does not exist in " + data_dir +
                                  " (create it with `ragd ingest PATH --kb " + name + "`)");
        if (!exists) {
          RAGD_ASSIGN_OR_RETURN(Embedder * e, EmbedderLocked());
          so.create = true;
          so.embed_model = e->model_id();
          so.dim = e->dim();
        }
        auto opened = store::OpenSqliteStore(dir.string(), so);
        if (!opened.ok()) return opened.status().WithContext("knowledge base '" + name + "'");
        stores[name] = std::shared_ptr<store::KbStore>(std::move(opened).value());
        return stores[name];
      }
    }
    // Another process (a `ragd ingest` beside `ragd serve`) may have written it.
    RAGD_RETURN_IF_ERROR(kb->Refresh().WithContext("knowledge base '" + name + "'"));
    return kb;
  }

  // The current embedder must be the one the knowledge base was built with.
  Result<Embedder*> EmbedderFor(const std::string& name, store::KbStore* kb) {
    RAGD_ASSIGN_OR_RETURN(Embedder * e, GetEmbedder());
    if (kb->embed_model() != e->model_id())
      return Status::InvalidArgument("knowledge base '" + name + "' was built with the embedding model " +
                                     kb->embed_model() + ", but the current one is " + e->model_id() +
                                     "; pass the original model with --embed-model, or ingest into a new knowledge base");
    return e;
  }

  Result<ingest::RecursiveSplitter> MakeSplitter(const SplitOptions& split) {
    ingest::SplitterOptions so;
    if (split.unit == ChunkUnit::kTokens) {
      RAGD_ASSIGN_OR_RETURN(Embedder * e, GetEmbedder());
      int window = e->max_tokens() - 2;  // room for [CLS] and [SEP]
      so.chunk_size = split.chunk_size > 0 ? split.chunk_size : std::min(200, window);
      if (static_cast<int>(so.chunk_size) > window)
        return Status::InvalidArgument("chunk size " + std::to_string(so.chunk_size) + " tokens exceeds the embedding model's window of " +
                                       std::to_string(window) + " tokens");
      so.length = [e](std::string_view s) -> size_t {
        auto n = e->CountTokens(s);
        return n.ok() ? static_cast<size_t>(n.value()) : ingest::CodePointLength(s);
      };
    } else {
      so.chunk_size = split.chunk_size > 0 ? split.chunk_size : 1000;
    }
    if (split.chunk_overlap >= 0 && static_cast<size_t>(split.chunk_overlap) >= so.chunk_size)
      return Status::InvalidArgument("chunk overlap must be smaller than the chunk size");
    so.chunk_overlap = split.chunk_overlap >= 0 ? split.chunk_overlap : so.chunk_size * 15 / 100;
    return ingest::RecursiveSplitter(so);
  }

  // What an ingest holds while it writes one knowledge base.
  struct Writer {
    explicit Writer(WriteLock l) : lock(std::move(l)) {}
    WriteLock lock;  // held until the ingest ends; readers are not blocked by it
    Embedder* embedder = nullptr;
    std::shared_ptr<store::KbStore> kb;
    std::optional<ingest::RecursiveSplitter> splitter;
    std::vector<store::DocumentWrite> pending;
    size_t pending_chunks = 0;
    size_t batch_docs = 64;
    std::function<void(std::span<const std::string>)> on_commit;  // IngestOptions::on_commit
  };

  // Embeds all chunks of the pending documents at once (full batches for
  // the model) and commits them, with `removes`, in one transaction.
  Status CommitBatch(Writer& w, const std::vector<std::string>& removes, IngestReport* report) {
    if (w.pending.empty() && removes.empty()) return Status::OK();
    Embedder* e = w.embedder;
    std::vector<std::string> texts;
    for (const auto& d : w.pending)
      for (const auto& c : d.chunks) texts.push_back(c.text);
    std::vector<float> vecs(texts.size() * static_cast<size_t>(e->dim()));
    // In slices: the embedder serves one call at a time, and a search's
    // query embedding gets its turn between two slices instead of waiting
    // for the whole batch.
    constexpr size_t kSlice = 32;
    for (size_t i = 0; i < texts.size(); i += kSlice) {
      const size_t n = std::min(kSlice, texts.size() - i);
      RAGD_RETURN_IF_ERROR(e->Embed(std::span<const std::string>(texts).subspan(i, n), EmbedKind::kPassage,
                                    vecs.data() + i * e->dim()));
    }
    size_t off = 0;
    for (auto& d : w.pending) {
      size_t n = d.chunks.size() * e->dim();
      d.embeddings.assign(vecs.begin() + off, vecs.begin() + off + n);
      off += n;
    }
    RAGD_RETURN_IF_ERROR(w.kb->Commit(w.pending, removes));
    std::vector<std::string> ids = removes;
    for (const auto& d : w.pending) {
      report->chunks_written += static_cast<int64_t>(d.chunks.size());
      ids.push_back(d.doc_id);
    }
    w.pending.clear();
    if (w.on_commit) w.on_commit(ids);
    return Status::OK();
  }

  Result<std::unique_ptr<Writer>> OpenWriter(const std::string& kb_name, const SplitOptions& split, size_t batch_docs) {
    RAGD_RETURN_IF_ERROR(ValidateKbName(kb_name));
    RAGD_ASSIGN_OR_RETURN(Embedder * e, GetEmbedder());
    std::error_code ec;
    fs::create_directories(KbDir(kb_name), ec);
    if (ec) return Status::IOError("cannot create " + KbDir(kb_name).string() + ": " + ec.message());
    RAGD_ASSIGN_OR_RETURN(WriteLock lock, LockForWriting(kb_name));
    auto w = std::make_unique<Writer>(std::move(lock));
    w->embedder = e;
    w->batch_docs = batch_docs;
    RAGD_ASSIGN_OR_RETURN(w->kb, OpenKb(kb_name, true));
    RAGD_RETURN_IF_ERROR(EmbedderFor(kb_name, w->kb.get()).status());
    RAGD_ASSIGN_OR_RETURN(ingest::RecursiveSplitter splitter, MakeSplitter(split));
    w->splitter.emplace(std::move(splitter));
    return w;
  }

  // Queues a document; a full batch (by documents or 512 chunks) commits.
  Status Stage(Writer& w, store::DocumentWrite doc, IngestReport* report) {
    w.pending_chunks += doc.chunks.size();
    w.pending.push_back(std::move(doc));
    if (w.pending.size() < w.batch_docs && w.pending_chunks < 512) return Status::OK();
    w.pending_chunks = 0;
    return CommitBatch(w, {}, report);
  }

  // Commits what is left (and the removals), then saves the vector index.
  Status Finish(Writer& w, const std::vector<std::string>& removes, IngestReport* report) {
    RAGD_RETURN_IF_ERROR(CommitBatch(w, removes, report));
    return w.kb->Flush();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->data_dir = options.data_dir.empty() ? DefaultDataDir() : options.data_dir;
  std::error_code ec;
  fs::create_directories(impl->data_dir, ec);
  if (ec) return Status::IOError("cannot create the data directory " + impl->data_dir + ": " + ec.message());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const std::string& Engine::data_dir() const { return impl_->data_dir; }

Result<Embedder*> Engine::embedder() {
  return impl_->GetEmbedder();
}

Result<KbInfo> Engine::GetKnowledgeBase(const std::string& name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(name, false));
  RAGD_ASSIGN_OR_RETURN(store::StoreStats s, kb->Stats());
  KbInfo info;
  info.name = name;
  info.path = impl_->KbDir(name).string();
  info.documents = s.documents;
  info.chunks = s.chunks;
  info.embed_model = s.embed_model;
  info.schema_version = s.schema_version;
  info.bytes_on_disk = DirBytes(impl_->KbDir(name));
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

namespace {

// Copies the folders a knowledge base keeps beside its database. Their
// files are each replaced atomically, so each copy is a whole file.
Status CopyAside(const fs::path& from, const fs::path& to) {
  for (const char* sub : {"sessions", "uploads"}) {
    std::error_code ec;
    if (!fs::exists(from / sub, ec)) continue;
    fs::copy(from / sub, to / sub, fs::copy_options::recursive, ec);
    if (ec) return Status::IOError("cannot copy " + (from / sub).string() + " to " + (to / sub).string() + ": " + ec.message());
  }
  return Status::OK();
}

}  // namespace

Status Engine::BackupKnowledgeBase(const std::string& name, const std::string& dest) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(name, false));
  std::error_code ec;
  fs::path target = fs::absolute(dest, ec);
  if (dest.empty() || ec) return Status::InvalidArgument("backup folder '" + dest + "' is not a usable path");
  if (fs::exists(target, ec)) return Status::AlreadyExists(target.string() + " already exists: back up into a new folder");
  // Built beside the target and renamed: a backup cut short never looks whole.
  fs::path partial = target.string() + ".partial";
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) return Status::IOError("cannot create " + partial.string() + ": " + ec.message());
  Status st = kb->BackupTo((partial / store::kDatabaseFile).string());
  if (st.ok()) st = CopyAside(impl_->KbDir(name), partial);
  if (st.ok()) st = files::SyncTree(partial.string());
  if (st.ok()) {
    fs::rename(partial, target, ec);
    if (ec) st = Status::IOError("cannot rename " + partial.string() + " to " + target.string() + ": " + ec.message());
  }
  if (!st.ok()) fs::remove_all(partial, ec);
  return st.WithContext("backup of knowledge base '" + name + "'");
}

Status Engine::RestoreKnowledgeBase(const std::string& backup, const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  std::error_code ec;
  fs::path from(backup);
  if (!fs::is_regular_file(from / store::kDatabaseFile, ec))
    return Status::NotFound(backup + " is not a ragd backup (it has no " + store::kDatabaseFile + ")");
  fs::path dir = impl_->KbDir(name);
  if (fs::exists(dir, ec))
    return Status::AlreadyExists("knowledge base '" + name + "' already exists: restore under a new name, or delete it first");
  fs::path partial = fs::path(impl_->data_dir) / ("." + name + ".restoring");
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) return Status::IOError("cannot create " + partial.string() + ": " + ec.message());
  fs::copy_file(from / store::kDatabaseFile, partial / store::kDatabaseFile, ec);
  Status st = ec ? Status::IOError("cannot copy " + (from / store::kDatabaseFile).string() + ": " + ec.message()) : Status::OK();
  if (st.ok()) st = CopyAside(from, partial);
  if (st.ok()) st = files::SyncTree(partial.string());
  if (st.ok()) {
    fs::rename(partial, dir, ec);
    if (ec) st = Status::IOError("cannot rename " + partial.string() + " to " + dir.string() + ": " + ec.message());
  }
  if (!st.ok()) {
    fs::remove_all(partial, ec);
    return st.WithContext("restore of " + backup);
  }
  // Opening rebuilds the vector index from the database; then check it all.
  auto kb = impl_->OpenKb(name, false);
  st = kb.ok() ? (*kb)->CheckConsistency() : kb.status();
  if (!st.ok()) {
    impl_->Forget(name);
    fs::remove_all(dir, ec);
    return st.WithContext("restored knowledge base '" + name + "' (removed again)");
  }
  return (*kb)->Flush();
}

Result<std::vector<KbInfo>> Engine::ListKnowledgeBases() {
  std::vector<KbInfo> out;
  std::error_code ec;
  std::vector<std::string> names;
  for (auto it = fs::directory_iterator(impl_->data_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_directory() && fs::exists(it->path() / store::kDatabaseFile)) names.push_back(it->path().filename().string());
  if (ec) return Status::IOError("cannot list " + impl_->data_dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto info = GetKnowledgeBase(n);
    if (!info.ok()) return info.status();
    out.push_back(std::move(info).value());
  }
  return out;
}

Status Engine::DeleteKnowledgeBase(const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  fs::path dir = impl_->KbDir(name);
  std::error_code ec;
  if (!fs::exists(dir / store::kDatabaseFile, ec))
    return Status::NotFound("knowledge base '" + name + "' does not exist in " + impl_->data_dir);
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(name));
  impl_->Forget(name);
  fs::remove_all(dir, ec);
  if (ec) return Status::IOError("cannot delete " + dir.string() + ": " + ec.message());
  return Status::OK();
}

Result<KbInfo> Engine::CreateKnowledgeBase(const std::string& name) {
  RAGD_RETURN_IF_ERROR(ValidateKbName(name));
  std::error_code ec;
  fs::create_directories(impl_->KbDir(name), ec);
  if (ec) return Status::IOError("cannot create " + impl_->KbDir(name).string() + ": " + ec.message());
  // Checked under the write lock, so two creators (two processes) cannot both succeed.
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(name));
  if (fs::exists(impl_->KbDir(name) / store::kDatabaseFile, ec))
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

Result<DocumentDetail> Engine::GetDocument(const std::string& kb_name, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, kb->FindDocument(doc_id));
  if (!d) return Status::NotFound("knowledge base '" + kb_name + "' has no document '" + doc_id + "'");
  DocumentDetail out;
  out.info = {d->doc_id, d->source, d->mime, d->title, d->size_bytes, d->chunk_count, d->ingested_at, d->metadata};
  RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb->ListChunks(doc_id));
  for (auto& c : chunks)
    out.chunks.push_back({c.id, c.chunk_index, c.page, std::move(c.heading_path), c.row, c.char_start, c.char_end,
                          std::move(c.text)});
  return out;
}

Status Engine::DeleteDocument(const std::string& kb_name, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(kb_name));
  RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, kb->FindDocument(doc_id));
  if (!d) return Status::NotFound("knowledge base '" + kb_name + "' has no document '" + doc_id + "'");
  std::vector<std::string> removes = {doc_id};
  RAGD_RETURN_IF_ERROR(kb->Commit({}, removes));
  return kb->Flush();
}

Result<IngestReport> Engine::IngestFiles(const IngestOptions& options, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (options.paths.empty()) return Status::InvalidArgument("no files or directories to ingest");
  RAGD_RETURN_IF_ERROR(ValidateKbName(options.kb));
  for (const auto& [key, value] : options.metadata) RAGD_RETURN_IF_ERROR(ValidateMetadata(key, value));
  IngestReport report;
  std::vector<FoundFile> found;
  for (const auto& p : options.paths) CollectFiles(p, &found);
  std::sort(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; });
  found.erase(std::unique(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.path == b.path; }),
              found.end());

  size_t batch_files = options.batch_files > 0 ? options.batch_files : 64;
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Impl::Writer> writer, impl_->OpenWriter(options.kb, options.split, batch_files));
  writer->on_commit = options.on_commit;
  store::KbStore* kb = writer->kb.get();
  int64_t max_bytes = options.max_file_bytes > 0 ? options.max_file_bytes : (int64_t{256} << 20);
  ingest::TypeDetector detector;
  std::unordered_set<std::string> seen;
  IngestProgress prog;
  prog.total = static_cast<int64_t>(found.size());

  for (const FoundFile& f : found) {
    ++report.files_seen;
    prog.current = f.path;
    auto fail = [&](const Status& st) { report.failures.push_back({f.path, st}); };
    if (!f.status.ok()) {
      fail(f.status);
    } else {
      seen.insert(f.path);
      auto bytes = files::ReadFile(f.path, max_bytes);
      if (!bytes.ok()) {
        fail(bytes.status());
      } else {
        std::string hash = DocumentHash(bytes.value(), options.metadata);
        RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> existing, kb->FindDocument(f.path));
        if (existing && existing->content_hash == hash) {
          ++report.files_unchanged;
        } else {
          auto type = detector.Detect(bytes.value(), f.path);
          auto doc = type.ok() ? ingest::LoadDocument(bytes.value(), type.value(), f.path)
                               : Result<ingest::LoadedDocument>(type.status());
          if (!doc.ok()) {
            fail(doc.status());
          } else {
            store::DocumentWrite w;
            w.doc_id = f.path;
            w.source = f.path;
            w.mime = doc->mime;
            w.title = doc->title;
            w.content_hash = hash;
            w.size_bytes = static_cast<int64_t>(bytes->size());
            struct stat st;
            if (::stat(f.path.c_str(), &st) == 0) w.mtime = st.st_mtime;
            w.metadata = options.metadata;
            w.chunks = ingest::ChunkDocument(doc.value(), *writer->splitter);
            prog.chunks += static_cast<int64_t>(w.chunks.size());
            (existing ? report.files_updated : report.files_added)++;
            RAGD_RETURN_IF_ERROR(impl_->Stage(*writer, std::move(w), &report));
          }
        }
      }
    }
    ++prog.done;
    if (progress) progress(prog);
  }

  std::vector<std::string> removes;
  if (options.sync) {
    // Documents ingested from under the given paths whose files are gone.
    std::vector<std::string> roots;
    for (const auto& p : options.paths) {
      std::error_code ec;
      fs::path abs = fs::weakly_canonical(fs::absolute(p, ec), ec);
      roots.push_back(abs.string());
    }
    RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, kb->ListDocuments());
    for (const auto& d : docs) {
      if (seen.count(d.source)) continue;
      bool under = std::any_of(roots.begin(), roots.end(), [&](const std::string& r) {
        return d.source == r || (d.source.size() > r.size() && d.source.compare(0, r.size(), r) == 0 && d.source[r.size()] == '/');
      });
      std::error_code ec;
      if (under && !fs::exists(d.source, ec)) removes.push_back(d.doc_id);
    }
    report.files_removed = static_cast<int64_t>(removes.size());
  }
  RAGD_RETURN_IF_ERROR(impl_->Finish(*writer, removes, &report));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Result<IngestReport> Engine::IngestDocuments(const std::string& kb_name, std::span<const SourceDocument> docs,
                                             const SplitOptions& split, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  RAGD_ASSIGN_OR_RETURN(std::unique_ptr<Impl::Writer> writer, impl_->OpenWriter(kb_name, split, 256));
  store::KbStore* kb = writer->kb.get();
  IngestReport report;
  IngestProgress prog;
  prog.total = static_cast<int64_t>(docs.size());
  for (const SourceDocument& d : docs) {
    ++report.files_seen;
    prog.current = d.id;
    std::string full = d.title.empty() ? d.text : d.title + "\n" + d.text;
    Status meta_ok;
    for (const auto& [key, value] : d.metadata)
      if (meta_ok.ok()) meta_ok = ValidateMetadata(key, value).WithContext("document " + d.id);
    if (d.id.empty()) {
      report.failures.push_back({"(document without id)", Status::InvalidArgument("document has no id")});
    } else if (!meta_ok.ok()) {
      report.failures.push_back({d.id, meta_ok});
    } else if (auto valid = text::ToUtf8(full, "document " + d.id); !valid.ok()) {
      report.failures.push_back({d.id, valid.status()});
    } else {
      std::string hash = DocumentHash(valid.value(), d.metadata);
      RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> existing, kb->FindDocument(d.id));
      if (existing && existing->content_hash == hash) {
        ++report.files_unchanged;
      } else {
        ingest::LoadedDocument doc;
        doc.title = d.title;
        doc.mime = "text/plain";
        std::string norm = text::NormalizeWhitespace(valid.value());
        if (norm.empty()) {
          report.failures.push_back({d.id, Status::InvalidArgument("document " + d.id + " has no text")});
        } else {
          doc.segments.push_back(ingest::Segment{std::move(norm)});
          store::DocumentWrite w;
          w.doc_id = d.id;
          w.source = d.source.empty() ? d.id : d.source;
          w.mime = doc.mime;
          w.title = d.title;
          w.content_hash = hash;
          w.metadata = d.metadata;
          w.size_bytes = static_cast<int64_t>(full.size());
          w.chunks = ingest::ChunkDocument(doc, *writer->splitter);
          prog.chunks += static_cast<int64_t>(w.chunks.size());
          (existing ? report.files_updated : report.files_added)++;
          RAGD_RETURN_IF_ERROR(impl_->Stage(*writer, std::move(w), &report));
        }
      }
    }
    ++prog.done;
    if (progress) progress(prog);
  }
  RAGD_RETURN_IF_ERROR(impl_->Finish(*writer, {}, &report));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

namespace {

// The fusion defaults, measured in docs/RETRIEVAL.md.
constexpr char kDefaultFusion[] = "zscore";
constexpr double kDefaultLexicalWeight = 0.7;

struct SearchSettings {
  std::string fusion;
  double lexical_weight = kDefaultLexicalWeight;
  double mmr_lambda = -1;  // off
};

// A number from a setting's text; NaN when it is not one.
double ParseNumber(const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  return (end && *end == '\0' && !v.empty()) ? d : std::nan("");
}

// The query's options, else the knowledge base's settings, else defaults.
Result<SearchSettings> ResolveSearchSettings(store::KbStore* kb, const SearchOptions& o) {
  SearchSettings s;
  RAGD_ASSIGN_OR_RETURN(auto stored, kb->GetSettings());
  auto setting = [&](const char* key) { auto it = stored.find(key); return it == stored.end() ? std::string() : it->second; };
  s.fusion = o.fusion ? *o.fusion : setting("search.fusion");
  if (s.fusion.empty()) s.fusion = kDefaultFusion;
  if (s.fusion != "rrf" && s.fusion != "minmax" && s.fusion != "zscore")
    return Status::InvalidArgument("unknown fusion '" + s.fusion + "' (rrf, minmax or zscore)");
  std::string weight = setting("search.lexical_weight");
  s.lexical_weight = o.lexical_weight ? *o.lexical_weight : (weight.empty() ? kDefaultLexicalWeight : ParseNumber(weight));
  if (!(s.lexical_weight >= 0 && s.lexical_weight <= 1))
    return Status::InvalidArgument("the lexical weight must be a number between 0 and 1");
  std::string mmr = setting("search.mmr_lambda");
  s.mmr_lambda = o.mmr_lambda ? *o.mmr_lambda : (mmr.empty() || mmr == "off" ? -1 : ParseNumber(mmr));
  if (std::isnan(s.mmr_lambda) || s.mmr_lambda > 1)
    return Status::InvalidArgument("the MMR lambda must be a number between 0 and 1, or off");
  return s;
}

// Re-ranks hits by MMR over their stored embeddings and keeps k.
Status Diversify(store::KbStore* kb, double lambda, int k, std::vector<SearchHit>* hits) {
  std::vector<int64_t> ids;
  std::vector<double> relevance;
  for (const auto& h : *hits) ids.push_back(h.chunk_id), relevance.push_back(h.score);
  RAGD_ASSIGN_OR_RETURN(std::vector<float> vecs, kb->GetVectors(ids));
  const size_t dim = ids.empty() ? 0 : vecs.size() / ids.size();
  auto sim = [&](size_t a, size_t b) {
    double dot = 0;
    for (size_t d = 0; d < dim; ++d) dot += static_cast<double>(vecs[a * dim + d]) * vecs[b * dim + d];
    return dot;  // stored vectors are L2-normalised: dot = cosine
  };
  std::vector<size_t> order = retrieve::Mmr(relevance, sim, lambda, static_cast<size_t>(k));
  std::vector<SearchHit> out;
  for (size_t i : order) out.push_back(std::move((*hits)[i]));
  for (size_t i = 0; i < out.size(); ++i) out[i].rank = static_cast<int>(i) + 1;
  *hits = std::move(out);
  return Status::OK();
}

// Scores the first `candidates` hits with the cross-encoder and orders them
// by that score (ties keep the fused order); hits past them keep their fused
// order after them. The best `keep` remain.
Status Rerank(Reranker* reranker, const std::string& query, int candidates, int keep, std::vector<SearchHit>* hits) {
  const size_t n = std::min(hits->size(), static_cast<size_t>(candidates));
  std::vector<std::string> texts;
  texts.reserve(n);
  for (size_t i = 0; i < n; ++i) texts.push_back((*hits)[i].text);
  RAGD_ASSIGN_OR_RETURN(std::vector<double> scores, reranker->Rerank(query, texts));
  if (scores.size() != n)
    return Status::Unavailable("the reranker returned " + std::to_string(scores.size()) + " scores for " +
                               std::to_string(n) + " passages");
  for (size_t i = 0; i < n; ++i) {
    (*hits)[i].rerank_score = scores[i];
    (*hits)[i].score = scores[i];
  }
  std::stable_sort(hits->begin(), hits->begin() + n,
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (static_cast<int>(hits->size()) > keep) hits->resize(keep);
  for (size_t i = 0; i < hits->size(); ++i) (*hits)[i].rank = static_cast<int>(i) + 1;
  return Status::OK();
}

// Code points from the start of s.
size_t Utf8Skip(std::string_view s, int64_t code_points) {
  size_t i = 0;
  while (i < s.size() && code_points > 0) {
    int len = 1;
    text::DecodeAt(s, i, &len);
    i += len > 0 ? len : 1;
    --code_points;
  }
  return i;
}

// The hit's text with up to n chunks either side, joined where they
// overlap (chunks share code-point offsets into the document's text).
Status ExpandWithNeighbours(store::KbStore* kb, int n, SearchHit* h) {
  RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> range,
                        kb->GetChunkRange(h->doc_id, h->chunk_index - n, h->chunk_index + n));
  std::string text;
  int64_t end = -1;
  for (const auto& c : range) {
    if (end < 0) {
      text = c.text;
    } else if (c.char_start >= end) {
      text += "\n\n" + c.text;  // a gap (segments are joined by a blank line)
    } else if (c.char_end > end) {
      text += c.text.substr(Utf8Skip(c.text, end - c.char_start));
    }
    end = std::max(end, c.char_end);
  }
  h->context = range.empty() ? h->text : text;
  return Status::OK();
}

}  // namespace

Result<SearchResponse> Engine::Search(const SearchOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  if (text::Trim(options.query).empty()) return Status::InvalidArgument("the query is empty");
  if (text::FindInvalidUtf8(options.query) != std::string::npos) return Status::InvalidArgument("the query is not valid UTF-8");
  if (options.k <= 0 || options.k > 10000) return Status::InvalidArgument("k must be between 1 and 10000");
  if (options.neighbors < 0 || options.neighbors > 10)
    return Status::InvalidArgument("neighbors must be between 0 and 10");
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(options.kb, false));
  std::vector<FilterCondition> filters = options.filters;
  if (!options.source_contains.empty()) filters.push_back({"source", "=", options.source_contains});
  if (!options.doc_id.empty()) filters.push_back({"doc_id", "=", options.doc_id});
  for (const auto& f : filters) RAGD_RETURN_IF_ERROR(ValidateFilterCondition(f));
  const bool rerank = options.rerank && impl_->options.reranker.has_value();
  if (options.rerank_candidates < 0 || options.rerank_candidates > 1000)
    return Status::InvalidArgument("rerank_candidates must be between 0 and 1000");
  const int rerank_candidates = options.rerank_candidates > 0 ? options.rerank_candidates : std::max(options.k, 20);
  int candidates = options.candidates > 0 ? options.candidates : std::max(100, 2 * options.k);
  if (rerank) candidates = std::max(candidates, rerank_candidates);
  if (options.one_per_document) candidates *= 2;  // several chunks of one document may crowd the list

  SearchResponse resp;
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto phase_start = Clock::now();
  std::vector<store::ScoredId> lexical, dense;
  auto run_lexical = [&]() -> Result<std::vector<store::ScoredId>> {
    auto t = Clock::now();
    auto r = kb->LexicalSearch(options.query, candidates, filters);
    resp.timings.lexical = since(t);
    return r;
  };
  // In hybrid mode BM25 runs on its own thread while the query is embedded
  // when there is a core for it: the two are independent. (The store's
  // SQLite connection is serialized; the vector index is only read here.)
  std::future<Result<std::vector<store::ScoredId>>> lexical_job;
  if (options.mode == SearchMode::kHybrid && impl_->LexicalAlongsideEmbedding()) {
    lexical_job = std::async(std::launch::async, run_lexical);
  } else if (options.mode != SearchMode::kDense) {
    RAGD_ASSIGN_OR_RETURN(lexical, run_lexical());
  }
  if (options.mode != SearchMode::kBm25) {
    Status dense_status = [&]() -> Status {
      RAGD_ASSIGN_OR_RETURN(Embedder * e, impl_->EmbedderFor(options.kb, kb.get()));
      std::vector<float> q(e->dim());
      std::string query = options.query;
      auto t = Clock::now();
      RAGD_RETURN_IF_ERROR(e->Embed({&query, 1}, EmbedKind::kQuery, q.data()));
      resp.timings.embed = since(t);
      t = Clock::now();
      RAGD_ASSIGN_OR_RETURN(dense, kb->DenseSearch(q, candidates, false, filters));
      resp.timings.vector = since(t);
      return Status::OK();
    }();
    if (lexical_job.valid()) {
      auto lexical_result = lexical_job.get();  // joined before any return: it borrows this frame
      RAGD_RETURN_IF_ERROR(dense_status);
      RAGD_ASSIGN_OR_RETURN(lexical, std::move(lexical_result));
    }
    RAGD_RETURN_IF_ERROR(dense_status);
  }
  resp.timings.candidates = since(phase_start);
  resp.embed_model = kb->embed_model();
  for (const auto& d : dense) resp.best_dense_score = std::max(resp.best_dense_score, static_cast<double>(d.score));
  RAGD_ASSIGN_OR_RETURN(SearchSettings settings, ResolveSearchSettings(kb.get(), options));
  std::vector<retrieve::FusedHit> fused;
  switch (options.mode) {
    case SearchMode::kBm25: fused = retrieve::FromLexical(lexical); break;
    case SearchMode::kDense: fused = retrieve::FromDense(dense); break;
    case SearchMode::kHybrid:
      if (settings.fusion == "rrf") fused = retrieve::WeightedRrf(lexical, dense, options.rrf_k, settings.lexical_weight);
      else fused = retrieve::ConvexFusion(lexical, dense, settings.fusion == "zscore" ? retrieve::ScoreNorm::kZScore
                                                                                    : retrieve::ScoreNorm::kMinMax,
                                          settings.lexical_weight);
      break;
  }
  // MMR chooses k among more candidates; the reranker reorders more.
  const int want = settings.mmr_lambda >= 0 ? std::max(options.k * 4, 20) : options.k;
  const int fetch = rerank ? std::max(want, rerank_candidates) : want;

  // Fetch chunk records for the top of the list; when deduplicating by
  // document, in windows until k documents are found.
  std::unordered_set<std::string> docs_seen;
  size_t window = options.one_per_document ? std::max<size_t>(fetch, 32) : fetch;
  for (size_t start = 0; start < fused.size() && static_cast<int>(resp.hits.size()) < fetch; start += window) {
    size_t end = std::min(fused.size(), start + window);
    std::vector<int64_t> ids;
    for (size_t i = start; i < end; ++i) ids.push_back(fused[i].id);
    RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb->GetChunks(ids));
    for (size_t j = 0; j < chunks.size() && static_cast<int>(resp.hits.size()) < fetch; ++j) {
      store::ChunkRecord& c = chunks[j];
      const retrieve::FusedHit& f = fused[start + j];
      if (options.one_per_document && !docs_seen.insert(c.doc_id).second) continue;
      SearchHit h;
      h.rank = static_cast<int>(resp.hits.size()) + 1;
      h.score = f.score;
      h.lexical_rank = f.lexical_rank;
      h.dense_rank = f.dense_rank;
      h.lexical_score = f.lexical_score;
      h.dense_score = f.dense_score;
      h.doc_id = std::move(c.doc_id);
      h.source = std::move(c.source);
      h.title = std::move(c.title);
      h.chunk_id = c.id;
      h.chunk_index = c.chunk_index;
      h.page = c.page;
      h.heading_path = std::move(c.heading_path);
      h.row = c.row;
      h.char_start = c.char_start;
      h.char_end = c.char_end;
      h.text = std::move(c.text);
      resp.hits.push_back(std::move(h));
    }
  }
  if (rerank && !resp.hits.empty()) {
    RAGD_ASSIGN_OR_RETURN(Reranker * r, impl_->GetReranker());
    auto t = Clock::now();
    RAGD_RETURN_IF_ERROR(Rerank(r, options.query, rerank_candidates, want, &resp.hits));
    resp.timings.rerank = since(t);
    resp.reranker = r->model();
  }
  if (settings.mmr_lambda >= 0 && resp.hits.size() > 1) RAGD_RETURN_IF_ERROR(Diversify(kb.get(), settings.mmr_lambda, options.k, &resp.hits));
  if (options.min_score) {
    std::erase_if(resp.hits, [&](const SearchHit& h) { return h.score < *options.min_score; });
    for (size_t i = 0; i < resp.hits.size(); ++i) resp.hits[i].rank = static_cast<int>(i) + 1;
  }
  if (options.neighbors > 0)
    for (auto& h : resp.hits) RAGD_RETURN_IF_ERROR(ExpandWithNeighbours(kb.get(), options.neighbors, &h));
  resp.seconds = since(t0);
  return resp;
}

Status Engine::SetKbSetting(const std::string& kb_name, const std::string& key, const std::string& value) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  SearchOptions probe;  // validated as a query carrying the value would be
  if (key == "search.fusion") probe.fusion = value;
  else if (key == "search.lexical_weight") probe.lexical_weight = ParseNumber(value);
  else if (key == "search.mmr_lambda") probe.mmr_lambda = value == "off" ? -1 : ParseNumber(value);
  else return Status::InvalidArgument("unknown setting '" + key + "' (search.fusion, search.lexical_weight, search.mmr_lambda)");
  RAGD_RETURN_IF_ERROR(ResolveSearchSettings(kb.get(), probe).status().WithContext(key + " = '" + value + "'"));
  RAGD_ASSIGN_OR_RETURN(Impl::WriteLock kb_lock, impl_->LockForWriting(kb_name));
  return kb->SetSetting(key, value);
}

Result<std::map<std::string, std::string>> Engine::GetKbSettings(const std::string& kb_name) {
  RAGD_ASSIGN_OR_RETURN(std::shared_ptr<store::KbStore> kb, impl_->OpenKb(kb_name, false));
  return kb->GetSettings();
}

}  // namespace ragd
