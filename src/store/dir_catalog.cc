// The embedded catalog: a data directory with one folder per knowledge
// base (kb.sqlite, vectors.idx, LOCK, sessions/, traces.jsonl, uploads/).
// A writer holds an exclusive flock on the folder's LOCK file; readers
// never wait on it (SQLite's WAL serves them).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "core/files.h"
#include "core/status_macros.h"
#include "store/catalog.h"

namespace ragd::store {

namespace {

namespace fs = std::filesystem;

class FileLock final : public CatalogLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() override { ::close(fd_); }  // closing releases the flock

 private:
  int fd_;
};

class DirCatalog final : public KbCatalog {
 public:
  explicit DirCatalog(std::string dir) : dir_(std::move(dir)) {}

  std::string Describe() const override { return dir_; }
  std::string Location(const std::string& name) const override { return Dir(name).string(); }
  std::optional<std::string> Directory(const std::string& name) const override { return Dir(name).string(); }

  Result<std::vector<std::string>> List() override {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      if (it->is_directory() && fs::exists(it->path() / kDatabaseFile)) names.push_back(it->path().filename().string());
    if (ec) return Status::IOError("cannot list " + dir_ + ": " + ec.message());
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<bool> Exists(const std::string& name) override {
    std::error_code ec;
    return fs::exists(Dir(name) / kDatabaseFile, ec);
  }

  Result<std::unique_ptr<KbStore>> Open(const std::string& name, const StoreOptions& options) override {
    return OpenSqliteStore(Dir(name).string(), options);
  }

  Status Drop(const std::string& name) override {
    std::error_code ec;
    if (!fs::exists(Dir(name) / kDatabaseFile, ec))
      return Status::NotFound("knowledge base '" + name + "' does not exist in " + dir_);
    fs::remove_all(Dir(name), ec);
    if (ec) return Status::IOError("cannot delete " + Dir(name).string() + ": " + ec.message());
    return Status::OK();
  }

  Result<std::unique_ptr<CatalogLock>> LockForWriting(const std::string& name) override {
    std::error_code ec;
    fs::create_directories(Dir(name), ec);
    if (ec) return Status::IOError("cannot create " + Dir(name).string() + ": " + ec.message());
    std::string path = (Dir(name) / "LOCK").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError("cannot open " + path + ": " + files::ErrnoText(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return Status::Unavailable("knowledge base '" + name +
                                   "' is being written by another ragd process; try again when it finishes");
      return Status::IOError("cannot lock " + path + ": " + files::ErrnoText(err));
    }
    return std::unique_ptr<CatalogLock>(new FileLock(fd));
  }

  int64_t BytesUsed(const std::string& name) override {
    int64_t total = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(Dir(name), ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
    return total;
  }

 private:
  fs::path Dir(const std::string& name) const { return fs::path(dir_) / name; }
  std::string dir_;
};

}  // namespace

Result<std::unique_ptr<KbCatalog>> OpenDirCatalog(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create the data directory " + dir + ": " + ec.message());
  return std::unique_ptr<KbCatalog>(new DirCatalog(dir));
}

}  // namespace ragd::store
