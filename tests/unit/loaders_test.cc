// Loaders on good and malformed inputs, each malformed one with the error
// a user sees.
#include <gtest/gtest.h>

#include "ingest/document.h"
#include "../test_util.h"

namespace ragd::ingest {

using ragd::testing::ExamplePath;
using ragd::testing::ReadAll;

namespace {
std::string AllText(const LoadedDocument& d) {
  std::string t;
  for (const auto& s : d.segments) t += s.text + "\n";
  return t;
}
void ExpectError(const Result<LoadedDocument>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << fragment;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}
}  // namespace

TEST(Loaders, MarkdownKeepsHeadingPaths) {
  auto r = LoadMarkdown("# Guide\n\nIntro text.\n\n## Cards\n\n### Fees\n\nThe fee is **200** yuan.\n\n## 还款\n\n每月25日还款。\n", "g.md");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Guide");
  ASSERT_EQ(r->segments.size(), 3u);
  EXPECT_EQ(r->segments[0].heading_path, "Guide");
  EXPECT_EQ(r->segments[1].heading_path, "Guide > Cards > Fees");
  EXPECT_EQ(r->segments[1].text, "Fees\n\nThe fee is 200 yuan.");
  EXPECT_EQ(r->segments[2].heading_path, "Guide > 还款");
}

TEST(Loaders, HtmlDropsScriptsAndFollowsHeadings) {
  auto r = LoadHtml("<html><head><title>Rates</title><style>p{}</style></head><body><script>var x=1;</script>"
                    "<h1>Deposits</h1><p>One year: <b>1.5%</b></p><h2>Early withdrawal</h2><p>Demand rate applies.</p></body></html>",
                    "r.html");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Rates");
  std::string all = AllText(r.value());
  EXPECT_EQ(all.find("var x"), std::string::npos);
  ASSERT_EQ(r->segments.size(), 2u);
  EXPECT_EQ(r->segments[1].heading_path, "Deposits > Early withdrawal");
  EXPECT_NE(r->segments[0].text.find("One year: 1.5%"), std::string::npos);
}

TEST(Loaders, CsvFaqBecomesOneSegmentPerRowQuestionFirst) {
  auto r = LoadCsv("category,answer,question\ncards,\"Call us, then wait\",How do I block a card?\n存款,按活期利率计息,提前支取怎么计息？\n", "faq.csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->segments.size(), 2u);
  EXPECT_EQ(r->segments[0].text, "question: How do I block a card?\nanswer: Call us, then wait\ncategory: cards");
  EXPECT_EQ(r->segments[1].row, 2);
  EXPECT_TRUE(r->segments[1].atomic);
}

TEST(Loaders, CsvErrors) {
  ExpectError(LoadCsv("question,answer\n", "h.csv"), "has no data rows");
  ExpectError(LoadCsv("a,b\n\"unterminated,x\n", "u.csv"), "u.csv is not valid CSV: a quoted field is never closed");
}

TEST(Loaders, JsonAndJsonl) {
  auto j = LoadJson(R"([{"title":"T1","text":"Body one"},{"id":7,"meta":{"k":"v"}}])", "x.json");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ(j->segments.size(), 2u);
  EXPECT_EQ(j->segments[0].text, "T1\nBody one");
  EXPECT_EQ(j->segments[1].text, "id: 7\nmeta.k: v");
  ExpectError(LoadJson("{\"a\": [1, 2", "bad.json"), "bad.json is not valid JSON");
  // Found by fuzz_json: an out-of-range number used to escape as an exception.
  ExpectError(LoadJson("51e7339", "huge.json"), "huge.json is not usable JSON");
  ExpectError(LoadJson(R"({"fee": 1e999})", "fee.json"), "fee.json is not usable JSON");
  auto l = LoadJsonl("{\"text\":\"one\"}\n\n{\"text\":\"two\"}\n", "x.jsonl");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->segments[1].row, 3);
  ExpectError(LoadJsonl("{\"text\":\"one\"}\n{oops\n", "y.jsonl"), "y.jsonl: line 2 is not valid JSON");
}

TEST(Loaders, TablesKeepEveryCellForSql) {
  // CSV: the header names the columns (an empty or repeated name gets one),
  // short rows are padded, cells are kept as written (trimmed).
  auto csv = LoadCsv("branch,city,,city\nLujiazui, Shanghai ,6\nGuomao,Beijing,8,x\n", "b.csv");
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  ASSERT_TRUE(csv->table.has_value());
  EXPECT_EQ(csv->table->columns, (std::vector<std::string>{"branch", "city", "column 3", "column 4"}));
  EXPECT_EQ(csv->table->rows, (std::vector<std::vector<std::string>>{{"Lujiazui", "Shanghai", "6", ""},
                                                                     {"Guomao", "Beijing", "8", "x"}}));
  // JSON records: nested objects become a.b columns, in order of appearance.
  auto json = LoadJson(R"([{"product":"CD","rate":{"percent":1.9}},{"product":"3 months","term":3}])", "r.json");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  ASSERT_TRUE(json->table.has_value());
  EXPECT_EQ(json->table->columns, (std::vector<std::string>{"product", "rate.percent", "term"}));
  EXPECT_EQ(json->table->rows, (std::vector<std::vector<std::string>>{{"CD", "1.9", ""}, {"3 months", "", "3"}}));
  // Not records: a table with no columns (recorded, so it is not looked for again).
  auto text = LoadJson(R"({"title":"t","text":"body"})", "t.json");
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(text->table.has_value());
  EXPECT_TRUE(text->table->columns.empty());
  auto lines = LoadJsonl("{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n", "l.jsonl");
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->table->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(lines->table->rows, (std::vector<std::vector<std::string>>{{"1", ""}, {"2", "x"}}));
}

TEST(Loaders, PdfTextLayerWithPages) {
  std::string pdf = ReadAll(ExamplePath("credit-card-policy.pdf"));
  ASSERT_FALSE(pdf.empty()) << "run `make deps` to generate the example PDF";
  auto r = LoadPdf(pdf, "policy.pdf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->segments.size(), 4u);
  EXPECT_EQ(r->segments[1].page, 2);
  EXPECT_NE(r->segments[1].text.find("逾期还款"), std::string::npos);
  EXPECT_NE(r->segments[1].text.find("interest of 0.05% per day"), std::string::npos);
}

TEST(Loaders, TruncatedAndFakePdf) {
  std::string pdf = ReadAll(ExamplePath("credit-card-policy.pdf"));
  ExpectError(LoadPdf(pdf.substr(0, pdf.size() / 3), "cut.pdf"), "cut.pdf");
  ExpectError(LoadPdf("%PDF-1.4\n garbage", "junk.pdf"), "damaged or truncated PDF");
  ExpectError(LoadPdf("hello", "hello.pdf"), "not a PDF file");
}

TEST(Loaders, DocxHeadingsAndTables) {
  std::string docx = ReadAll(ExamplePath("platinum-card.docx"));
  ASSERT_FALSE(docx.empty()) << "run `make deps` to generate the example DOCX";
  auto r = LoadDocx(docx, "card.docx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Platinum Credit Card — Product Sheet / 白金信用卡产品说明");
  bool found_fees = false, found_table = false;
  for (const auto& s : r->segments) {
    if (!s.heading_path.ends_with("Fees / 费用")) continue;
    if (s.table_header.empty()) {
      found_fees = true;
      EXPECT_NE(s.text.find("1,200 yuan"), std::string::npos);
    } else {
      // The table is a segment of its own, as Markdown.
      found_table = true;
      EXPECT_EQ(s.table_header, "| Item / 项目 | Fee / 费用 |\n| --- | --- |");
      EXPECT_NE(s.text.find("\n| Primary card annual fee / 主卡年费 | 1,200 yuan |\n"), std::string::npos) << s.text;
    }
  }
  EXPECT_TRUE(found_fees);
  EXPECT_TRUE(found_table);
}

TEST(Loaders, DocxThatIsNotAZip) {
  ExpectError(LoadDocx("PK\x03\x04 this is not really a zip", "fake.docx"), "fake.docx is not a valid DOCX document (not a zip archive)");
  ExpectError(LoadDocx("plain text", "t.docx"), "not a zip archive");
}

TEST(Detect, ByContentNotOnlyExtension) {
  TypeDetector d;
  std::string pdf = ReadAll(ExamplePath("credit-card-policy.pdf"));
  EXPECT_EQ(d.Detect(pdf, "renamed.txt").value(), DocType::kPdf);
  EXPECT_EQ(d.Detect("# Title\n\ntext", "notes.md").value(), DocType::kMarkdown);
  EXPECT_EQ(d.Detect("a,b\n1,2\n", "t.csv").value(), DocType::kCsv);
  auto empty = d.Detect("", "empty.txt");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "empty.txt is empty");
  std::string junk("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00", 20);
  auto bin = d.Detect(junk, "junk.txt");
  ASSERT_FALSE(bin.ok());
  EXPECT_NE(bin.status().message().find("has binary content"), std::string::npos) << bin.status().message();
}

}  // namespace ragd::ingest
