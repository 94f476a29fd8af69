#include "cli/output.h"

#include <cstdio>

#include "core/text.h"

namespace ragd::cli {

int Fail(const Status& st) {
  std::fprintf(stderr, "ragd: error: %s\n", st.ToString().c_str());
  return 1;
}

std::string OneLine(std::string_view s, size_t max_bytes) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
  std::string_view cut = text::TruncateUtf8(out, max_bytes);
  return cut.size() < out.size() ? std::string(cut) + "…" : out;
}

}  // namespace ragd::cli
