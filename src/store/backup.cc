#include "store/backup.h"

#include <filesystem>
#include <functional>

#include "core/files.h"

namespace ragd::store {
namespace {

namespace fs = std::filesystem;

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

// Fills a fresh partial folder with copy_database, then the folders beside
// the database from aside_from, syncs it and renames it to target. A
// failure removes the partial folder and leaves target untouched.
Status BuildThenRename(const fs::path& partial, const fs::path& target, const fs::path& aside_from,
                       const std::function<Status(const fs::path& database)>& copy_database) {
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) return Status::IOError("cannot create " + partial.string() + ": " + ec.message());
  Status st = copy_database(partial / kDatabaseFile);
  if (st.ok()) st = CopyAside(aside_from, partial);
  if (st.ok()) st = files::SyncTree(partial.string());
  if (st.ok()) {
    fs::rename(partial, target, ec);
    if (ec) st = Status::IOError("cannot rename " + partial.string() + " to " + target.string() + ": " + ec.message());
  }
  if (!st.ok()) fs::remove_all(partial, ec);
  return st;
}

}  // namespace

Status BackupKnowledgeBase(KbStore& kb, const std::string& kb_dir, const std::string& dest) {
  std::error_code ec;
  fs::path target = fs::absolute(dest, ec);
  if (dest.empty() || ec) return Status::InvalidArgument("backup folder '" + dest + "' is not a usable path");
  if (fs::exists(target, ec)) return Status::AlreadyExists(target.string() + " already exists: back up into a new folder");
  return BuildThenRename(target.string() + ".partial", target, kb_dir,
                         [&](const fs::path& database) { return kb.BackupTo(database.string()); });
}

Status CopyBackupInto(const std::string& backup, const std::string& kb_dir, const std::string& partial) {
  std::error_code ec;
  const fs::path from(backup);
  const fs::path source_db = from / kDatabaseFile;
  if (!fs::is_regular_file(source_db, ec))
    return Status::NotFound(backup + " is not a ragd backup (it has no " + kDatabaseFile + ")");
  if (fs::exists(kb_dir, ec))
    return Status::AlreadyExists("knowledge base '" + fs::path(kb_dir).filename().string() +
                                 "' already exists: restore under a new name, or delete it first");
  return BuildThenRename(partial, kb_dir, from, [&](const fs::path& database) {
           std::error_code copy_ec;
           fs::copy_file(source_db, database, copy_ec);
           return copy_ec ? Status::IOError("cannot copy " + source_db.string() + ": " + copy_ec.message()) : Status::OK();
         })
      .WithContext("restore of " + backup);
}

}  // namespace ragd::store
