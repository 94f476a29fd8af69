// The PDF loader (poppler-cpp): each page's text layer, and pages with no
// usable text layer rendered and read by OCR (ocr.cc).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

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
  for (int i = 0; i < pages; ++i)
    if (!layer[i].empty()) read[i] = Segment{std::move(layer[i]), i + 1};
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
  for (Segment& s : read)
    if (!s.text.empty()) doc.segments.push_back(std::move(s));
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
