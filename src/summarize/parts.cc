// What a summary reads: a file through ingest's loaders, or a knowledge
// base's document from its chunks, cut into numbered parts that fit the
// model's context along the document's own structure.
#include <algorithm>
#include <filesystem>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"
#include "ingest/splitter.h"
#include "ragd/summarize.h"

namespace ragd {

namespace {

// The byte offset of code point k in s (s.size() when past the end).
size_t ByteOfCodePoint(std::string_view s, int64_t k) {
  size_t i = 0;
  for (int64_t c = 0; c < k && i < s.size(); ++c) {
    int len = 1;
    text::DecodeAt(s, i, &len);
    i += len > 0 ? static_cast<size_t>(len) : 1;
  }
  return std::min(i, s.size());
}

// Cuts text into pieces of at most max_tokens with ingest's splitter (at
// paragraphs, lines, sentence ends, clauses, spaces, then characters), without overlap.
std::vector<std::string> Cut(std::string_view text, int max_tokens, const std::function<int(std::string_view)>& count) {
  ingest::SplitterOptions so;
  so.chunk_size = static_cast<size_t>(max_tokens);
  so.chunk_overlap = 0;
  so.length = [&](std::string_view t) { return static_cast<size_t>(std::max(0, count(t))); };
  std::vector<std::string> out;
  for (const ingest::Span& sp : ingest::RecursiveSplitter(so).Split(text)) out.emplace_back(text.substr(sp.begin, sp.end - sp.begin));
  return out;
}

std::string LastHeadings(const std::string& path) {
  // "Handbook > Cards > Fees" -> "Cards > Fees": the whole path repeats the title.
  size_t last = path.rfind(" > ");
  if (last == std::string::npos) return path;
  size_t before = path.rfind(" > ", last == 0 ? 0 : last - 1);
  return before == std::string::npos ? path : path.substr(before + 3);
}

// A part spanning headings is labelled by the headings they share.
std::string CommonHeadings(const std::string& a, const std::string& b) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t ea = a.find(" > ", i), eb = b.find(" > ", i);
    std::string_view ca = std::string_view(a).substr(i, ea == std::string::npos ? std::string::npos : ea - i);
    std::string_view cb = std::string_view(b).substr(i, eb == std::string::npos ? std::string::npos : eb - i);
    if (ca.empty() || ca != cb) return out;
    out = a.substr(0, i + ca.size());
    if (ea == std::string::npos || eb == std::string::npos) return out;
    i = ea + 3;
  }
}

std::string Label(const SummaryPart& p) {
  if (!p.heading_path.empty()) return LastHeadings(p.heading_path);
  if (p.page_first > 0)
    return p.page_first == p.page_last ? "p. " + std::to_string(p.page_first)
                                       : "pp. " + std::to_string(p.page_first) + "-" + std::to_string(p.page_last);
  return "part " + std::to_string(p.n);
}

}  // namespace

std::vector<SummaryPart> SplitIntoParts(const std::vector<SummarySection>& sections, int max_tokens,
                                        const std::function<int(std::string_view)>& count) {
  max_tokens = std::max(max_tokens, 32);
  std::vector<SummaryPart> parts;
  SummaryPart cur;
  auto close = [&] {
    if (text::Trim(cur.text).empty()) return;
    cur.text = std::string(text::Trim(cur.text));
    cur.n = static_cast<int>(parts.size()) + 1;
    cur.tokens = count(cur.text);
    cur.label = Label(cur);
    parts.push_back(std::move(cur));
    cur = SummaryPart();
  };
  for (const SummarySection& s : sections) {
    for (std::string& piece : Cut(s.text, max_tokens, count)) {
      const bool new_heading = !cur.text.empty() && s.heading_path != cur.heading_path;
      const int joined_tokens = cur.text.empty() ? count(piece) : count(cur.text + "\n\n" + piece);
      if (!cur.text.empty() && (joined_tokens > max_tokens || (new_heading && cur.tokens * 2 >= max_tokens))) close();
      if (cur.text.empty()) {
        cur.heading_path = s.heading_path;
        cur.page_first = s.page;
      } else if (s.heading_path != cur.heading_path) {
        cur.heading_path = CommonHeadings(cur.heading_path, s.heading_path);
      }
      if (s.page > 0) cur.page_last = s.page;
      if (cur.page_first == 0) cur.page_first = s.page;
      cur.tokens = cur.text.empty() ? count(piece) : joined_tokens;
      cur.text += (cur.text.empty() ? "" : "\n\n") + piece;
    }
  }
  close();
  return parts;
}

Result<SummaryInput> LoadSummaryInput(const std::string& path, int64_t max_bytes) {
  RAGD_ASSIGN_OR_RETURN(std::string bytes, files::ReadFile(path, max_bytes > 0 ? max_bytes : (int64_t{256} << 20)));
  ingest::TypeDetector detector;
  RAGD_ASSIGN_OR_RETURN(ingest::DocType type, detector.Detect(bytes, path));
  RAGD_ASSIGN_OR_RETURN(ingest::LoadedDocument doc, ingest::LoadDocument(bytes, type, path));
  SummaryInput in;
  in.source = path;
  in.title = !doc.title.empty() ? doc.title : std::filesystem::path(path).stem().string();
  for (auto& seg : doc.segments) in.sections.push_back({std::move(seg.text), seg.page, std::move(seg.heading_path)});
  if (in.sections.empty()) return Status::InvalidArgument(path + " has no text to summarize");
  return in;
}

Result<SummaryInput> KbSummaryInput(Engine& engine, const std::string& kb, const std::string& doc_id) {
  RAGD_ASSIGN_OR_RETURN(DocumentDetail d, engine.GetDocument(kb, doc_id));
  std::sort(d.chunks.begin(), d.chunks.end(), [](const ChunkInfo& a, const ChunkInfo& b) { return a.chunk_index < b.chunk_index; });
  SummaryInput in;
  in.source = doc_id;
  in.title = !d.info.title.empty() ? d.info.title : std::filesystem::path(d.info.source).stem().string();
  int64_t covered = 0;  // code points of the document's text already taken
  for (const ChunkInfo& c : d.chunks) {
    // Chunks overlap (chunk_overlap); keep each character once.
    size_t skip = c.char_start < covered ? ByteOfCodePoint(c.text, covered - c.char_start) : 0;
    covered = std::max(covered, c.char_end);
    std::string_view rest = std::string_view(c.text).substr(skip);
    if (text::Trim(rest).empty()) continue;
    if (!in.sections.empty() && in.sections.back().page == c.page && in.sections.back().heading_path == c.heading_path)
      in.sections.back().text += (skip > 0 ? "" : "\n\n") + std::string(rest);
    else
      in.sections.push_back({std::string(rest), c.page, c.heading_path});
  }
  if (in.sections.empty()) return Status::InvalidArgument("document " + doc_id + " of knowledge base " + kb + " has no text to summarize");
  return in;
}

}  // namespace ragd
