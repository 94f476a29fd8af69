#include "ingest/ingest_pipeline.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/chunker.h"
#include "ingest/document.h"
#include "ragd/filter.h"

namespace ragd::ingest {
namespace {

namespace fs = std::filesystem;

// The content hash that decides "unchanged": the text, plus the metadata
// when there is any, so re-ingesting with other --meta values updates the
// document (documents without metadata keep their plain content hash).
std::string DocumentHash(std::string_view content, const std::map<std::string, std::string>& metadata) {
  if (metadata.empty()) return files::ContentHash(content);
  std::string all(content);
  for (const auto& [key, value] : metadata) all += std::string("\0meta\0", 6) + key + '\0' + value;
  return files::ContentHash(all);
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

// The files under paths, sorted, each once.
std::vector<FoundFile> FindFiles(const std::vector<std::string>& paths) {
  std::vector<FoundFile> found;
  for (const auto& p : paths) CollectFiles(p, &found);
  std::sort(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; });
  found.erase(std::unique(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.path == b.path; }),
              found.end());
  return found;
}

// A document ready to chunk: its text and the record's fields (doc_id,
// content_hash and chunks are filled in by the run).
struct Loaded {
  LoadedDocument doc;
  store::DocumentWrite record;
};

// One ingest run: documents staged into batches, each batch embedded and
// committed in one transaction, the report and the progress kept.
//
// Two stages with a bounded queue between them: the caller's thread reads,
// parses and chunks documents into the next batch while a writer thread
// embeds and commits the previous one. At most one full batch waits, so
// memory holds three batches at most, and batches commit in order.
class Run {
 public:
  Run(const IngestTarget& target, size_t batch_docs, std::function<void(std::span<const std::string>)> on_commit,
      int64_t total, const ProgressFn& progress)
      : t_(target), batch_docs_(batch_docs), on_commit_(std::move(on_commit)), progress_(progress) {
    prog_.total = total;
  }

  // An early return (an error of the reading stage) drops the batches still
  // queued; the one being committed completes.
  ~Run() {
    {
      std::lock_guard lock(mu_);
      queue_.clear();
      closed_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  IngestReport& report() { return report_; }

  void Fail(const std::string& what, const Status& st) { report_.failures.push_back({what, st}); }

  // Document id with content hash: unchanged when stored with that hash;
  // else load() gives it (an error is a failure of this document), and it
  // is chunked and staged.
  Status Document(const std::string& id, const std::string& hash, const std::function<Result<Loaded>()>& load) {
    RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> existing, t_.kb->FindDocument(id));
    if (existing && existing->content_hash == hash) {
      // A table document ingested before tables were kept is loaded again.
      bool table_missing = false;
      if (IsTabularMime(existing->mime)) {
        RAGD_ASSIGN_OR_RETURN(bool has_table, t_.kb->HasTable(id));
        table_missing = !has_table;
      }
      if (!table_missing) {
        ++report_.files_unchanged;
        return Status::OK();
      }
    }
    Result<Loaded> loaded = load();
    if (!loaded.ok()) {
      Fail(id, loaded.status());
      return Status::OK();
    }
    store::DocumentWrite w = std::move(loaded->record);
    w.doc_id = id;
    w.content_hash = hash;
    w.chunks = ChunkDocument(loaded->doc, *t_.splitter);
    w.table = std::move(loaded->doc.table);
    prog_.chunks += static_cast<int64_t>(w.chunks.size());
    (existing ? report_.files_updated : report_.files_added)++;
    return Stage(std::move(w));
  }

  // Progress within an item (OCR's pages), not counted as done.
  void Note(const std::string& current) {
    prog_.current = current;
    if (progress_) progress_(prog_);
  }

  // One item seen: counted and reported.
  void Step(const std::string& current) {
    ++report_.files_seen;
    ++prog_.done;
    prog_.current = current;
    if (progress_) progress_(prog_);
  }

  // Commits what is left (and the removals), waits for the writer, then
  // saves the index files.
  Status Finish(const std::vector<std::string>& removes) {
    RAGD_RETURN_IF_ERROR(Submit(std::move(pending_), removes));
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    report_.chunks_written = chunks_written_;
    RAGD_RETURN_IF_ERROR(writer_status_);
    return t_.kb->Flush();
  }

 private:
  struct Batch {
    std::vector<store::DocumentWrite> docs;
    std::vector<std::string> removes;
  };

  // Queues a document; a full batch (by documents or 512 chunks) goes to
  // the writer.
  Status Stage(store::DocumentWrite doc) {
    pending_chunks_ += doc.chunks.size();
    pending_.push_back(std::move(doc));
    if (pending_.size() < batch_docs_ && pending_chunks_ < 512) return Status::OK();
    pending_chunks_ = 0;
    std::vector<store::DocumentWrite> full = std::move(pending_);
    pending_.clear();
    return Submit(std::move(full), {});
  }

  // Hands a batch to the writer, waiting while another one already waits.
  // The writer's error, once it has one, is returned here (and nothing more
  // is committed).
  Status Submit(std::vector<store::DocumentWrite> docs, const std::vector<std::string>& removes) {
    if (docs.empty() && removes.empty()) {
      std::lock_guard lock(mu_);
      return writer_status_;
    }
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() || !writer_status_.ok(); });
    if (!writer_status_.ok()) return writer_status_;
    queue_.push_back(Batch{std::move(docs), removes});
    if (!writer_.joinable()) writer_ = std::thread([this] { WriterLoop(); });
    lock.unlock();
    cv_.notify_all();
    return Status::OK();
  }

