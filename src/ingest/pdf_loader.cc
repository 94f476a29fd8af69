// The PDF loader (poppler-cpp): each page's text layer, its tables found
// from where the words sit (as Markdown segments), and pages with no usable
// text layer rendered and read by OCR (ocr.cc).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <mutex>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"
#include "ingest/ocr.h"

namespace ragd::ingest {

namespace {

// Poppler reports errors on stderr by default; the library must not print.
void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

// A page rendered in grey for OCR, at options.dpi unless that would pass
// 40 megapixels (a poster-sized page), then as fine as fits.
Result<OcrText> OcrPdfPage(poppler::page& page, const OcrOptions& options, const std::string& what) {
  poppler::rectf box = page.page_rect(poppler::media_box);
  double dpi = options.dpi > 0 ? options.dpi : 300;
  const double pixels = box.width() * box.height() * dpi * dpi / (72.0 * 72.0);
  constexpr double kMaxPixels = 40e6;
  if (pixels > kMaxPixels) dpi *= std::sqrt(kMaxPixels / pixels);
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  renderer.set_render_hints(poppler::page_renderer::antialiasing | poppler::page_renderer::text_antialiasing);
  poppler::image image = renderer.render_page(&page, dpi, dpi);
  if (!image.is_valid()) return Status::InvalidArgument(what + " could not be rendered for OCR");
  GrayImage gray{reinterpret_cast<const uint8_t*>(image.const_data()), image.width(), image.height(),
                 image.bytes_per_row(), static_cast<int>(dpi)};
  return OcrPage(gray, options, what);
}

// Tables in a page's text layer, found from where its words sit: lines of
// words, cut into cells at gaps wider than the line is tall; three or more
// lines in a row with two or more cells whose edges line up make a table.
// Prose in two columns also lines up, so cells must be short (a table's
// cells are words and figures, not sentences).
struct PdfWord {
  std::string text;
  double x0, y0, x1, y1;
};
struct PdfCell {
  std::string text;
  double x0, x1;
};
struct PdfLine {
  double y0, y1;
  std::vector<PdfWord> words;
  std::vector<PdfCell> cells;
  double height() const { return y1 - y0; }
};

std::vector<PdfLine> PageLines(poppler::page& page) {
  std::vector<PdfWord> words;
  for (const poppler::text_box& box : page.text_list()) {
    if (box.rotation() != 0) continue;  // turned text: not a table row
    auto utf8 = box.text().to_utf8();
    std::string t(utf8.begin(), utf8.end());
    if (text::Trim(t).empty() || text::FindInvalidUtf8(t) != std::string::npos) continue;
    poppler::rectf r = box.bbox();
    words.push_back({std::move(t), r.left(), r.top(), r.right(), r.bottom()});
  }
  std::sort(words.begin(), words.end(), [](const PdfWord& a, const PdfWord& b) { return a.y0 + a.y1 < b.y0 + b.y1; });
  std::vector<PdfLine> lines;
  for (PdfWord& w : words) {
    const double mid = (w.y0 + w.y1) / 2;
    if (!lines.empty() && mid > lines.back().y0 && mid < lines.back().y1) {
      lines.back().y0 = std::min(lines.back().y0, w.y0);
      lines.back().y1 = std::max(lines.back().y1, w.y1);
      lines.back().words.push_back(std::move(w));
    } else {
      lines.push_back({w.y0, w.y1, {std::move(w)}, {}});
    }
  }
  for (PdfLine& line : lines) {
    std::sort(line.words.begin(), line.words.end(), [](const PdfWord& a, const PdfWord& b) { return a.x0 < b.x0; });
    const double gap = std::max(line.height(), 1.0);
    for (const PdfWord& w : line.words) {
      if (line.cells.empty() || w.x0 - line.cells.back().x1 > gap) {
        line.cells.push_back({w.text, w.x0, w.x1});
      } else {
        line.cells.back().text += " " + w.text;
        line.cells.back().x1 = std::max(line.cells.back().x1, w.x1);
      }
    }
  }
  return lines;
}

// The column a cell belongs to: one whose left edge, right edge or centre
// lines up with it, or -1.
int ColumnOf(const PdfCell& cell, const std::vector<PdfCell>& columns, double tolerance) {
  for (size_t c = 0; c < columns.size(); ++c) {
    const PdfCell& col = columns[c];
    if (std::abs(cell.x0 - col.x0) < tolerance || std::abs(cell.x1 - col.x1) < tolerance ||
        std::abs((cell.x0 + cell.x1) - (col.x0 + col.x1)) / 2 < tolerance)
      return static_cast<int>(c);
  }
  return -1;
}

struct PdfTable {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row_texts;  // each line's words joined by single spaces, in order
};

// A list's bullet or number ("•", "1.", "a)"): a column of these is a list,
// not a table.
bool IsListMarker(const std::string& cell) {
  if (text::CodePointCount(cell) > 3) return false;
  bool alnum = std::any_of(cell.begin(), cell.end(), [](unsigned char c) { return std::isalnum(c); });
  return !alnum || cell.back() == '.' || cell.back() == ')';
}

std::vector<PdfTable> FindTables(const std::vector<PdfLine>& lines) {
  std::vector<PdfTable> tables;
  size_t i = 0;
  while (i < lines.size()) {
    const std::vector<PdfCell>& columns = lines[i].cells;
    if (columns.size() < 2) {
      ++i;
      continue;
    }
    const double tolerance = std::max(lines[i].height(), 2.0);
    PdfTable t;
    size_t chars = 0, cells = 0;
    auto add_row = [&](const PdfLine& line) {
      std::vector<std::string> row(columns.size());
      for (const PdfCell& c : line.cells) {
        int col = ColumnOf(c, columns, tolerance);
        row[col] += (row[col].empty() ? "" : " ") + c.text;
        chars += static_cast<size_t>(text::CodePointCount(c.text));
        ++cells;
      }
      t.rows.push_back(std::move(row));
    };
    auto line_text = [](const PdfLine& line) {
      std::string joined;
      for (const PdfWord& w : line.words) joined += (joined.empty() ? "" : " ") + w.text;
      return joined;
    };
    add_row(lines[i]);
    t.row_texts.push_back(line_text(lines[i]));
    size_t end = i + 1;
    for (; end < lines.size(); ++end) {
      const PdfLine& line = lines[end];
      if (line.y0 - lines[end - 1].y1 > 2.5 * line.height()) break;
      const bool aligned = line.cells.size() <= columns.size() &&
                           std::all_of(line.cells.begin(), line.cells.end(),
                                       [&](const PdfCell& c) { return ColumnOf(c, columns, tolerance) >= 0; });
      const int first = ColumnOf(line.cells.front(), columns, tolerance);
      if (aligned && line.cells.size() >= 2) {
        add_row(line);
      } else if (first > 0 && line.cells.front().x0 > columns.front().x1) {
        // A cell's text running onto the next line (or a list inside a
        // cell): it belongs to the row above, in the column it starts in.
        std::string& cell = t.rows.back()[first];
        for (const PdfCell& c : line.cells) cell += (cell.empty() ? "" : " ") + c.text;
      } else {
        break;
      }
      t.row_texts.push_back(line_text(line));
    }
    const bool list = std::all_of(t.rows.begin(), t.rows.end(),
                                  [](const std::vector<std::string>& r) { return r[0].empty() || IsListMarker(r[0]); });
    if (t.rows.size() >= 3 && cells > 0 && chars / cells <= 30 && !list) {
      tables.push_back(std::move(t));
      i = end;
    } else {
      ++i;
    }
  }
  return tables;
}

// The page's text without its tables' words, which come back as Markdown:
// each table's words, row by row, are looked for as one run of the text's
// words (line breaks between cells ignored) and cut out. A table the text
// layer orders otherwise (column by column) stays in the text as well.
std::string WithoutTables(const std::string& page_text, const std::vector<PdfTable>& tables) {
  struct Word {
    std::string_view text;
    size_t begin, end;
  };
  auto split = [](std::string_view s, size_t offset) {
    std::vector<Word> words;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      size_t start = i;
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i > start) words.push_back({s.substr(start, i - start), offset + start, offset + i});
    }
    return words;
  };
  const std::vector<Word> words = split(page_text, 0);
  std::vector<std::pair<size_t, size_t>> cuts;  // byte spans to drop
  for (const PdfTable& t : tables) {
    std::string all;
    for (const std::string& r : t.row_texts) all += r + " ";
    const std::vector<Word> want = split(all, 0);
    if (want.empty() || want.size() > words.size()) continue;
    for (size_t k = 0; k + want.size() <= words.size(); ++k) {
      size_t m = 0;
      while (m < want.size() && words[k + m].text == want[m].text) ++m;
      if (m == want.size()) {
        cuts.emplace_back(words[k].begin, words[k + m - 1].end);
        break;
      }
    }
  }
  if (cuts.empty()) return page_text;
  std::sort(cuts.begin(), cuts.end());
  std::string out;
  size_t pos = 0;
  for (const auto& [b, e] : cuts) {
    if (b < pos) continue;
    out += page_text.substr(pos, b - pos) + "\n";
    pos = e;
  }
  out += page_text.substr(pos);
  return text::NormalizeWhitespace(out);
}

}  // namespace

