#include "ingest/splitter.h"

#include <algorithm>
#include <deque>

#include "core/text.h"

namespace ragd::ingest {

size_t CodePointLength(std::string_view s) { return static_cast<size_t>(text::CodePointCount(s)); }

RecursiveSplitter::RecursiveSplitter(SplitterOptions options) : options_(std::move(options)) {
  if (options_.chunk_size == 0) options_.chunk_size = 1;
  if (options_.chunk_overlap >= options_.chunk_size) options_.chunk_overlap = options_.chunk_size / 2;
}

namespace {

enum Level { kParagraph, kLine, kSentence, kClause, kSpace, kChar, kLevels };

bool IsClosingMark(char32_t c) {
  return c == U'"' || c == U'\'' || c == U')' || c == U'”' || c == U'’' || c == U'」' || c == U'』' || c == U'）' ||
         c == U'】' || c == U'》';
}

// End (exclusive) of the cut after the separator starting at i, or 0 if no
// separator of this level starts at i. Separators stay with the piece
// before them, so a sentence keeps its full stop.
size_t CutAfter(std::string_view s, size_t i, int level) {
  int len;
  char32_t c = text::DecodeAt(s, i, &len);
  size_t next = i + len;
  switch (level) {
    case kParagraph:
      if (c == '\n' && next < s.size() && s[next] == '\n') {
        while (next < s.size() && s[next] == '\n') ++next;
        return next;
      }
      return 0;
    case kLine:
      return c == '\n' ? next : 0;
    case kSentence: {
      bool ascii_end = (c == '.' || c == '!' || c == '?') && (next >= s.size() || s[next] == ' ' || s[next] == '\n');
      bool cjk_end = c == U'。' || c == U'！' || c == U'？' || c == U'；' || c == U'…';
      if (!ascii_end && !cjk_end) return 0;
      while (next < s.size()) {
        int l2;
        char32_t c2 = text::DecodeAt(s, next, &l2);
        if (!IsClosingMark(c2) && c2 != U'…') break;
        next += l2;
      }
      return next;
    }
    case kClause:
      if (c == U'，' || c == U'、' || c == U'：' || c == U'；') return next;
      if ((c == ',' || c == ';' || c == ':') && next < s.size() && s[next] == ' ') return next;
      return 0;
    case kSpace:
      return c == ' ' || c == '\t' ? next : 0;
    case kChar:
      return next;
  }
  return 0;
}

}  // namespace

void RecursiveSplitter::SplitRecursive(std::string_view text, Span span, int level,
                                       std::vector<std::pair<Span, size_t>>* out) const {
  std::string_view s = text.substr(span.begin, span.end - span.begin);
  size_t len = options_.length(s);
  if (len <= options_.chunk_size || level >= kLevels) {
    out->push_back({span, len});
    return;
  }
  // Cut the span at every separator of this level.
  std::vector<Span> pieces;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    size_t cut = CutAfter(s, i, level);
    if (cut) {
      pieces.push_back({span.begin + start, span.begin + cut});
      start = cut;
      i = cut;
    } else {
      int l;
      text::DecodeAt(s, i, &l);
      i += l;
    }
  }
  if (start < s.size()) pieces.push_back({span.begin + start, span.end});
  if (pieces.size() <= 1) {
    SplitRecursive(text, span, level + 1, out);
    return;
  }
  for (const Span& p : pieces) {
    std::string_view ps = text.substr(p.begin, p.end - p.begin);
    size_t plen = options_.length(ps);
    if (plen > options_.chunk_size) SplitRecursive(text, p, level + 1, out);
    else out->push_back({p, plen});
  }
}

std::vector<Span> RecursiveSplitter::Merge(std::string_view text, const std::vector<std::pair<Span, size_t>>& pieces) const {
  std::vector<Span> chunks;
  std::deque<std::pair<Span, size_t>> window;
  size_t total = 0;
  auto emit = [&] {
    if (window.empty()) return;
    Span c{window.front().first.begin, window.back().first.end};
    if (chunks.empty() || chunks.back().begin != c.begin || chunks.back().end != c.end) chunks.push_back(c);
  };
  for (const auto& piece : pieces) {
    if (!window.empty() && total + piece.second > options_.chunk_size) {
      emit();
      // Keep a tail of at most chunk_overlap for the next chunk, and make
      // room for the incoming piece.
      while (!window.empty() && (total > options_.chunk_overlap || total + piece.second > options_.chunk_size)) {
        total -= window.front().second;
        window.pop_front();
      }
    }
    window.push_back(piece);
    total += piece.second;
  }
  emit();
  return chunks;
}

std::vector<Span> RecursiveSplitter::SplitRows(std::string_view text, size_t header_end) const {
  header_end = std::min(header_end, text.size());
  const std::string header(text.substr(0, header_end));
  // Whether rows [begin, end) fit in a chunk with the header before them.
  auto fits = [&](size_t begin, size_t end) {
    return options_.length(header + "\n" + std::string(text.substr(begin, end - begin))) <= options_.chunk_size;
  };
  std::vector<Span> out;
  Span group;         // rows gathered; the first group starts at 0, with the header
  bool open = false;
  for (size_t pos = std::min(text.size(), header_end + 1); pos < text.size();) {
    size_t eol = std::min(text.find('\n', pos), text.size());
    Span row{pos, eol};
    pos = eol + 1;
    if (text::Trim(text.substr(row.begin, row.end - row.begin)).empty()) continue;
    if (open) {
      if (fits(group.begin == 0 ? header_end + 1 : group.begin, row.end)) {
        group.end = row.end;
        continue;
      }
      out.push_back(group);
      open = false;
    }
    if (fits(row.begin, row.end)) {
      group = out.empty() ? Span{0, row.end} : row;
      open = true;
      continue;
    }
    // One row longer than a chunk: cut like text; the pieces get the header.
    for (Span p : Split(text.substr(row.begin, row.end - row.begin))) out.push_back({row.begin + p.begin, row.begin + p.end});
  }
  if (open) out.push_back(group);
  if (out.empty() && header_end > 0) out.push_back({0, header_end});  // a header without rows
  return out;
}

std::vector<Span> RecursiveSplitter::Split(std::string_view text) const {
  std::vector<std::pair<Span, size_t>> pieces;
  if (!text.empty()) SplitRecursive(text, {0, text.size()}, kParagraph, &pieces);
  std::vector<Span> merged = Merge(text, pieces);
  std::vector<Span> out;
  for (Span c : merged) {
    while (c.begin < c.end && std::isspace(static_cast<unsigned char>(text[c.begin]))) ++c.begin;
    while (c.end > c.begin && std::isspace(static_cast<unsigned char>(text[c.end - 1]))) --c.end;
    if (c.end > c.begin) out.push_back(c);
  }
  return out;
}

}  // namespace ragd::ingest
