// The recursive splitter: chunks are ordered, non-empty byte spans of the
// input on UTF-8 boundaries, each at most chunk_size code points.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "ingest/splitter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ragd::ingest;
  if (size < 2) return 0;
  size_t chunk_size = 1 + data[0] % 64;
  size_t overlap = chunk_size > 1 ? data[1] % chunk_size : 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (ragd::text::FindInvalidUtf8(text) != std::string_view::npos) return 0;  // loaders hand over UTF-8 only
  RecursiveSplitter splitter(SplitterOptions{chunk_size, overlap});
  size_t last_begin = 0;
  for (const Span& s : splitter.Split(text)) {
    FUZZ_CHECK(s.begin < s.end && s.end <= text.size(), "a chunk is a non-empty span of the input");
    FUZZ_CHECK(s.begin >= last_begin, "chunks come in order");
    last_begin = s.begin;
    std::string_view chunk = text.substr(s.begin, s.end - s.begin);
    CheckUtf8(chunk, "a chunk is cut on code-point boundaries");
    FUZZ_CHECK(CodePointLength(chunk) <= chunk_size, "a chunk fits chunk_size");
  }
  return 0;
}