Result<LoadedDocument> LoadPdf(std::string_view bytes, const std::string& path, const LoadOptions& options) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument(path + " is too large for the PDF reader");
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!pdf) {
    if (!bytes.starts_with("%PDF-")) return Status::InvalidArgument(path + " is not a PDF file (no %PDF- header)");
    return Status::InvalidArgument(path + " is a damaged or truncated PDF that cannot be opened");
  }
  if (pdf->is_locked())
    return Status::InvalidArgument(path + " is an encrypted PDF; decrypt it first (e.g. qpdf --decrypt)");
  LoadedDocument doc;
  doc.mime = "application/pdf";
  poppler::ustring title = pdf->info_key("Title");
  if (!title.empty()) {
    auto utf8 = title.to_utf8();
    doc.title = std::string(utf8.begin(), utf8.end());
  }
  const int pages = pdf->pages();
  // Pages OCR must read: no usable text layer (scans, or a scanned page in
  // a digital PDF). Counted first so the progress knows the total. What
  // little text such a page has is kept when OCR is off or reads nothing.
  // A page with a text layer has its tables found from the same page object.
  std::vector<int> scanned;
  std::vector<Segment> read(pages);
  std::vector<std::vector<Segment>> tables(pages);
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (!page) continue;
    // Reading order (not physical columns), over the whole media box: the
    // default rectangle can clip the ends of long lines.
    auto utf8 = page->text(page->page_rect(poppler::media_box), poppler::page::non_raw_non_physical_layout).to_utf8();
    std::string raw(utf8.begin(), utf8.end());
    std::string layer = text::FindInvalidUtf8(raw) == std::string::npos ? text::NormalizeWhitespace(raw) : "";
    if (UsableTextLayer(layer)) {
      std::vector<PdfTable> found = FindTables(PageLines(*page));
      for (const PdfTable& t : found) {
        Segment table = MarkdownTable(t.rows);
        table.page = i + 1;
        tables[i].push_back(std::move(table));
      }
      if (!found.empty()) layer = WithoutTables(layer, found);
    } else {
      scanned.push_back(i);
    }
    read[i] = Segment{std::move(layer), i + 1};
  }
  if (options.ocr.enabled) {
    for (size_t n = 0; n < scanned.size(); ++n) {
      const int i = scanned[n];
      if (options.on_ocr_page) options.on_ocr_page(static_cast<int>(n) + 1, static_cast<int>(scanned.size()));
      std::unique_ptr<poppler::page> page(pdf->create_page(i));
      if (!page) continue;
      RAGD_ASSIGN_OR_RETURN(OcrText ocr, OcrPdfPage(*page, options.ocr, path + " page " + std::to_string(i + 1)));
      if (ocr.text.empty()) continue;  // the page's few characters of text layer stay
      read[i] = Segment{std::move(ocr.text), i + 1};
      read[i].ocr_confidence = ocr.confidence;
    }
  }
  for (int i = 0; i < pages; ++i) {
    if (!read[i].text.empty()) doc.segments.push_back(std::move(read[i]));
    for (Segment& t : tables[i]) doc.segments.push_back(std::move(t));
  }
  if (doc.segments.empty()) {
    if (!options.ocr.enabled)
      return Status::InvalidArgument(path + " has no text layer (" + std::to_string(pages) +
                                     " page(s), scanned images only?) and OCR is switched off (--no-ocr)");
    return Status::InvalidArgument(path + " has no text layer and OCR found no text on its " + std::to_string(pages) +
                                   " page(s)");
  }
  return doc;
}

}  // namespace ragd::ingest
