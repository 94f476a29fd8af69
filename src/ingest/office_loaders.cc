// Loaders for Office Open XML (libzip + pugixml): DOCX, PPTX, XLSX/XLSM.
#include <pugixml.hpp>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

namespace {

constexpr int64_t kMaxXmlBytes = 64 << 20;  // one part of the archive, uncompressed
constexpr int64_t kMaxRatio = 200;          // compression ratio beyond which we suspect a bomb

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

// The archive of an Office document; `kind` ("DOCX") names it in errors.
Result<ZipPtr> OpenZip(std::string_view bytes, const std::string& path, const char* kind) {
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &zerr);
  if (!src) return Status::InvalidArgument(path + ": cannot read the archive");
  ZipPtr zip(zip_open_from_source(src, ZIP_RDONLY, &zerr));
  zip_error_fini(&zerr);
  if (!zip) {
    zip_source_free(src);
    return Status::InvalidArgument(path + " is not a valid " + kind + " document (not a zip archive)");
  }
  return zip;
}

// One part of the archive, bounded against zip bombs. A missing optional
// part is empty; a missing required one names the part.
Result<std::string> ReadZipEntry(zip_t* zip, const std::string& entry, const std::string& path, bool required,
                                 const char* kind = "DOCX") {
  const char* name = entry.c_str();
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(zip, name, 0, &st) != 0) {
    if (!required) return std::string();
    return Status::InvalidArgument(path + " is not a " + kind + " document: the archive has no " + entry);
  }
  if ((st.valid & ZIP_STAT_SIZE) && static_cast<int64_t>(st.size) > kMaxXmlBytes)
    return Status::InvalidArgument(path + ": " + name + " would expand to " + std::to_string(st.size) +
                                   " bytes, above the 64 MiB limit (zip bomb?)");
  if ((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > 0 &&
      static_cast<int64_t>(st.size / st.comp_size) > kMaxRatio && st.size > (1 << 20))
    return Status::InvalidArgument(path + ": " + name + " is compressed " + std::to_string(st.size / st.comp_size) +
                                   ":1, beyond what a real document needs (zip bomb?)");
  zip_file_t* f = zip_fopen(zip, name, 0);
  if (!f) return Status::InvalidArgument(path + ": cannot open " + name + " inside the archive");
  std::string out;
  char buf[1 << 16];
  zip_int64_t n;
  while ((n = zip_fread(f, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > kMaxXmlBytes) {
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
  RAGD_ASSIGN_OR_RETURN(ZipPtr zip, OpenZip(bytes, path, "DOCX"));
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
      // A table is its own segment, as Markdown, so its rows stay whole.
      std::vector<std::vector<std::string>> rows;
      for (pugi::xml_node row : block.children("w:tr")) {
        std::vector<std::string> cells;
        for (pugi::xml_node cell : row.children("w:tc")) {
          std::string cell_text;
          RunText(cell, &cell_text);
          // A merged cell (gridSpan) fills each column it spans.
          int span = std::clamp(cell.child("w:tcPr").child("w:gridSpan").attribute("w:val").as_int(1), 1, 64);
          for (int i = 0; i < span; ++i) cells.push_back(cell_text);
        }
        rows.push_back(std::move(cells));
      }
      Segment table = MarkdownTable(rows, JoinHeadingPath(stack));
      if (!table.text.empty()) {
        flush();
        doc.segments.push_back(std::move(table));
      }
    }
  }
  flush();
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text");
  return doc;
}

}  // namespace ragd::ingest

