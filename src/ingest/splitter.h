// Recursive text splitter: cuts at paragraph breaks, then lines, then
// sentence ends (including CJK 。！？；), then clause marks, then spaces, then
// characters, and merges the pieces back into chunks of at most chunk_size
// (as measured by a length function: model tokens or code points) with
// overlap. Chunks are byte spans of the input, so offsets are exact.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

namespace ragd::ingest {

struct Span {
  size_t begin = 0;  // byte offsets into the split text
  size_t end = 0;
};

using LengthFn = std::function<size_t(std::string_view)>;

// Length in Unicode code points.
size_t CodePointLength(std::string_view s);

struct SplitterOptions {
  size_t chunk_size = 1000;
  size_t chunk_overlap = 150;
  LengthFn length = CodePointLength;
};

class RecursiveSplitter {
 public:
  explicit RecursiveSplitter(SplitterOptions options);
  // Non-empty chunks, trimmed of surrounding whitespace, in order.
  std::vector<Span> Split(std::string_view text) const;
  // A Markdown table: its header (and separator) line(s) end at byte
  // header_end, one row per line after. Rows are packed whole into spans
  // that fit chunk_size with the header put before them, never cut mid-row
  // unless one row alone is too long (then it is split like text). The
  // first span starts at 0 and holds the header; the others hold rows only.
  std::vector<Span> SplitRows(std::string_view text, size_t header_end) const;

 private:
  void SplitRecursive(std::string_view text, Span span, int level, std::vector<std::pair<Span, size_t>>* out) const;
  std::vector<Span> Merge(std::string_view text, const std::vector<std::pair<Span, size_t>>& pieces) const;
  SplitterOptions options_;
};

}  // namespace ragd::ingest
