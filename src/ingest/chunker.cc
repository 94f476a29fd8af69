#include "ingest/chunker.h"

#include "core/text.h"

namespace ragd::ingest {

std::vector<store::ChunkWrite> ChunkDocument(const LoadedDocument& doc, const RecursiveSplitter& splitter) {
  std::vector<store::ChunkWrite> out;
  int64_t segment_start = 0;  // code points before this segment in the document text
  for (const Segment& seg : doc.segments) {
    const bool table = !seg.table_header.empty();
    std::vector<Span> spans = table ? splitter.SplitRows(seg.text, seg.table_header.size()) : splitter.Split(seg.text);
    size_t cursor = 0;        // byte position up to which code points are counted
    int64_t cursor_cp = 0;
    for (const Span& s : spans) {
      // Spans overlap but never go backwards in their start.
      if (s.begin >= cursor) {
        cursor_cp += text::CodePointCount(std::string_view(seg.text).substr(cursor, s.begin - cursor));
        cursor = s.begin;
      } else {
        cursor_cp = text::CodePointCount(std::string_view(seg.text).substr(0, s.begin));
        cursor = s.begin;
      }
      store::ChunkWrite c;
      c.text = seg.text.substr(s.begin, s.end - s.begin);
      const int64_t span_length = text::CodePointCount(c.text);
      // A table's later chunks repeat its header, which is not in their span.
      if (table && s.begin != 0) c.text = seg.table_header + "\n" + c.text;
      c.chunk_index = static_cast<int>(out.size());
      c.page = seg.page;
      c.heading_path = seg.heading_path;
      c.row = seg.row;
      c.ocr_confidence = seg.ocr_confidence;
      c.char_start = segment_start + cursor_cp;
      c.char_end = c.char_start + span_length;
      out.push_back(std::move(c));
    }
    segment_start += text::CodePointCount(seg.text) + 2;  // "\n\n" between segments
  }
  return out;
}

}  // namespace ragd::ingest