namespace ragd::ingest {

namespace {

Status ParseXml(const std::string& xml_text, pugi::xml_document* xml, const std::string& path, const std::string& entry) {
  pugi::xml_parse_result parsed = xml->load_buffer(xml_text.data(), xml_text.size());
  if (!parsed)
    return Status::InvalidArgument(path + ": " + entry + " is not well-formed XML (" + parsed.description() +
                                   " at byte " + std::to_string(parsed.offset) + ")");
  return Status::OK();
}

// A part's name from a relationship target: relative to the folder of the
// part that names it (`base`, e.g. "ppt/slides"), or absolute from "/".
std::string ResolvePart(const std::string& base, const std::string& target) {
  std::vector<std::string> parts;
  auto push = [&](std::string_view p) {
    size_t start = 0;
    while (start <= p.size()) {
      size_t slash = std::min(p.find('/', start), p.size());
      std::string_view piece = p.substr(start, slash - start);
      if (piece == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!piece.empty() && piece != ".") {
        parts.emplace_back(piece);
      }
      start = slash + 1;
    }
  };
  if (!target.starts_with('/')) push(base);
  push(target);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

struct Relationship {
  std::string type;    // the last segment of its type URI ("slide", "notesSlide", "worksheet")
  std::string target;  // resolved part name
};

// A part's relationships (its _rels/<name>.rels), by id. Missing = none.
Result<std::map<std::string, Relationship>> Relationships(zip_t* zip, const std::string& part, const std::string& path,
                                                          const char* kind) {
  size_t slash = part.rfind('/');
  std::string folder = slash == std::string::npos ? "" : part.substr(0, slash);
  std::string name = slash == std::string::npos ? part : part.substr(slash + 1);
  std::string rels_name = (folder.empty() ? "" : folder + "/") + "_rels/" + name + ".rels";
  RAGD_ASSIGN_OR_RETURN(std::string rels, ReadZipEntry(zip, rels_name, path, false, kind));
  std::map<std::string, Relationship> out;
  if (rels.empty()) return out;
  pugi::xml_document xml;
  RAGD_RETURN_IF_ERROR(ParseXml(rels, &xml, path, rels_name));
  for (pugi::xml_node r : xml.child("Relationships").children("Relationship")) {
    std::string type = r.attribute("Type").value();
    if (size_t s = type.rfind('/'); s != std::string::npos) type = type.substr(s + 1);
    if (r.attribute("TargetMode").value() == std::string_view("External")) continue;
    out[r.attribute("Id").value()] = {type, ResolvePart(folder, r.attribute("Target").value())};
  }
  return out;
}

// The text of DrawingML paragraphs (a:p) under node, one line each.
void DrawingText(pugi::xml_node node, std::string* out) {
  for (pugi::xml_node n : node.children()) {
    std::string_view name = n.name();
    if (name == "a:p") {
      std::string line;
      for (pugi::xml_node r : n.children()) {
        std::string_view rn = r.name();
        if (rn == "a:r" || rn == "a:fld") line += r.child("a:t").text().get();
        else if (rn == "a:br") line += "\n";
      }
      if (!text::Trim(line).empty()) *out += line + "\n";
    } else {
      DrawingText(n, out);
    }
  }
}

std::vector<std::vector<std::string>> DrawingTable(pugi::xml_node tbl) {
  std::vector<std::vector<std::string>> rows;
  for (pugi::xml_node tr : tbl.children("a:tr")) {
    std::vector<std::string> cells;
    for (pugi::xml_node tc : tr.children("a:tc")) {
      std::string cell;
      DrawingText(tc, &cell);
      cells.push_back(std::move(cell));
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

struct SlideContent {
  std::string title;
  std::string body;
  std::vector<std::vector<std::vector<std::string>>> tables;
};

// Shapes in document order, into groups; a title placeholder is the title.
void SlideShapes(pugi::xml_node tree, SlideContent* out, int depth = 0) {
  if (depth > 32) return;
  for (pugi::xml_node shape : tree.children()) {
    std::string_view name = shape.name();
    if (name == "p:grpSp") {
      SlideShapes(shape, out, depth + 1);
    } else if (name == "p:sp") {
      std::string text;
      DrawingText(shape.child("p:txBody"), &text);
      std::string_view ph = shape.child("p:nvSpPr").child("p:nvPr").child("p:ph").attribute("type").value();
      if ((ph == "title" || ph == "ctrTitle") && out->title.empty()) out->title = text::NormalizeWhitespace(text);
      else if (ph != "sldNum" && ph != "dt" && ph != "ftr") out->body += text + "\n";
    } else if (name == "p:graphicFrame") {
      pugi::xml_node tbl = shape.child("a:graphic").child("a:graphicData").child("a:tbl");
      if (tbl) out->tables.push_back(DrawingTable(tbl));
    }
  }
}

// A notes slide's own notes: its body placeholders (not the slide image or
// the slide number it also carries).
std::string NotesText(pugi::xml_node tree) {
  std::string out;
  for (pugi::xpath_node found : tree.select_nodes(".//p:sp")) {
    pugi::xml_node shape = found.node();
    std::string_view ph = shape.child("p:nvSpPr").child("p:nvPr").child("p:ph").attribute("type").value();
    if (ph == "body") DrawingText(shape.child("p:txBody"), &out);
  }
  return text::NormalizeWhitespace(out);
}

// An Office package opened at its main part: the archive, the part parsed,
// and the part's relationships.
struct Package {
  ZipPtr zip;
  pugi::xml_document main;
  std::map<std::string, Relationship> rels;
};

Status OpenPackage(std::string_view bytes, const std::string& path, const char* kind, const std::string& main_part,
                   Package* out) {
  RAGD_ASSIGN_OR_RETURN(out->zip, OpenZip(bytes, path, kind));
  RAGD_ASSIGN_OR_RETURN(std::string xml, ReadZipEntry(out->zip.get(), main_part, path, true, kind));
  RAGD_RETURN_IF_ERROR(ParseXml(xml, &out->main, path, main_part));
  RAGD_ASSIGN_OR_RETURN(out->rels, Relationships(out->zip.get(), main_part, path, kind));
  return Status::OK();
}

std::string CoreTitle(zip_t* zip, const std::string& path) {
  auto core = ReadZipEntry(zip, "docProps/core.xml", path, false);
  if (!core.ok() || core->empty()) return "";
  pugi::xml_document xml;
  if (!xml.load_buffer(core->data(), core->size())) return "";
  return text::NormalizeWhitespace(xml.first_child().child("dc:title").text().get());
}

}  // namespace

Result<LoadedDocument> LoadPptx(std::string_view bytes, const std::string& path) {
  Package package;
  RAGD_RETURN_IF_ERROR(OpenPackage(bytes, path, "PPTX", "ppt/presentation.xml", &package));
  zip_t* zip = package.zip.get();
  const auto& rels = package.rels;
  LoadedDocument doc;
  doc.mime = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
  doc.title = CoreTitle(zip, path);
  int number = 0;
  for (pugi::xml_node id : package.main.child("p:presentation").child("p:sldIdLst").children("p:sldId")) {
    ++number;  // the slide's number as shown, hidden slides included
    auto rel = rels.find(id.attribute("r:id").value());
    if (rel == rels.end()) continue;
    const std::string& part = rel->second.target;
    RAGD_ASSIGN_OR_RETURN(std::string slide_xml, ReadZipEntry(zip, part, path, false, "PPTX"));
    if (slide_xml.empty()) continue;
    pugi::xml_document slide;
    RAGD_RETURN_IF_ERROR(ParseXml(slide_xml, &slide, path, part));
    SlideContent content;
    SlideShapes(slide.child("p:sld").child("p:cSld").child("p:spTree"), &content);
    // Speaker notes: the notesSlide the slide's relationships name.
    std::string notes;
    RAGD_ASSIGN_OR_RETURN(auto slide_rels, Relationships(zip, part, path, "PPTX"));
    for (const auto& [rid, r] : slide_rels) {
      if (r.type != "notesSlide") continue;
      RAGD_ASSIGN_OR_RETURN(std::string notes_xml, ReadZipEntry(zip, r.target, path, false, "PPTX"));
      pugi::xml_document notes_doc;
      if (!notes_xml.empty() && notes_doc.load_buffer(notes_xml.data(), notes_xml.size()))
        notes = NotesText(notes_doc.child("p:notes").child("p:cSld").child("p:spTree"));
    }
    if (doc.title.empty() && number == 1) doc.title = content.title;
    std::string heading = content.title.empty() ? "Slide " + std::to_string(number) : content.title;
    std::string body = content.title;
    if (!text::Trim(content.body).empty()) body += (body.empty() ? "" : "\n\n") + content.body;
    if (!notes.empty()) body += "\n\nSpeaker notes: " + notes;
    body = text::NormalizeWhitespace(body);
    if (!body.empty()) doc.segments.push_back(Segment{std::move(body), number, heading});
    for (const auto& rows : content.tables) {
      Segment table = MarkdownTable(rows, heading);
      table.page = number;
      if (!table.text.empty()) doc.segments.push_back(std::move(table));
    }
  }
  if (number == 0) return Status::InvalidArgument(path + " is a presentation without slides");
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text on its " + std::to_string(number) + " slide(s)");
  return doc;
}

namespace {

// "BC12" -> column 54 (0-based 54), row 12; false for anything else.
bool ParseCellRef(std::string_view ref, int* col, int* row) {
  size_t i = 0;
  int c = 0;
  while (i < ref.size() && std::isalpha(static_cast<unsigned char>(ref[i]))) {
    c = c * 26 + (std::toupper(static_cast<unsigned char>(ref[i])) - 'A' + 1);
    if (c > 16384) return false;
    ++i;
  }
  if (i == 0 || i == ref.size()) return false;
  int r = 0;
  for (; i < ref.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(ref[i]))) return false;
    r = r * 10 + (ref[i] - '0');
    if (r > 1048576) return false;
  }
  *col = c - 1;
  *row = r;
  return r > 0;
}

// A shared string: its text runs, without phonetic guides (rPh).
std::string SharedStringText(pugi::xml_node si) {
  std::string out = si.child("t").text().get();
  for (pugi::xml_node r : si.children("r")) out += r.child("t").text().get();
  return out;
}

// Which cell styles (indexes into cellXfs) show numbers as dates: the
// built-in date formats 14-22 and 45-47, and custom formats with y, d or
// m-without-h (not elapsed times or plain numbers).
std::vector<bool> DateStyles(const std::string& styles_xml) {
  std::vector<bool> out;
  pugi::xml_document xml;
  if (styles_xml.empty() || !xml.load_buffer(styles_xml.data(), styles_xml.size())) return out;
  pugi::xml_node sheet = xml.child("styleSheet");
  std::map<int, bool> custom;
  for (pugi::xml_node f : sheet.child("numFmts").children("numFmt")) {
    std::string code = f.attribute("formatCode").value();
    std::string bare;  // without quoted text and [colour] brackets
    bool quoted = false, bracket = false;
    for (char ch : code) {
      if (ch == '"') quoted = !quoted;
      else if (!quoted && ch == '[') bracket = true;
      else if (!quoted && ch == ']') bracket = false;
      else if (!quoted && !bracket) bare.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    custom[f.attribute("numFmtId").as_int()] = bare.find_first_of("yd") != std::string::npos;
  }
  for (pugi::xml_node xf : sheet.child("cellXfs").children("xf")) {
    int id = xf.attribute("numFmtId").as_int();
    bool date = (id >= 14 && id <= 22) || (id >= 45 && id <= 47);
    if (auto it = custom.find(id); it != custom.end()) date = it->second;
    out.push_back(date);
  }
  return out;
}

// An Excel serial day (1900 system) as an ISO date, with the time when it
// has one.
std::string SerialDate(double serial) {
  if (!(serial > 0 && serial < 2958466)) return "";
  int64_t days = static_cast<int64_t>(serial);
  // Days from 1899-12-30 (Excel's epoch, which absorbs its 1900 leap bug).
  int64_t z = days - 25569 + 719468;  // to days since 0000-03-01 (civil-from-days)
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[96];  // room for any int64 the compiler can imagine; dates take 16
  int secs = static_cast<int>(std::lround((serial - static_cast<double>(days)) * 86400));
  if (secs > 0 && secs < 86400)
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02d:%02d", static_cast<long long>(y), static_cast<long long>(m),
                  static_cast<long long>(d), secs / 3600, secs / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y), static_cast<long long>(m),
                  static_cast<long long>(d));
  return buf;
}

// A number as people read it: 15 significant digits (no binary noise such
// as 0.30000000000000004), no trailing zeros.
std::string ShortNumber(std::string_view v) {
  char* end = nullptr;
  std::string s(v);
  double x = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return s;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

struct Sheet {
  std::string name;
  std::map<int, std::vector<std::string>> rows;  // by 1-based row number
};

Result<Sheet> ReadSheet(const std::string& xml_text, const std::string& name, const std::vector<std::string>& shared,
                        const std::vector<bool>& date_styles, const std::string& path, const std::string& part) {
  pugi::xml_document xml;
  RAGD_RETURN_IF_ERROR(ParseXml(xml_text, &xml, path, part));
  Sheet sheet;
  sheet.name = name;
  int next_row = 1;
  for (pugi::xml_node row : xml.child("worksheet").child("sheetData").children("row")) {
    int r = row.attribute("r").as_int(next_row);
    next_row = r + 1;
    int next_col = 0;
    for (pugi::xml_node c : row.children("c")) {
      int col = next_col, at_row = r;
      if (const char* ref = c.attribute("r").value(); *ref && !ParseCellRef(ref, &col, &at_row)) continue;
      next_col = col + 1;
      std::string_view type = c.attribute("t").value();
      std::string v = c.child("v").text().get();
      std::string value;
      if (type == "s") {
        size_t i = static_cast<size_t>(std::atoll(v.c_str()));
        if (!v.empty() && i < shared.size()) value = shared[i];
      } else if (type == "inlineStr") {
        value = SharedStringText(c.child("is"));
      } else if (type == "b") {
        value = v == "1" ? "TRUE" : "FALSE";
      } else if (type == "str" || type == "e") {
        value = v;
      } else if (!v.empty()) {
        size_t style = c.attribute("s").as_uint(0);
        value = style < date_styles.size() && date_styles[style] ? SerialDate(std::atof(v.c_str())) : "";
        if (value.empty()) value = ShortNumber(v);
      }
      if (text::Trim(value).empty()) continue;
      auto& cells = sheet.rows[at_row];
      if (cells.size() <= static_cast<size_t>(col)) cells.resize(col + 1);
      cells[col] = std::move(value);
    }
  }
  return sheet;
}

bool IsNumber(std::string_view s) {
  std::string t(text::Trim(s));
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  return !t.empty() && end && *end == '\0';
}

// "A", "B", ... "AA": the column's letters, a name for headerless columns.
std::string ColumnLetters(size_t c) {
  std::string out;
  for (size_t n = c + 1; n > 0; n = (n - 1) / 26) out.insert(out.begin(), static_cast<char>('A' + (n - 1) % 26));
  return out;
}

}  // namespace

Result<LoadedDocument> LoadXlsx(std::string_view bytes, const std::string& path) {
  Package package;
  RAGD_RETURN_IF_ERROR(OpenPackage(bytes, path, "XLSX", "xl/workbook.xml", &package));
  zip_t* zip = package.zip.get();
  const auto& rels = package.rels;
  std::vector<std::string> shared;
  std::vector<bool> date_styles;
  for (const auto& [id, r] : rels) {
    if (r.type == "sharedStrings") {
      RAGD_ASSIGN_OR_RETURN(std::string sst, ReadZipEntry(zip, r.target, path, false, "XLSX"));
      pugi::xml_document xml;
      if (!sst.empty()) RAGD_RETURN_IF_ERROR(ParseXml(sst, &xml, path, r.target));
      for (pugi::xml_node si : xml.child("sst").children("si")) shared.push_back(SharedStringText(si));
    } else if (r.type == "styles") {
      RAGD_ASSIGN_OR_RETURN(std::string styles, ReadZipEntry(zip, r.target, path, false, "XLSX"));
      date_styles = DateStyles(styles);
    }
  }
  LoadedDocument doc;
  doc.mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  doc.title = CoreTitle(zip, path);
  int sheets = 0;
  size_t largest = 0;
  for (pugi::xml_node s : package.main.child("workbook").child("sheets").children("sheet")) {
    auto rel = rels.find(s.attribute("r:id").value());
    if (rel == rels.end() || rel->second.type != "worksheet") continue;  // chart sheets hold no cells
    ++sheets;
    RAGD_ASSIGN_OR_RETURN(std::string sheet_xml, ReadZipEntry(zip, rel->second.target, path, false, "XLSX"));
    if (sheet_xml.empty()) continue;
    RAGD_ASSIGN_OR_RETURN(Sheet sheet, ReadSheet(sheet_xml, text::NormalizeWhitespace(s.attribute("name").value()),
                                                 shared, date_styles, path, rel->second.target));
    if (sheet.rows.empty()) continue;
    size_t width = 0;
    for (const auto& [n, cells] : sheet.rows) width = std::max(width, cells.size());
    // The header: the first row with two or more cells, all text, not
    // numbers. Rows above it (a title) go into the heading path; a sheet
    // whose first cells with a number come before any such row has none,
    // and its columns are named A, B, ...
    auto header = sheet.rows.end();
    for (auto it = sheet.rows.begin(); it != sheet.rows.end(); ++it) {
      size_t filled = 0, numbers = 0;
      for (const auto& v : it->second) {
        if (text::Trim(v).empty()) continue;
        ++filled;
        if (IsNumber(v)) ++numbers;
      }
      if (filled >= 2 && numbers == 0) {
        header = it;
        break;
      }
      if (filled > 0 && numbers > 0) break;  // data came first: no header row
    }
    std::string heading = sheet.name;
    std::vector<std::vector<std::string>> rows;
    std::vector<int> numbers;
    if (header != sheet.rows.end()) {
      for (auto it = sheet.rows.begin(); it != header; ++it) {
        std::string above;
        for (const auto& v : it->second)
          if (!text::Trim(v).empty()) above += (above.empty() ? "" : " ") + std::string(text::Trim(v));
        if (!above.empty()) heading += " > " + above;
      }
      rows.push_back(header->second);
      for (auto it = std::next(header); it != sheet.rows.end(); ++it) {
        rows.push_back(it->second);
        numbers.push_back(it->first);
      }
    } else {
      std::vector<std::string> letters;
      for (size_t c = 0; c < width; ++c) letters.push_back(ColumnLetters(c));
      rows.push_back(std::move(letters));
      for (const auto& [n, cells] : sheet.rows) {
        rows.push_back(cells);
        numbers.push_back(n);
      }
    }
    std::vector<Segment> segments = RowSegments(rows, numbers, heading);
    // The largest sheet is the document's table for read-only SQL.
    if (rows.size() > 1 && rows.size() - 1 > largest) {
      largest = rows.size() - 1;
      doc.table = TableFromRows(rows);
    }
    for (auto& seg : segments) doc.segments.push_back(std::move(seg));
  }
  if (sheets == 0) return Status::InvalidArgument(path + " is a workbook without worksheets");
  if (doc.segments.empty()) return Status::InvalidArgument(path + " has no cells with values on its " + std::to_string(sheets) + " sheet(s)");
  return doc;
}

}  // namespace ragd::ingest
