#include "ingest/ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <unicode/uchar.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

namespace {

// Leptonica reports errors on stderr by default; the library must not print.
void SilenceLeptonica() {
  static std::once_flag once;
  std::call_once(once, [] { setMsgSeverity(L_SEVERITY_NONE); });
}

struct PixDeleter {
  void operator()(Pix* p) const { pixDestroy(&p); }
};
using PixPtr = std::unique_ptr<Pix, PixDeleter>;

// One Tesseract per (data folder, languages) and thread: Init reads the
// language data (tens of MB for chi_sim), too slow to repeat per page.
Result<tesseract::TessBaseAPI*> Tesseract(const std::string& tessdata, const std::string& languages) {
  thread_local std::map<std::string, std::unique_ptr<tesseract::TessBaseAPI>> cache;
  std::string key = tessdata + '\0' + languages;
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  // Tesseract's own messages go to debug_file; set before Init so that
  // even its loading errors stay out of the caller's terminal.
  std::vector<std::string> names = {"debug_file"}, values = {"/dev/null"};
  const bool osd = languages == "osd";
  int rc = api->Init(tessdata.empty() ? nullptr : tessdata.c_str(), languages.c_str(),
                     osd ? tesseract::OEM_TESSERACT_ONLY : tesseract::OEM_DEFAULT, nullptr, 0, &names, &values, false);
  if (rc != 0) {
    std::string where = tessdata.empty() ? "Tesseract's default tessdata folder" : tessdata;
    std::string hint = osd ? "tesseract-ocr-osd" : "the tesseract-ocr-<lang> package for each of " + languages;
    return Status::Unavailable("cannot load Tesseract language data '" + languages + "' from " + where +
                               ": install " + hint + " (make deps does), or choose others with --ocr-lang");
  }
  if (osd) api->SetPageSegMode(tesseract::PSM_OSD_ONLY);
  auto* raw = api.get();
  cache.emplace(std::move(key), std::move(api));
  return raw;
}

// The languages for a script OSD named: only the packaged data (eng,
// chi_sim) is assumed, so every other script reads as English.
std::string LanguagesForScript(std::string_view script) {
  if (script.starts_with("Han") || script == "Japanese" || script == "Hiragana" || script == "Katakana")
    return "chi_sim+eng";
  return "eng";
}

struct Orientation {
  bool known = false;
  int degrees = 0;  // clockwise rotation of the page as scanned
  std::string script;
};

// OSD needs enough text to decide; a page it cannot read is left as it is.
Orientation DetectOrientation(Pix* pix, const OcrOptions& options) {
  Orientation o;
  auto api = Tesseract(options.tessdata, "osd");
  if (!api.ok()) return o;
  (*api)->SetImage(pix);
  (*api)->SetSourceResolution(pixGetXRes(pix));
  int degrees = 0;
  float degrees_conf = 0, script_conf = 0;
  const char* script = nullptr;
  if ((*api)->DetectOrientationScript(&degrees, &degrees_conf, &script, &script_conf)) {
    o.known = true;
    o.degrees = degrees;
    o.script = script ? script : "";
  }
  (*api)->Clear();
  return o;
}

// Tesseract puts a space between the CJK characters of a line; they are
// not word breaks, and they would break phrase matches and citations.
bool IsCjkText(char32_t c) {
  return text::IsCjk(c) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

std::string JoinCjk(std::string_view s) {
  std::string out;
  char32_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    if (c == ' ' && IsCjkText(prev) && i + 1 < s.size()) {
      int next_len = 1;
      if (IsCjkText(text::DecodeAt(s, i + 1, &next_len))) {
        i += len;
        continue;
      }
    }
    out.append(s.substr(i, len));
    prev = c;
    i += len;
  }
  return out;
}

Result<OcrText> Recognize(Pix* pix, const std::string& languages, const OcrOptions& options, const std::string& what) {
  auto api = Tesseract(options.tessdata, languages);
  if (!api.ok()) return api.status().WithContext(what);
  (*api)->SetImage(pix);
  (*api)->SetSourceResolution(pixGetXRes(pix));
  std::unique_ptr<char[]> raw((*api)->GetUTF8Text());
  OcrText out;
  if (raw && text::FindInvalidUtf8(raw.get()) == std::string::npos) out.text = text::NormalizeWhitespace(JoinCjk(raw.get()));
  out.confidence = out.text.empty() ? 0.0f : static_cast<float>((*api)->MeanTextConf()) / 100.0f;
  (*api)->Clear();
  return out;
}

// Turns the page upright (by OSD), picks the languages, reads it. A turn
// that reads badly is checked against the page as it came: OSD guesses
// wrong on sparse pages, and a wrong turn loses everything.
Result<OcrText> ReadPix(Pix* pix, const OcrOptions& options, const std::string& what) {
  Orientation o = DetectOrientation(pix, options);
  std::string languages = options.languages;
  if (languages.empty() || languages == "auto") languages = o.known ? LanguagesForScript(o.script) : "eng+chi_sim";
  PixPtr upright;
  if (o.known && o.degrees % 360 != 0) upright.reset(pixRotateOrth(pix, (4 - o.degrees / 90) % 4));
  RAGD_ASSIGN_OR_RETURN(OcrText best, Recognize(upright ? upright.get() : pix, languages, options, what));
  if (upright && best.confidence < 0.5f) {
    RAGD_ASSIGN_OR_RETURN(OcrText as_is, Recognize(pix, languages, options, what));
    if (as_is.confidence > best.confidence) best = std::move(as_is);
  }
  return best;
}

}  // namespace

