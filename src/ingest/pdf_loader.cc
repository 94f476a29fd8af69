// The PDF loader (poppler-cpp): each page's text layer, its tables found
// from where the words sit (as Markdown segments), and pages with no usable
// text layer rendered and read by OCR (ocr.cc).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>

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
  std::vector<std::string> row_texts;  // each row's words joined by single spaces
};

std::vector<PdfTable> FindTables(const std::vector<PdfLine>& lines) {
  std::vector<PdfTable> tables;
  size_t i = 0;
  while (i < lines.size()) {
    const std::vector<PdfCell>& columns = lines[i].cells;
    size_t end = i + 1;
    if (columns.size() >= 2) {
      const double tolerance = std::max(lines[i].height(), 2.0);
      while (end < lines.size()) {
        const PdfLine& line = lines[end];
        const double spacing = line.y0 - lines[end - 1].y1;
        if (line.cells.size() < 2 || line.cells.size() > columns.size() || spacing > 2.5 * line.height()) break;
        bool aligned = std::all_of(line.cells.begin(), line.cells.end(),
                                   [&](const PdfCell& c) { return ColumnOf(c, columns, tolerance) >= 0; });
        if (!aligned) break;
        ++end;
      }
    }
    size_t chars = 0, cells = 0;
    for (size_t l = i; l < end; ++l)
      for (const PdfCell& c : lines[l].cells) chars += static_cast<size_t>(text::CodePointCount(c.text)), ++cells;
    if (end - i >= 3 && cells > 0 && chars / cells <= 30) {
      PdfTable t;
      const double tolerance = std::max(lines[i].height(), 2.0);
      for (size_t l = i; l < end; ++l) {
        std::vector<std::string> row(columns.size());
        std::string joined;
        for (const PdfCell& c : lines[l].cells) {
          int col = ColumnOf(c, columns, tolerance);
          row[col] += (row[col].empty() ? "" : " ") + c.text;
        }
        for (const PdfWord& w : lines[l].words) joined += (joined.empty() ? "" : " ") + w.text;
        t.rows.push_back(std::move(row));
        t.row_texts.push_back(std::move(joined));
      }
      tables.push_back(std::move(t));
      i = end;
    } else {
      ++i;
    }
  }
  return tables;
}

// The page's text without the lines that are rows of its tables (they come
// back as Markdown), when the text layer has them as lines of their own.
std::string WithoutRows(const std::string& page_text, const std::vector<PdfTable>& tables) {
  std::set<std::string> rows;
  for (const PdfTable& t : tables)
    for (const std::string& r : t.row_texts) rows.insert(text::NormalizeWhitespace(r));
  std::string out;
  size_t pos = 0;
  while (pos <= page_text.size()) {
    size_t eol = std::min(page_text.find('\n', pos), page_text.size());
    std::string line = page_text.substr(pos, eol - pos);
    std::string norm = text::NormalizeWhitespace(line);
    if (norm.empty() || !rows.count(norm)) out += line + "\n";
    pos = eol + 1;
  }
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
  std::vector<int> scanned;
  std::vector<std::string> layer(pages);
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (!page) continue;
    // Reading order (not physical columns), over the whole media box: the
    // default rectangle can clip the ends of long lines.
    auto utf8 = page->text(page->page_rect(poppler::media_box), poppler::page::non_raw_non_physical_layout).to_utf8();
    std::string raw(utf8.begin(), utf8.end());
    if (text::FindInvalidUtf8(raw) == std::string::npos) layer[i] = text::NormalizeWhitespace(raw);
    if (!UsableTextLayer(layer[i])) scanned.push_back(i);
  }
  std::vector<Segment> read(pages);
  std::vector<std::vector<Segment>> tables(pages);
  for (int i = 0; i < pages; ++i) {
    if (layer[i].empty()) continue;
    if (std::unique_ptr<poppler::page> page(pdf->create_page(i)); page && UsableTextLayer(layer[i])) {
      std::vector<PdfTable> found = FindTables(PageLines(*page));
      for (const PdfTable& t : found) {
        Segment table = MarkdownTable(t.rows);
        table.page = i + 1;
        tables[i].push_back(std::move(table));
      }
      if (!found.empty()) layer[i] = WithoutRows(layer[i], found);
    }
    read[i] = Segment{std::move(layer[i]), i + 1};
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
