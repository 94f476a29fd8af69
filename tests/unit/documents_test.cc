// Documents as people have them: slide decks, workbooks, scanned pages and
// images (OCR), and tables kept whole. The files are the ones
// scripts/setup/make_examples.py generates into examples/documents.
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>

#include "ingest/chunker.h"
#include "ingest/document.h"
#include "ingest/ocr.h"
#include "ingest/splitter.h"
#include "../test_util.h"

namespace ragd::ingest {

using ragd::testing::DocumentPath;
using ragd::testing::ReadAll;

namespace {

std::string Fixture(const std::string& name) {
  std::string bytes = ReadAll(DocumentPath(name));
  EXPECT_FALSE(bytes.empty()) << "run `make deps` to generate examples/documents/" << name;
  return bytes;
}

void ExpectError(const Result<LoadedDocument>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << fragment;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

// The image wrapped into a PDF page with no text layer (Leptonica writes it).
std::string ImageOnlyPdf(const std::string& png) {
  Pix* pix = pixReadMem(reinterpret_cast<const l_uint8*>(png.data()), png.size());
  l_uint8* data = nullptr;
  size_t size = 0;
  pixWriteMemPdf(&data, &size, pix, 200, "scan");
  pixDestroy(&pix);
  std::string out(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return out;
}

}  // namespace

TEST(Slides, OneSegmentPerSlideWithNotesAndTables) {
  auto r = LoadPptx(Fixture("deposit-briefing.pptx"), "deck.pptx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Deposit products briefing");
  ASSERT_EQ(r->segments.size(), 5u);  // four slides and the table of slide 3
  EXPECT_EQ(r->segments[1].page, 2);
  EXPECT_EQ(r->segments[1].heading_path, "Time deposits");
  EXPECT_EQ(r->segments[1].text,
            "Time deposits\n\nMinimum deposit: 50 yuan\nTerms from 3 months to 5 years\n\nSpeaker notes: Remind customers "
            "that withdrawing a time deposit early earns only the demand deposit rate of 0.20%.");
  EXPECT_EQ(r->segments[3].page, 3);
  EXPECT_EQ(r->segments[3].table_header, "| Term | Annual rate |\n| --- | --- |");
  EXPECT_NE(r->segments[3].text.find("| 1 year | 1.50% |"), std::string::npos) << r->segments[3].text;
  EXPECT_EQ(r->segments[4].heading_path, "大额存单");
  EXPECT_NE(r->segments[4].text.find("Speaker notes: 提醒客户大额存单到期前可以转让"), std::string::npos);
}

TEST(Slides, BrokenDecksSayWhy) {
  ExpectError(LoadPptx("not a zip", "x.pptx"), "x.pptx is not a valid PPTX document (not a zip archive)");
  // A real archive without the presentation part (a workbook renamed).
  ExpectError(LoadPptx(Fixture("fee-schedule.xlsx"), "renamed.pptx"),
              "renamed.pptx is not a PPTX document: the archive has no ppt/presentation.xml");
}

TEST(Spreadsheets, SheetsBecomeRowsUnderTheirHeader) {
  auto r = LoadXlsx(Fixture("fee-schedule.xlsx"), "fees.xlsx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->segments.size(), 5u);
  // The title row above the header goes into the heading path; the row
  // number is the sheet's; dates and numbers read as they are shown.
  EXPECT_EQ(r->segments[1].heading_path, "Card fees > 2027 card fee schedule");
  EXPECT_EQ(r->segments[1].row, 4);
  EXPECT_EQ(r->segments[1].text,
            "Card: Gold\nAnnual fee (CNY): 380\nWaiver condition: 12 purchases a year\nEffective from: 2027-01-01");
  EXPECT_EQ(r->segments[3].heading_path, "Transfer fees");
  EXPECT_EQ(r->segments[4].text,
            "Channel: Branch counter\nFee per transfer: 0.5%, at least 2 and at most 50 yuan\nDaily limit (CNY): 1000000");
  // The largest sheet is the table for read-only SQL.
  ASSERT_TRUE(r->table.has_value());
  EXPECT_EQ(r->table->columns, (std::vector<std::string>{"Card", "Annual fee (CNY)", "Waiver condition", "Effective from"}));
  EXPECT_EQ(r->table->rows.size(), 3u);
  ExpectError(LoadXlsx(Fixture("deposit-briefing.pptx"), "deck.xlsx"), "the archive has no xl/workbook.xml");
}

TEST(Ocr, ScannedPagesInsideADigitalPdf) {
  auto r = LoadPdf(Fixture("branch-notice.pdf"), "notice.pdf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->segments.size(), 4u);
  // Page 1 has a text layer: read as it is, not by OCR, and its table,
  // found from where the words sit, comes out as Markdown.
  EXPECT_EQ(r->segments[0].ocr_confidence, -1);
  EXPECT_NE(r->segments[0].text.find("Riverside branch changes its opening hours"), std::string::npos);
  EXPECT_EQ(r->segments[0].text.find("Coin counting"), std::string::npos) << "the table's rows left in the text";
  EXPECT_EQ(r->segments[1].page, 1);
  EXPECT_EQ(r->segments[1].text,
            "| Service | Fee | Note |\n| --- | --- | --- |\n| Cashier's cheque | 10 yuan | per cheque |\n"
            "| Statement copy | 5 yuan | per month |\n| Coin counting | free | up to 500 coins |");
  // Page 2 is an image: OCR, with its confidence.
  EXPECT_EQ(r->segments[2].page, 2);
  EXPECT_GT(r->segments[2].ocr_confidence, 0.6f);
  EXPECT_NE(r->segments[2].text.find("Saturday: 10:00 to 14:00"), std::string::npos) << r->segments[2].text;
  // Page 3 is Chinese and upside down: the script picks chi_sim, OSD turns it.
  EXPECT_EQ(r->segments[3].page, 3);
  EXPECT_NE(r->segments[3].text.find("河滨支行"), std::string::npos) << r->segments[3].text;
  EXPECT_NE(r->segments[3].text.find("保管箱"), std::string::npos) << r->segments[3].text;

  LoadOptions off;
  off.ocr.enabled = false;
  auto text_only = LoadPdf(Fixture("branch-notice.pdf"), "notice.pdf", off);
  ASSERT_TRUE(text_only.ok());
  EXPECT_EQ(text_only->segments.size(), 2u);  // the scanned pages are skipped
}

TEST(Tables, PdfListsAndProseAreNotTables) {
  // The example policy PDF is prose in one column with short bilingual
  // headings: no table may be found in it.
  auto r = LoadPdf(ReadAll(ragd::testing::ExamplePath("credit-card-policy.pdf")), "policy.pdf");
  ASSERT_TRUE(r.ok());
  for (const auto& s : r->segments) EXPECT_TRUE(s.table_header.empty()) << s.text;
}

TEST(Ocr, ImagesAndImageOnlyPdfs) {
  std::string png = Fixture("rate-card.png");
  std::vector<std::pair<int, int>> pages;
  LoadOptions load;
  load.on_ocr_page = [&](int page, int total) { pages.emplace_back(page, total); };
  auto image = LoadImage(png, "rates.png", load);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->segments.size(), 1u);
  // Turned a quarter in the file; read upright.
  EXPECT_NE(image->segments[0].text.find("1 year: 1.50%"), std::string::npos) << image->segments[0].text;
  EXPECT_GT(image->segments[0].ocr_confidence, 0.6f);
  EXPECT_EQ(pages, (std::vector<std::pair<int, int>>{{1, 1}}));

  auto pdf = LoadPdf(ImageOnlyPdf(png), "scan.pdf", load);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_NE(pdf->segments[0].text.find("Time deposit rates 2027"), std::string::npos) << pdf->segments[0].text;

  // Fixed languages instead of detection still read English.
  LoadOptions eng;
  eng.ocr.languages = "eng";
  auto fixed = LoadImage(png, "rates.png", eng);
  ASSERT_TRUE(fixed.ok());
  EXPECT_NE(fixed->segments[0].text.find("3 years: 2.00%"), std::string::npos);

  LoadOptions off;
  off.ocr.enabled = false;
  ExpectError(LoadImage(png, "rates.png", off), "rates.png is an image and OCR is switched off");
  ExpectError(LoadPdf(ImageOnlyPdf(png), "scan.pdf", off), "scan.pdf has no text layer (1 page(s), scanned images only?) and OCR is switched off");
  LoadOptions missing;
  missing.ocr.languages = "klingon";
  ExpectError(LoadImage(png, "rates.png", missing), "cannot load Tesseract language data 'klingon'");
  ExpectError(LoadImage(std::string("\x89PNG\r\n\x1a\n broken", 16), "bad.png", {}), "bad.png is not a readable image");
}

TEST(Ocr, UsableTextLayer) {
  EXPECT_TRUE(UsableTextLayer("Branch opening hours notice"));
  EXPECT_TRUE(UsableTextLayer("信用卡逾期还款的，自记账日起按日利率万分之五计收利息"));
  EXPECT_FALSE(UsableTextLayer("3"));                       // a page number on a scan
  EXPECT_FALSE(UsableTextLayer("\uE001\uE002\uE003\uE004\uE005\uE006\uE007\uE008\uE009\uE00A\uE00B\uE00C\uE00D\uE00E\uE00F\uE010\uE011"));
}

TEST(Tables, HtmlAndMarkdownTablesBecomeMarkdown) {
  auto html = LoadHtml("<h1>Fees</h1><table><tr><th>Card</th><th colspan=2>Fees</th></tr>"
                       "<tr><td rowspan=2>Gold</td><td>annual</td><td>380 | yuan</td></tr><tr><td>late</td><td>5%</td></tr></table>"
                       "<p>After the table.</p>",
                       "t.html");
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  ASSERT_EQ(html->segments.size(), 2u);
  EXPECT_EQ(html->segments[0].heading_path, "Fees");
  EXPECT_EQ(html->segments[0].text,
            "| Card | Fees | Fees |\n| --- | --- | --- |\n| Gold | annual | 380 \\| yuan |\n| Gold | late | 5% |");
  EXPECT_EQ(html->segments[1].text, "After the table.");
  auto md = LoadMarkdown("# Rates\n\n| Term | Rate |\n|---|---|\n| 1 year | 1.50% |\n\nText after.\n", "r.md");
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->segments.size(), 2u);
  EXPECT_EQ(md->segments[0].text, "| Term | Rate |\n| --- | --- |\n| 1 year | 1.50% |");
  EXPECT_EQ(md->segments[0].table_header, "| Term | Rate |\n| --- | --- |");
}

TEST(Tables, ChunksHoldWholeRowsAndRepeatTheHeader) {
  std::vector<std::vector<std::string>> rows = {{"Card", "Annual fee"}};
  for (int i = 1; i <= 40; ++i) rows.push_back({"Card number " + std::to_string(i), std::to_string(i * 10) + " yuan"});
  LoadedDocument doc;
  doc.segments.push_back(MarkdownTable(rows, "Fees"));
  RecursiveSplitter splitter({200, 30});
  auto chunks = ChunkDocument(doc, splitter);
  ASSERT_GT(chunks.size(), 3u);
  const std::string& header = doc.segments[0].table_header;
  std::string rebuilt;
  int64_t expected_start = 0;
  for (const auto& c : chunks) {
    ASSERT_TRUE(c.text.starts_with(header + "\n")) << c.text;
    EXPECT_LE(CodePointLength(c.text), 200u);
    // Every line is a whole row.
    std::string body = c.text.substr(header.size() + 1);
    for (size_t pos = 0; pos < body.size();) {
      size_t eol = std::min(body.find('\n', pos), body.size());
      std::string line = body.substr(pos, eol - pos);
      EXPECT_TRUE(line.starts_with("| Card number ") && line.ends_with(" yuan |")) << line;
      rebuilt += line + "\n";
      pos = eol + 1;
    }
    // Offsets cover the rows only (the repeated header is not in the span),
    // and the chunks follow each other without gaps or overlap.
    if (c.chunk_index > 0) EXPECT_EQ(c.char_start, expected_start + 1);
    expected_start = c.char_end;
    EXPECT_EQ(c.heading_path, "Fees");
  }
  std::string all_rows;
  for (size_t i = 1; i < rows.size(); ++i) all_rows += "| " + rows[i][0] + " | " + rows[i][1] + " |\n";
  EXPECT_EQ(rebuilt, all_rows);  // each row exactly once, in order
}

}  // namespace ragd::ingest
