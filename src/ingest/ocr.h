// OCR with Tesseract (Debian's libtesseract and its eng, chi_sim and osd
// data): pages without a usable text layer and image files. Each page is
// turned upright first by Tesseract's orientation and script detection
// (OSD), which also picks the language when OcrOptions::languages is
// "auto".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ragd/ingest.h"
#include "ragd/status.h"

namespace ragd::ingest {

// A page as 8-bit grey pixels, rows `stride` bytes apart.
struct GrayImage {
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
  int dpi = 300;
};

struct OcrText {
  std::string text;        // whitespace-normalised; empty when nothing was read
  float confidence = 0;    // Tesseract's mean word confidence, 0..1
};

// Reads one page. `what` names it in errors ("scan.pdf page 3"). Keeps one
// Tesseract instance per language set and thread, so pages after the first
// pay no start-up cost.
Result<OcrText> OcrPage(const GrayImage& image, const OcrOptions& options, const std::string& what);

// Whether a page's own text layer is worth keeping: enough letters, digits
// or CJK characters, not private-use or replacement characters (fonts
// without a Unicode map), so a scanned page with only a page number or a
// garbled layer is read by OCR instead.
bool UsableTextLayer(std::string_view text);

}  // namespace ragd::ingest
