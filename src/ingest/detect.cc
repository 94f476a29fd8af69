#include <magic.h>

#include <algorithm>
#include <filesystem>

#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

const char* DocTypeName(DocType t) {
  switch (t) {
    case DocType::kText: return "text";
    case DocType::kMarkdown: return "markdown";
    case DocType::kHtml: return "html";
    case DocType::kPdf: return "pdf";
    case DocType::kDocx: return "docx";
    case DocType::kPptx: return "pptx";
    case DocType::kXlsx: return "xlsx";
    case DocType::kImage: return "image";
    case DocType::kCsv: return "csv";
    case DocType::kJson: return "json";
    case DocType::kJsonl: return "jsonl";
  }
  return "?";
}

TypeDetector::TypeDetector() {
  magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
  if (m && magic_load(m, nullptr) != 0) {
    magic_close(m);
    m = nullptr;
  }
  magic_ = m;
}

TypeDetector::~TypeDetector() {
  if (magic_) magic_close(static_cast<magic_t>(magic_));
}

std::string TypeDetector::Mime(std::string_view bytes) {
  if (!magic_) return "application/octet-stream";
  const char* mime = magic_buffer(static_cast<magic_t>(magic_), bytes.data(), bytes.size());
  return mime ? mime : "application/octet-stream";
}

static std::string LowerExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

static bool IsTextLike(const std::string& mime) {
  return mime.starts_with("text/") || mime == "application/json" || mime == "application/csv" ||
         mime == "application/x-ndjson" || mime == "application/javascript";
}

Result<DocType> TypeDetector::Detect(std::string_view bytes, const std::string& path) {
  if (bytes.empty()) return Status::InvalidArgument(path + " is empty");
  std::string mime = Mime(bytes);
  std::string ext = LowerExtension(path);
  if (mime == "application/pdf") return DocType::kPdf;
  if (mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document") return DocType::kDocx;
  // A .docx that is not recognised as one still goes to the DOCX loader,
  // which says precisely what is wrong with it.
  if (ext == ".docx") return DocType::kDocx;
  if (mime == "application/vnd.openxmlformats-officedocument.presentationml.presentation" || ext == ".pptx")
    return DocType::kPptx;
  if (mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
      mime == "application/vnd.ms-excel.sheet.macroEnabled.12" || ext == ".xlsx" || ext == ".xlsm")
    return DocType::kXlsx;
  if (mime == "image/png" || mime == "image/jpeg" || mime == "image/tiff") return DocType::kImage;
  if (ext == ".pdf") return DocType::kPdf;
  if (mime == "text/html" || mime == "application/xhtml+xml") {
    if (ext == ".md" || ext == ".markdown") return DocType::kMarkdown;
    return DocType::kHtml;
  }
  bool text_like = IsTextLike(mime);
  if (!text_like) {
    // libmagic calls some legacy-encoded text (e.g. GB18030) binary; accept it
    // if it converts to UTF-8 cleanly and contains no NUL bytes.
    bool has_nul = bytes.find('\0') != std::string_view::npos;
    if (!has_nul && text::ToUtf8(bytes.substr(0, 1 << 16), path).ok()) text_like = true;
  }
  if (!text_like)
    return Status::InvalidArgument(path + " has binary content (" + mime + "), not a supported document type "
                                   "(.txt .md .html .pdf .docx .pptx .xlsx .xlsm .csv .json .jsonl .png .jpg .tif)");
  if (ext == ".md" || ext == ".markdown") return DocType::kMarkdown;
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return DocType::kHtml;
  if (ext == ".csv" || ext == ".tsv") return DocType::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson") return DocType::kJsonl;
  if (ext == ".json" || mime == "application/json") return DocType::kJson;
  if (mime == "text/csv" || mime == "application/csv") return DocType::kCsv;
  return DocType::kText;
}

Result<LoadedDocument> LoadDocument(std::string_view bytes, DocType type, const std::string& path,
                                    const LoadOptions& options) {
  switch (type) {
    case DocType::kText: return LoadText(bytes, path);
    case DocType::kMarkdown: return LoadMarkdown(bytes, path);
    case DocType::kHtml: return LoadHtml(bytes, path);
    case DocType::kPdf: return LoadPdf(bytes, path, options);
    case DocType::kDocx: return LoadDocx(bytes, path);
    case DocType::kPptx: return LoadPptx(bytes, path);
    case DocType::kXlsx: return LoadXlsx(bytes, path);
    case DocType::kImage: return LoadImage(bytes, path, options);
    case DocType::kCsv: return LoadCsv(bytes, path);
    case DocType::kJson: return LoadJson(bytes, path);
    case DocType::kJsonl: return LoadJsonl(bytes, path);
  }
  return Status::InvalidArgument("unknown document type");
}

}  // namespace ragd::ingest
