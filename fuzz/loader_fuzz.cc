// One libFuzzer target per loader (RAGD_FUZZ_TYPE is a DocType enumerator,
// set by fuzz/CMakeLists.txt). The loaded document is also chunked, so the
// chunker's offsets are fuzzed with every format.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "ingest/chunker.h"
#include "ingest/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ragd::ingest;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // OCR off: Tesseract takes about a second a page, which would leave the
  // fuzzer a handful of inputs; the parsers are what is fuzzed here, and
  // the OCR path is tested on real scans (tests/unit/documents_test.cc).
  LoadOptions load;
  load.ocr.enabled = false;
  auto doc = LoadDocument(bytes, DocType::RAGD_FUZZ_TYPE, "fuzz-input", load);
  if (!doc.ok()) {
    FUZZ_CHECK(!doc.status().message().empty(), "an error carries a message");
    return 0;
  }
  CheckUtf8(doc->title, "title is UTF-8");
  for (const Segment& s : doc->segments) CheckUtf8(s.text, "segment text is UTF-8");
  static const RecursiveSplitter splitter(SplitterOptions{200, 30});
  int64_t last_start = 0;
  for (const auto& c : ChunkDocument(doc.value(), splitter)) {
    CheckUtf8(c.text, "chunk text is UTF-8");
    FUZZ_CHECK(!c.text.empty(), "chunks are not empty");
    FUZZ_CHECK(0 <= c.char_start && c.char_start <= c.char_end, "chunk offsets are ordered");
    FUZZ_CHECK(c.char_start >= last_start, "chunks come in document order");
    last_start = c.char_start;
  }
  return 0;
}