  void WriterLoop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed and drained
      Batch b = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      cv_.notify_all();  // room for the next batch: the reading stage goes on
      Status st = CommitBatch(b);
      lock.lock();
      if (!st.ok()) {
        writer_status_ = st;
        queue_.clear();
        cv_.notify_all();
        return;
      }
    }
  }

  // Embeds all chunks of the batch's documents at once (full batches for
  // the model) and commits them, with its removes, in one transaction.
  // On the writer thread.
  Status CommitBatch(Batch& batch) {
    std::vector<store::DocumentWrite>& docs = batch.docs;
    Embedder* e = t_.embedder;
    std::vector<std::string> texts;
    for (const auto& d : docs)
      for (const auto& c : d.chunks) texts.push_back(c.text);
    std::vector<float> vecs(texts.size() * static_cast<size_t>(e->dim()));
    // In slices: the embedder serves one call at a time, and a search's
    // query embedding gets its turn between two slices instead of waiting
    // for the whole batch. 8 passages embed as fast per passage as 32 here
    // (engine_bench embed, e5: 9.6-10.4 against 9.4-11.1 a second) and
    // bound a search's wait to a quarter (docs/DECISIONS.md, issue 22).
    constexpr size_t kSlice = 8;
    for (size_t i = 0; i < texts.size(); i += kSlice) {
      const size_t n = std::min(kSlice, texts.size() - i);
      RAGD_RETURN_IF_ERROR(e->Embed(std::span<const std::string>(texts).subspan(i, n), EmbedKind::kPassage,
                                    vecs.data() + i * e->dim()));
    }
    size_t off = 0;
    for (auto& d : docs) {
      size_t n = d.chunks.size() * e->dim();
      d.embeddings.assign(vecs.begin() + off, vecs.begin() + off + n);
      off += n;
    }
    RAGD_RETURN_IF_ERROR(t_.kb->Commit(docs, batch.removes));
    std::vector<std::string> ids = batch.removes;
    for (const auto& d : docs) {
      chunks_written_ += static_cast<int64_t>(d.chunks.size());
      ids.push_back(d.doc_id);
    }
    if (on_commit_) on_commit_(ids);
    return Status::OK();
  }

  IngestTarget t_;
  size_t batch_docs_;
  std::function<void(std::span<const std::string>)> on_commit_;
  const ProgressFn& progress_;
  IngestReport report_;
  IngestProgress prog_;
  std::vector<store::DocumentWrite> pending_;  // the batch being filled
  size_t pending_chunks_ = 0;
  // The writer stage.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;  // at most one
  bool closed_ = false;
  Status writer_status_;
  std::atomic<int64_t> chunks_written_{0};
  std::thread writer_;  // started with the first batch, joined by Finish or the destructor
};

