#include <gtest/gtest.h>

#include "core/text.h"

namespace ragd::text {

TEST(Utf8, FindsFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("hello 你好"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xFF" "cd"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0u);            // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("ok\xED\xA0\x80"), 2u);      // UTF-16 surrogate
  EXPECT_EQ(FindInvalidUtf8("\xE4\xBD"), 0u);            // truncated sequence
}

TEST(Utf8, ConvertsGb18030AndUtf16) {
  // "信用卡还款" in GB18030 (GBK subset), a legacy encoding Chinese files use.
  std::string gbk = "\xD0\xC5\xD3\xC3\xBF\xA8\xBB\xB9\xBF\xEE\xD0\xC5\xD3\xC3\xBF\xA8\xBB\xB9\xBF\xEE\xA3\xAC"
                    "\xC7\xEB\xB0\xB4\xCA\xB1\xBB\xB9\xBF\xEE\xA1\xA3";
  auto r = ToUtf8(gbk, "f.txt");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().substr(0, 15), "信用卡还款");
  std::string utf16le("\xFF\xFE" "h\0i\0", 6);
  auto u = ToUtf8(utf16le, "g.txt");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value(), "hi");
}

TEST(Utf8, RejectsUndetectableBytesWithOffset) {
  auto r = ToUtf8(std::string("abc\xFF\xFE\xFD\x00\x01", 9).substr(0, 4) + "\x80", "bad.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.txt is not valid UTF-8 (first bad byte at offset 3)"), std::string::npos)
      << r.status().message();
}

TEST(Text, NormalizesWhitespace) {
  EXPECT_EQ(NormalizeWhitespace("  a \t b  \r\n\n\n\n c  "), "a b\n\nc");
  EXPECT_EQ(Trim("  x \n"), "x");
  EXPECT_EQ(CodePointCount("a你b"), 3);
  EXPECT_EQ(TruncateUtf8("你好", 4), "你");
}

}  // namespace ragd::text
