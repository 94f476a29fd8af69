// Backup and restore of a knowledge base's folder: the database (by
// SQLite's online backup, so a live store is copied consistently) and the
// folders kept beside it (sessions/, uploads/). Each result is built in a
// partial folder, synced and renamed into place: it appears whole or not
// at all.
#pragma once

#include <string>

#include "ragd/status.h"
#include "store/store.h"

namespace ragd::store {

// A snapshot of kb, whose folder is kb_dir, into the new folder dest.
// AlreadyExists when dest exists.
Status BackupKnowledgeBase(KbStore& kb, const std::string& kb_dir, const std::string& dest);

// Copies the backup folder to the new knowledge-base folder kb_dir (built
// at partial first). NotFound when backup is not one; AlreadyExists when
// kb_dir exists; a failed copy is an error naming the backup, and leaves
// nothing behind. The caller opens and checks what was restored.
Status CopyBackupInto(const std::string& backup, const std::string& kb_dir, const std::string& partial);

}  // namespace ragd::store
