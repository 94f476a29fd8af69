// File-system helpers: bounded reads, atomic replace, content hashes, time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ragd/status.h"

namespace ragd::files {

// Reads a whole regular file; refuses files above max_bytes.
Result<std::string> ReadFile(const std::string& path, int64_t max_bytes);
// Writes data to path.tmp, fsyncs it, renames it over path and fsyncs the
// directory, so path holds either the old or the new content after a crash.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// fsyncs every file and folder under dir (and dir itself): what was
// copied there survives a power cut once this returns.
Status SyncTree(const std::string& dir);
// 128-bit xxHash3 of data as 32 hex digits.
std::string ContentHash(std::string_view data);
// Current UTC time as ISO 8601 ("2026-11-22T10:49:00Z").
std::string NowIso8601();
// Errno text for messages, e.g. "Permission denied".
std::string ErrnoText(int err);

}  // namespace ragd::files
