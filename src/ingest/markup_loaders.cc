// Loaders for plain text, Markdown (md4c) and HTML (gumbo). Markdown and
// HTML headings start a new segment and become its heading path.
#include <gumbo.h>
#include <md4c.h>

#include <algorithm>
#include <cstring>

#include "core/status_macros.h"
#include "core/text.h"
#include "ingest/document.h"

namespace ragd::ingest {

std::string JoinHeadingPath(const std::vector<std::string>& headings) {
  std::string p;
  for (const auto& h : headings) {
    if (h.empty()) continue;
    if (!p.empty()) p += " > ";
    p += h;
  }
  return p;
}

Result<LoadedDocument> LoadText(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  LoadedDocument doc;
  doc.mime = "text/plain";
  std::string norm = text::NormalizeWhitespace(utf8);
  if (norm.empty()) return Status::InvalidArgument(path + " contains no text");
  doc.segments.push_back(Segment{std::move(norm)});
  return doc;
}

namespace {

// Collects sections delimited by headings (shared by Markdown and HTML).
class SectionBuilder {
 public:
  void Heading(int level, const std::string& title) {
    Flush();
    level = std::max(1, std::min(level, 9));
    stack_.resize(level - 1);
    stack_.push_back(std::string(text::Trim(title)));
    headings_ += stack_.back() + "\n";
    current_ = stack_.back() + "\n\n";
    has_body_ = false;
  }
  void Append(std::string_view s) {
    current_.append(s);
    if (!text::Trim(s).empty()) has_body_ = true;
  }
  void Flush() {
    std::string norm = text::NormalizeWhitespace(current_);
    // A heading with nothing under it is left out: its words are already in
    // the heading path of the sections below.
    if (!norm.empty() && has_body_) segments_.push_back(Segment{std::move(norm), 0, Path()});
    current_.clear();
    has_body_ = false;
  }
  // A table is a segment of its own (Markdown), so its rows stay whole.
  void Table(const std::vector<std::vector<std::string>>& rows) {
    Segment table = MarkdownTable(rows, Path());
    if (table.text.empty()) return;
    Flush();
    segments_.push_back(std::move(table));
  }
  std::string Path() const { return JoinHeadingPath(stack_); }
  std::vector<Segment> Take() {
    Flush();
    // A page of headings only (an outline, a navigation bar) is its headings.
    if (segments_.empty() && !text::NormalizeWhitespace(headings_).empty())
      segments_.push_back(Segment{text::NormalizeWhitespace(headings_)});
    return std::move(segments_);
  }
  const std::vector<std::string>& stack() const { return stack_; }

