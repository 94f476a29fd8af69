#include "store/index_file.h"

#include <xxhash.h>

#include <cstring>

#include "core/files.h"

namespace ragd::store {

namespace {

// On-disk header. Frozen: every kind's format_version covers its payload only.
struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t param;
  uint64_t generation;
  uint64_t count;
  uint64_t payload_bytes;
  uint64_t payload_xxh64;
};

}  // namespace

std::string_view IndexFile::payload() const {
  return std::string_view(bytes).substr(sizeof(FileHeader));
}

Status WriteIndexFile(const std::string& path, const IndexFileKind& kind, const IndexFileStamp& stamp,
                      std::string_view payload) {
  FileHeader h{};
  std::memcpy(h.magic, kind.magic, sizeof h.magic);
  h.format_version = kind.format_version;
  h.param = stamp.param;
  h.generation = stamp.generation;
  h.count = stamp.count;
  h.payload_bytes = payload.size();
  h.payload_xxh64 = XXH64(payload.data(), payload.size(), 0);
  std::string file(reinterpret_cast<const char*>(&h), sizeof h);
  file += payload;
  return files::WriteFileAtomic(path, file);
}

Result<IndexFile> ReadIndexFile(const std::string& path, const IndexFileKind& kind) {
  auto data = files::ReadFile(path, 0);
  if (!data.ok()) return data.status();
  IndexFile out;
  out.bytes = std::move(data).value();
  FileHeader h;
  if (out.bytes.size() < sizeof h) return Status::Corruption(path + " is truncated");
  std::memcpy(&h, out.bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kind.magic, sizeof h.magic) != 0)
    return Status::Corruption(path + " is not a ragd " + kind.what);
  if (h.format_version != kind.format_version)
    return Status::Corruption(path + " has format version " + std::to_string(h.format_version) + ", this ragd reads " +
                              std::to_string(kind.format_version));
  std::string_view payload = out.payload();
  if (payload.size() != h.payload_bytes || XXH64(payload.data(), payload.size(), 0) != h.payload_xxh64)
    return Status::Corruption(path + " fails its checksum");
  out.stamp = {h.param, h.generation, h.count};
  return out;
}

}  // namespace ragd::store