bool UsableTextLayer(std::string_view s) {
  if (text::FindInvalidUtf8(s) != std::string::npos) return false;
  int64_t good = 0, other = 0;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = text::DecodeAt(s, i, &len);
    i += len;
    if (u_isspace(c)) continue;
    bool junk = c == 0xFFFD || (c >= 0xE000 && c <= 0xF8FF) || u_iscntrl(c);
    if (!junk && (u_isalnum(c) || text::IsCjk(c))) ++good;
    else ++other;
  }
  return good >= 16 && good >= other;
}

Result<OcrText> OcrPage(const GrayImage& image, const OcrOptions& options, const std::string& what) {
  SilenceLeptonica();
  if (!image.pixels || image.width <= 0 || image.height <= 0 || image.stride < image.width)
    return Status::InvalidArgument(what + ": the page could not be rendered for OCR");
  PixPtr pix(pixCreate(image.width, image.height, 8));
  if (!pix) return Status::Internal(what + ": no memory for a " + std::to_string(image.width) + "x" +
                                             std::to_string(image.height) + " page image");
  pixSetResolution(pix.get(), image.dpi, image.dpi);
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* src = image.pixels + static_cast<size_t>(y) * image.stride;
    l_uint32* line = data + static_cast<size_t>(y) * wpl;
    for (int x = 0; x < image.width; ++x) SET_DATA_BYTE(line, x, src[x]);
  }
  return ReadPix(pix.get(), options, what);
}

Result<LoadedDocument> LoadImage(std::string_view bytes, const std::string& path, const LoadOptions& load) {
  SilenceLeptonica();
  const OcrOptions& options = load.ocr;
  if (!options.enabled)
    return Status::InvalidArgument(path + " is an image and OCR is switched off (--no-ocr, ingest.ocr = false)");
  const auto* data = reinterpret_cast<const l_uint8*>(bytes.data());
  std::vector<PixPtr> pages;
  l_int32 format = IFF_UNKNOWN;
  findFileFormatBuffer(data, &format);
  if (format == IFF_TIFF || format == IFF_TIFF_G3 || format == IFF_TIFF_G4 || format == IFF_TIFF_LZW ||
      format == IFF_TIFF_ZIP || format == IFF_TIFF_PACKBITS || format == IFF_TIFF_RLE || format == IFF_TIFF_JPEG) {
    // Every page of a multi-page TIFF (a scanner's usual output).
    Pixa* pixa = pixaReadMemMultipageTiff(data, bytes.size());
    if (pixa) {
      for (int i = 0; i < pixaGetCount(pixa); ++i) pages.emplace_back(pixaGetPix(pixa, i, L_COPY));
      pixaDestroy(&pixa);
    }
  } else {
    pages.emplace_back(pixReadMem(data, bytes.size()));
  }
  if (pages.empty() || !pages[0])
    return Status::InvalidArgument(path + " is not a readable image (PNG, JPEG and TIFF are read; the file is damaged "
                                          "or of another format)");
  LoadedDocument doc;
  doc.mime = format == IFF_PNG ? "image/png" : format == IFF_JFIF_JPEG ? "image/jpeg" : "image/tiff";
  const int n = static_cast<int>(pages.size());
  for (int i = 0; i < n; ++i) {
    if (!pages[i]) continue;
    if (load.on_ocr_page) load.on_ocr_page(i + 1, n);
    PixPtr gray(pixConvertTo8(pages[i].get(), 0));
    if (!gray) continue;
    int xres = pixGetXRes(pages[i].get());
    pixSetResolution(gray.get(), xres >= 70 && xres <= 2400 ? xres : 300, xres >= 70 && xres <= 2400 ? xres : 300);
    std::string what = n > 1 ? path + " page " + std::to_string(i + 1) : path;
    RAGD_ASSIGN_OR_RETURN(OcrText page, ReadPix(gray.get(), options, what));
    if (page.text.empty()) continue;
    Segment seg{std::move(page.text), n > 1 ? i + 1 : 0};
    seg.ocr_confidence = page.confidence;
    doc.segments.push_back(std::move(seg));
  }
  if (doc.segments.empty()) return Status::InvalidArgument(path + ": OCR found no text in the image");
  return doc;
}

}  // namespace ragd::ingest
