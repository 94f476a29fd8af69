// The type detector on any bytes under any of the supported extensions:
// libmagic plus ragd's text sniffing (charset detection).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ingest/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kNames[] = {"a.txt", "a.md", "a.html", "a.pdf", "a.docx", "a.csv", "a.json", "a.jsonl", "a"};
  if (size == 0) return 0;
  static ragd::ingest::TypeDetector detector;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto type = detector.Detect(bytes, kNames[data[0] % 9]);
  if (!type.ok()) FUZZ_CHECK(!type.status().message().empty(), "an error carries a message");
  auto utf8 = ragd::text::ToUtf8(bytes, "fuzz-input");
  if (utf8.ok()) CheckUtf8(utf8.value(), "ToUtf8 returns UTF-8");
  return 0;
}