 private:
  std::vector<std::string> stack_;
  std::string headings_;  // every heading seen, one per line
  std::string current_;
  bool has_body_ = false;
  std::vector<Segment> segments_;
};

struct MdState {
  SectionBuilder sections;
  int heading_level = 0;  // >0 while inside a heading
  std::string heading_text;
  std::string title;
  int table_depth = 0;  // >0 inside a table: text goes to its cells
  std::vector<std::vector<std::string>> table;
};

int MdEnterBlock(MD_BLOCKTYPE type, void* detail, void* user) {
  auto* st = static_cast<MdState*>(user);
  if (type == MD_BLOCK_H) {
    st->heading_level = static_cast<MD_BLOCK_H_DETAIL*>(detail)->level;
    st->heading_text.clear();
  } else if (type == MD_BLOCK_TABLE) {
    if (st->table_depth++ == 0) st->table.clear();
  } else if (st->table_depth > 0 && type == MD_BLOCK_TR) {
    st->table.emplace_back();
  } else if (st->table_depth > 0 && (type == MD_BLOCK_TH || type == MD_BLOCK_TD) && !st->table.empty()) {
    st->table.back().emplace_back();
  }
  return 0;
}

int MdLeaveBlock(MD_BLOCKTYPE type, void* detail, void* user) {
  auto* st = static_cast<MdState*>(user);
  switch (type) {
    case MD_BLOCK_H:
      if (st->title.empty() && st->heading_level == 1) st->title = st->heading_text;
      st->sections.Heading(st->heading_level, st->heading_text);
      st->heading_level = 0;
      break;
    case MD_BLOCK_TABLE:
      if (--st->table_depth == 0) st->sections.Table(st->table);
      break;
    case MD_BLOCK_P: case MD_BLOCK_CODE: case MD_BLOCK_QUOTE: case MD_BLOCK_HR:
      if (st->table_depth == 0) st->sections.Append("\n\n");
      break;
    case MD_BLOCK_LI:
      if (st->table_depth == 0) st->sections.Append("\n");
      break;
    default:
      break;
  }
  return 0;
}

int MdText(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* user) {
  auto* st = static_cast<MdState*>(user);
  std::string_view s(text, size);
  if (type == MD_TEXT_SOFTBR) s = " ";
  if (type == MD_TEXT_BR) s = "\n";
  if (type == MD_TEXT_NULLCHAR) return 0;
  if (st->heading_level > 0) {
    st->heading_text.append(s);
  } else if (st->table_depth > 0) {
    if (!st->table.empty() && !st->table.back().empty()) st->table.back().back().append(s);
  } else {
    st->sections.Append(s);
  }
  return 0;
}

}  // namespace

Result<LoadedDocument> LoadMarkdown(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  MdState st;
  MD_PARSER parser;
  std::memset(&parser, 0, sizeof parser);
  parser.flags = MD_DIALECT_GITHUB;
  parser.enter_block = MdEnterBlock;
  parser.leave_block = MdLeaveBlock;
  parser.enter_span = [](MD_SPANTYPE, void*, void*) { return 0; };
  parser.leave_span = [](MD_SPANTYPE, void*, void*) { return 0; };
  parser.text = MdText;
  if (md_parse(utf8.data(), static_cast<MD_SIZE>(utf8.size()), &parser, &st) != 0)
    return Status::InvalidArgument(path + ": the Markdown parser gave up on this file");
  LoadedDocument doc;
  doc.mime = "text/markdown";
  doc.title = std::string(text::Trim(st.title));
  doc.segments = st.sections.Take();
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text");
  return doc;
}

namespace {

bool IsBlockTag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_LI: case GUMBO_TAG_TR: case GUMBO_TAG_BR:
    case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
    case GUMBO_TAG_PRE: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_HR: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_MAIN: case GUMBO_TAG_NAV: case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_CAPTION:
      return true;
    default:
      return false;
  }
}

int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

void CollectText(const GumboNode* node, std::string* out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA) {
    out->append(node->v.text.text);
    return;
  }
  if (node->type != GUMBO_NODE_ELEMENT) return;
  // A line break or a block inside (a cell's paragraphs) separates words.
  const bool separate = node->v.element.tag == GUMBO_TAG_BR || IsBlockTag(node->v.element.tag);
  if (separate) out->push_back(' ');
  const GumboVector& kids = node->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) CollectText(static_cast<const GumboNode*>(kids.data[i]), out);
  if (separate) out->push_back(' ');
}

// The tr elements of a table (directly or in thead, tbody, tfoot), not
// those of tables nested in its cells.
void CollectRows(const GumboNode* node, std::vector<const GumboNode*>* rows) {
  const GumboVector& kids = node->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) {
    const auto* kid = static_cast<const GumboNode*>(kids.data[i]);
    if (kid->type != GUMBO_NODE_ELEMENT) continue;
    GumboTag t = kid->v.element.tag;
    if (t == GUMBO_TAG_TR) rows->push_back(kid);
    else if (t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TBODY || t == GUMBO_TAG_TFOOT) CollectRows(kid, rows);
  }
}

int SpanAttribute(const GumboNode* cell, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&cell->v.element.attributes, name);
  return a ? std::clamp(std::atoi(a->value), 1, 64) : 1;
}

