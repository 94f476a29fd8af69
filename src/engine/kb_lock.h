// An exclusive advisory lock on a knowledge-base directory (flock on its
// LOCK file), held by whoever writes to it: one writer at a time, readers
// are never blocked (SQLite's WAL serves them).
#pragma once

#include <string>

#include "ragd/status.h"

namespace ragd {

class KbLock {
 public:
  KbLock() = default;
  ~KbLock();
  KbLock(KbLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  KbLock& operator=(KbLock&&) = delete;
  // Fails with Unavailable when another process holds it.
  static Result<KbLock> Acquire(const std::string& kb_dir, const std::string& kb_name);

 private:
  int fd_ = -1;
};

}  // namespace ragd
