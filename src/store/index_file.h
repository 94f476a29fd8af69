#pragma once
// The file format shared by the store's derived index caches (vectors.idx,
// lexical.idx): a fixed header that names the kind, its format version and the
// store generation the index reflects, then a payload guarded by a checksum.
// A file that fails any check is reported as Corruption and rebuilt from the
// database by its caller; it is never trusted in part.

#include <cstdint>
#include <string>
#include <string_view>

#include "ragd/status.h"

namespace ragd::store {

struct IndexFileKind {
  char magic[8];            // frozen per kind: change format_version instead
  uint32_t format_version;
  const char* what;         // "vector index": used in error messages
};

// What the header says besides the kind.
struct IndexFileStamp {
  uint32_t param = 0;       // kind-specific (the vector index's dimension)
  uint64_t generation = 0;  // the store generation the payload reflects
  uint64_t count = 0;       // entries, for inspection
};

struct IndexFile {
  IndexFileStamp stamp;
  std::string bytes;        // the whole file; payload() views into it
  std::string_view payload() const;
};

Status WriteIndexFile(const std::string& path, const IndexFileKind& kind, const IndexFileStamp& stamp,
                      std::string_view payload);

// Errors name the path: "<path> is truncated", "is not a ragd <what>",
// "has format version N, this ragd reads M", "fails its checksum".
Result<IndexFile> ReadIndexFile(const std::string& path, const IndexFileKind& kind);

}  // namespace ragd::store
