// Loaders for PDF (poppler-cpp, text layer) and DOCX (libzip + pugixml).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <pugixml.hpp>
#include <zip.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

namespace {

// Poppler reports errors on stderr by default; the library must not print.
void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

constexpr int64_t kMaxDocxXmlBytes = 64 << 20;  // uncompressed document.xml
constexpr int64_t kMaxDocxRatio = 200;          // compression ratio beyond which we suspect a bomb

}  // namespace

Result<LoadedDocument> LoadPdf(std::string_view bytes, const std::string& path) {
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
  int pages = pdf->pages();
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (!page) continue;
    // Reading order (not physical columns), over the whole media box: the
    // default rectangle can clip the ends of long lines.
    auto utf8 = page->text(page->page_rect(poppler::media_box), poppler::page::non_raw_non_physical_layout).to_utf8();
    std::string raw(utf8.begin(), utf8.end());
    if (text::FindInvalidUtf8(raw) != std::string::npos) continue;
    std::string norm = text::NormalizeWhitespace(raw);
    if (norm.empty()) continue;
    doc.segments.push_back(Segment{std::move(norm), i + 1});
  }
  if (doc.segments.empty())
    return Status::InvalidArgument(path + " has no text layer (" + std::to_string(pages) +
                                   " page(s), scanned images only?); OCR is not supported yet");
  return doc;
}

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

Result<std::string> ReadZipEntry(zip_t* zip, const char* name, const std::string& path, bool required) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(zip, name, 0, &st) != 0) {
    if (!required) return std::string();
    return Status::InvalidArgument(path + " is not a DOCX document: the archive has no " + name);
  }
  if ((st.valid & ZIP_STAT_SIZE) && static_cast<int64_t>(st.size) > kMaxDocxXmlBytes)
    return Status::InvalidArgument(path + ": " + name + " would expand to " + std::to_string(st.size) +
                                   " bytes, above the 64 MiB limit (zip bomb?)");
  if ((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > 0 &&
      static_cast<int64_t>(st.size / st.comp_size) > kMaxDocxRatio && st.size > (1 << 20))
    return Status::InvalidArgument(path + ": " + name + " is compressed " + std::to_string(st.size / st.comp_size) +
                                   ":1, beyond what a real document needs (zip bomb?)");
  zip_file_t* f = zip_fopen(zip, name, 0);
  if (!f) return Status::InvalidArgument(path + ": cannot open " + name + " inside the archive");
  std::string out;
  char buf[1 << 16];
  zip_int64_t n;
  while ((n = zip_fread(f, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > kMaxDocxXmlBytes) {
      zip_fclose(f);
      return Status::InvalidArgument(path + ": " + name + " expands beyond the 64 MiB limit (zip bomb?)");
    }
  }
  zip_fclose(f);
  if (n < 0) return Status::InvalidArgument(path + ": " + name + " is corrupt inside the archive");
  return out;
}

// Maps style ids to heading levels using styles.xml ("heading 1" names or
// outline levels), so localised Word templates work too.
std::map<std::string, int> HeadingStyles(const std::string& styles_xml) {
  std::map<std::string, int> levels;
  pugi::xml_document xml;
  if (styles_xml.empty() || !xml.load_buffer(styles_xml.data(), styles_xml.size())) return levels;
  for (pugi::xml_node style : xml.child("w:styles").children("w:style")) {
    std::string id = style.attribute("w:styleId").value();
    std::string name = style.child("w:name").attribute("w:val").value();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    int level = 0;
    if (name.starts_with("heading ")) level = std::atoi(name.c_str() + 8);
    else if (name == "title") level = 1;
    pugi::xml_node outline = style.child("w:pPr").child("w:outlineLvl");
    if (!level && outline) level = outline.attribute("w:val").as_int() + 1;
    if (level > 0 && level < 10) levels[id] = level;
  }
  return levels;
}

void RunText(pugi::xml_node node, std::string* out) {
  for (pugi::xml_node n : node.children()) {
    std::string_view name = n.name();
    if (name == "w:t") out->append(n.text().get());
    else if (name == "w:tab") out->push_back('\t');
    else if (name == "w:br" || name == "w:cr") out->push_back('\n');
    else if (name == "w:p") { RunText(n, out); out->push_back('\n'); }
    else RunText(n, out);
  }
}

}  // namespace

Result<LoadedDocument> LoadDocx(std::string_view bytes, const std::string& path) {
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &zerr);
  if (!src) return Status::InvalidArgument(path + ": cannot read the archive");
  std::unique_ptr<zip_t, ZipCloser> zip(zip_open_from_source(src, ZIP_RDONLY, &zerr));
  if (!zip) {
    zip_source_free(src);
    zip_error_fini(&zerr);
    return Status::InvalidArgument(path + " is not a valid DOCX document (not a zip archive)");
  }
  auto body = ReadZipEntry(zip.get(), "word/document.xml", path, true);
  if (!body.ok()) return body.status();
  auto styles = ReadZipEntry(zip.get(), "word/styles.xml", path, false);
  std::map<std::string, int> heading_styles = HeadingStyles(styles.ok() ? styles.value() : "");

  pugi::xml_document xml;
  pugi::xml_parse_result parsed = xml.load_buffer(body->data(), body->size());
  if (!parsed)
    return Status::InvalidArgument(path + ": word/document.xml is not well-formed XML (" +
                                   std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset) + ")");
  pugi::xml_node xbody = xml.child("w:document").child("w:body");
  if (!xbody) return Status::InvalidArgument(path + ": word/document.xml has no w:body");

  LoadedDocument doc;
  doc.mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  std::vector<std::string> stack;
  std::string current;
  auto flush = [&] {
    std::string norm = text::NormalizeWhitespace(current);
    if (!norm.empty()) doc.segments.push_back(Segment{std::move(norm), 0, JoinHeadingPath(stack)});
    current.clear();
  };
  for (pugi::xml_node block : xbody.children()) {
    std::string_view name = block.name();
    if (name == "w:p") {
      std::string para;
      RunText(block, &para);
      std::string style = block.child("w:pPr").child("w:pStyle").attribute("w:val").value();
      int level = 0;
      if (auto it = heading_styles.find(style); it != heading_styles.end()) level = it->second;
      else if (style.starts_with("Heading")) level = std::atoi(style.c_str() + 7);
      if (level > 0) {
        flush();
        std::string h = text::NormalizeWhitespace(para);
        if (doc.title.empty() && level == 1) doc.title = h;
        stack.resize(std::min<size_t>(stack.size(), level - 1));
        while (static_cast<int>(stack.size()) < level - 1) stack.emplace_back();
        stack.push_back(h);
        current = h + "\n\n";
      } else {
        current += para + "\n\n";
      }
    } else if (name == "w:tbl") {
      for (pugi::xml_node row : block.children("w:tr")) {
        std::string line;
        for (pugi::xml_node cell : row.children("w:tc")) {
          std::string cell_text;
          RunText(cell, &cell_text);
          if (!line.empty()) line += " | ";
          line += text::NormalizeWhitespace(cell_text);
        }
        current += line + "\n";
      }
      current += "\n";
    }
  }
  flush();
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text");
  return doc;
}

}  // namespace ragd::ingest