// Documents ingested from under roots whose files are gone (--sync), except
// those just seen.
Result<std::vector<std::string>> VanishedDocuments(store::KbStore& kb, const std::vector<std::string>& paths,
                                                   const std::unordered_set<std::string>& seen) {
  std::vector<std::string> roots;
  for (const auto& p : paths) {
    std::error_code ec;
    roots.push_back(fs::weakly_canonical(fs::absolute(p, ec), ec).string());
  }
  RAGD_ASSIGN_OR_RETURN(std::vector<store::StoredDocument> docs, kb.ListDocuments());
  std::vector<std::string> removes;
  for (const auto& d : docs) {
    if (seen.count(d.source)) continue;
    bool under = std::any_of(roots.begin(), roots.end(), [&](const std::string& r) {
      return d.source == r || (d.source.size() > r.size() && d.source.compare(0, r.size(), r) == 0 && d.source[r.size()] == '/');
    });
    std::error_code ec;
    if (under && !fs::exists(d.source, ec)) removes.push_back(d.doc_id);
  }
  return removes;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<RecursiveSplitter> MakeSplitter(const SplitOptions& split, Embedder& embedder) {
  SplitterOptions so;
  if (split.unit == ChunkUnit::kTokens) {
    const int window = embedder.max_tokens() - 2;  // room for [CLS] and [SEP]
    so.chunk_size = split.chunk_size > 0 ? split.chunk_size : std::min(200, window);
    if (static_cast<int>(so.chunk_size) > window)
      return Status::InvalidArgument("chunk size " + std::to_string(so.chunk_size) + " tokens exceeds the embedding model's window of " +
                                     std::to_string(window) + " tokens");
    Embedder* e = &embedder;
    so.length = [e](std::string_view s) -> size_t {
      auto n = e->CountTokens(s);
      return n.ok() ? static_cast<size_t>(n.value()) : CodePointLength(s);
    };
  } else {
    so.chunk_size = split.chunk_size > 0 ? split.chunk_size : 1000;
  }
  if (split.chunk_overlap >= 0 && static_cast<size_t>(split.chunk_overlap) >= so.chunk_size)
    return Status::InvalidArgument("chunk overlap must be smaller than the chunk size");
  so.chunk_overlap = split.chunk_overlap >= 0 ? split.chunk_overlap : so.chunk_size * 15 / 100;
  return RecursiveSplitter(so);
}

Status CheckIngestOptions(const IngestOptions& options) {
  if (options.paths.empty()) return Status::InvalidArgument("no files or directories to ingest");
  for (const auto& [key, value] : options.metadata) RAGD_RETURN_IF_ERROR(ValidateMetadata(key, value));
  // Tesseract language names: letters, digits and '_', joined by '+'.
  const std::string& langs = options.ocr.languages;
  bool valid = !langs.empty() && langs.front() != '+' && langs.back() != '+' && langs.find("++") == std::string::npos &&
               std::all_of(langs.begin(), langs.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+'; });
  if (!valid)
    return Status::InvalidArgument("OCR languages '" + langs + "' are not Tesseract language names joined by '+' "
                                   "(e.g. eng, chi_sim, eng+chi_sim) or auto");
  if (options.ocr.dpi < 70 || options.ocr.dpi > 600)
    return Status::InvalidArgument("OCR resolution " + std::to_string(options.ocr.dpi) + " dpi is outside 70..600");
  return Status::OK();
}

Result<IngestReport> IngestFiles(const IngestTarget& target, const IngestOptions& options, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<FoundFile> found = FindFiles(options.paths);
  const size_t batch_files = options.batch_files > 0 ? options.batch_files : 64;
  const int64_t max_bytes = options.max_file_bytes > 0 ? options.max_file_bytes : (int64_t{256} << 20);
  Run run(target, batch_files, options.on_commit, static_cast<int64_t>(found.size()), progress);
  TypeDetector detector;
  std::unordered_set<std::string> seen;
  for (const FoundFile& f : found) {
    if (!f.status.ok()) {
      run.Fail(f.path, f.status);
    } else {
      seen.insert(f.path);
      auto bytes = files::ReadFile(f.path, max_bytes);
      if (!bytes.ok()) {
        run.Fail(f.path, bytes.status());
      } else {
        RAGD_RETURN_IF_ERROR(run.Document(f.path, DocumentHash(bytes.value(), options.metadata), [&]() -> Result<Loaded> {
          RAGD_ASSIGN_OR_RETURN(DocType type, detector.Detect(bytes.value(), f.path));
          Loaded l;
          LoadOptions load;
          load.ocr = options.ocr;
          load.on_ocr_page = [&](int page, int pages) {
            run.Note(f.path + " (OCR " + std::to_string(page) + "/" + std::to_string(pages) + ")");
          };
          RAGD_ASSIGN_OR_RETURN(l.doc, LoadDocument(bytes.value(), type, f.path, load));
          l.record.source = f.path;
          l.record.mime = l.doc.mime;
          l.record.title = l.doc.title;
          l.record.size_bytes = static_cast<int64_t>(bytes->size());
          struct stat st;
          if (::stat(f.path.c_str(), &st) == 0) l.record.mtime = st.st_mtime;
          l.record.metadata = options.metadata;
          return l;
        }));
      }
    }
    run.Step(f.path);
  }
  std::vector<std::string> removes;
  if (options.sync) {
    RAGD_ASSIGN_OR_RETURN(removes, VanishedDocuments(*target.kb, options.paths, seen));
    run.report().files_removed = static_cast<int64_t>(removes.size());
  }
  RAGD_RETURN_IF_ERROR(run.Finish(removes));
  run.report().seconds = SecondsSince(t0);
  return std::move(run.report());
}

Result<IngestReport> IngestDocuments(const IngestTarget& target, std::span<const SourceDocument> docs,
                                     const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  Run run(target, 256, {}, static_cast<int64_t>(docs.size()), progress);
  for (const SourceDocument& d : docs) {
    std::string full = d.title.empty() ? d.text : d.title + "\n" + d.text;
    Status meta_ok;
    for (const auto& [key, value] : d.metadata)
      if (meta_ok.ok()) meta_ok = ValidateMetadata(key, value).WithContext("document " + d.id);
    if (d.id.empty()) {
      run.Fail("(document without id)", Status::InvalidArgument("document has no id"));
    } else if (!meta_ok.ok()) {
      run.Fail(d.id, meta_ok);
    } else if (auto valid = text::ToUtf8(full, "document " + d.id); !valid.ok()) {
      run.Fail(d.id, valid.status());
    } else {
      RAGD_RETURN_IF_ERROR(run.Document(d.id, DocumentHash(valid.value(), d.metadata), [&]() -> Result<Loaded> {
        std::string norm = text::NormalizeWhitespace(valid.value());
        if (norm.empty()) return Status::InvalidArgument("document " + d.id + " has no text");
        Loaded l;
        l.doc.title = d.title;
        l.doc.mime = "text/plain";
        l.doc.segments.push_back(Segment{std::move(norm)});
        l.record.source = d.source.empty() ? d.id : d.source;
        l.record.mime = l.doc.mime;
        l.record.title = d.title;
        l.record.metadata = d.metadata;
        l.record.size_bytes = static_cast<int64_t>(full.size());
        return l;
      }));
    }
    run.Step(d.id);
  }
  RAGD_RETURN_IF_ERROR(run.Finish({}));
  run.report().seconds = SecondsSince(t0);
  return std::move(run.report());
}

Status DeleteDocument(store::KbStore& kb, const std::string& doc_id) {
  std::vector<std::string> removes = {doc_id};
  RAGD_RETURN_IF_ERROR(kb.Commit({}, removes));
  return kb.Flush();
}

}  // namespace ragd::ingest