// A table's cells on a grid: a cell spanning columns or rows fills each
// place it covers (as docling's conversions show them).
std::vector<std::vector<std::string>> TableRows(const GumboNode* table) {
  std::vector<const GumboNode*> trs;
  CollectRows(table, &trs);
  std::vector<std::vector<std::string>> rows(trs.size());
  std::vector<std::vector<bool>> taken(trs.size());
  for (size_t r = 0; r < trs.size() && r < 10000; ++r) {
    size_t col = 0;
    const GumboVector& kids = trs[r]->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
      const auto* cell = static_cast<const GumboNode*>(kids.data[i]);
      if (cell->type != GUMBO_NODE_ELEMENT || (cell->v.element.tag != GUMBO_TAG_TD && cell->v.element.tag != GUMBO_TAG_TH))
        continue;
      std::string text;
      CollectText(cell, &text);
      while (col < taken[r].size() && taken[r][col]) ++col;
      const int colspan = SpanAttribute(cell, "colspan"), rowspan = SpanAttribute(cell, "rowspan");
      for (size_t rr = r; rr < std::min(trs.size(), r + rowspan); ++rr) {
        for (size_t c = col; c < col + colspan; ++c) {
          if (rows[rr].size() <= c) rows[rr].resize(c + 1), taken[rr].resize(c + 1);
          rows[rr][c] = text;
          taken[rr][c] = true;
        }
      }
      col += colspan;
    }
  }
  rows.erase(std::remove_if(rows.begin(), rows.end(), [](const auto& r) { return r.empty(); }), rows.end());
  return rows;
}

struct HtmlWalker {
  SectionBuilder sections;
  std::string title;
  std::string first_h1;
  int depth = 0;

  void Walk(const GumboNode* node) {
    if (++depth > 512) {  // hostile nesting: stop descending, keep what we have
      --depth;
      return;
    }
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA) {
      sections.Append(node->v.text.text);
    } else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
      GumboTag tag = node->v.element.tag;
      if (tag == GUMBO_TAG_TITLE) {
        CollectText(node, &title);
      } else if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT ||
                 tag == GUMBO_TAG_TEMPLATE || tag == GUMBO_TAG_HEAD) {
        if (tag == GUMBO_TAG_HEAD) WalkChildren(node);  // for <title>
      } else if (int level = HeadingLevel(tag)) {
        std::string h;
        CollectText(node, &h);
        h = text::NormalizeWhitespace(h);
        if (level == 1 && first_h1.empty()) first_h1 = h;
        sections.Heading(level, h);
      } else if (tag == GUMBO_TAG_TABLE) {
        sections.Table(TableRows(node));
      } else {
        bool block = IsBlockTag(tag);
        if (block) sections.Append("\n");
        WalkChildren(node);
        if (block) sections.Append("\n");
      }
    }
    --depth;
  }
  void WalkChildren(const GumboNode* node) {
    const GumboVector& kids = node->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) Walk(static_cast<const GumboNode*>(kids.data[i]));
  }
};

}  // namespace

Result<LoadedDocument> LoadHtml(std::string_view bytes, const std::string& path) {
  RAGD_ASSIGN_OR_RETURN(std::string utf8, text::ToUtf8(bytes, path));
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, utf8.data(), utf8.size());
  if (!out) return Status::InvalidArgument(path + ": the HTML parser failed");
  HtmlWalker walker;
  walker.Walk(out->root);
  gumbo_destroy_output(&kGumboDefaultOptions, out);
  LoadedDocument doc;
  doc.mime = "text/html";
  doc.title = text::NormalizeWhitespace(walker.title);
  if (doc.title.empty()) doc.title = walker.first_h1;
  doc.segments = walker.sections.Take();
  if (doc.segments.empty()) return Status::InvalidArgument(path + " contains no text");
  return doc;
}

}  // namespace ragd::ingest
