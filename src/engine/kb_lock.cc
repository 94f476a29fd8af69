#include "engine/kb_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "core/files.h"

namespace ragd {

KbLock::~KbLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<KbLock> KbLock::Acquire(const std::string& kb_dir, const std::string& kb_name) {
  std::string path = kb_dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + files::ErrnoText(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status::Unavailable("knowledge base '" + kb_name + "' is being written by another ragd process; try again when it finishes");
    return Status::IOError("cannot lock " + path + ": " + files::ErrnoText(err));
  }
  KbLock lock;
  lock.fd_ = fd;
  return lock;
}

}  // namespace ragd
