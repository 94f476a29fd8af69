// UTF-8 helpers shared by loaders, splitters and the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/status.h"

namespace ragd::text {

// Offset of the first invalid UTF-8 byte, or npos when the text is valid.
size_t FindInvalidUtf8(std::string_view s);
// Number of Unicode code points (s must be valid UTF-8).
int64_t CodePointCount(std::string_view s);
// Bytes -> UTF-8. Valid UTF-8 (with or without BOM) passes through; UTF-16
// with a BOM and legacy encodings (GB18030, Big5, Shift_JIS, Latin-1 ...)
// detected with confidence by ICU are converted; anything else is an error
// naming the first bad byte.
Result<std::string> ToUtf8(std::string_view bytes, const std::string& what);
// Collapses runs of spaces/tabs, trims each line, drops runs of >2 newlines.
std::string NormalizeWhitespace(std::string_view s);
std::string_view Trim(std::string_view s);
// Cuts s to at most max_bytes without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);
// Length of the longest prefix of s that does not end inside a UTF-8
// sequence (for streaming model output piece by piece).
size_t CompleteUtf8Prefix(std::string_view s);
// Code point at s[i] and its length in bytes (s valid UTF-8, i < size).
char32_t DecodeAt(std::string_view s, size_t i, int* len);
bool IsCjk(char32_t c);
// The script most of a text's letters are in: "cjk" (IsCjk), "latin",
// "other" (Cyrillic, Arabic, …), or "" when it has no letters.
std::string_view DominantScript(std::string_view s);
// Replaces every occurrence of from (non-empty) in s, left to right;
// replacement text is not searched again.
void ReplaceAll(std::string& s, std::string_view from, std::string_view to);
// Whether s[i] ends a sentence: 。！？ or a newline, or . ! ? before a space,
// a newline or the end. *len receives the mark's length in bytes.
bool IsSentenceEnd(std::string_view s, size_t i, int* len);
// s cut after each sentence end; the pieces, joined, are s again.
std::vector<std::string_view> SplitSentences(std::string_view s);
// Unicode NFKC (full-width forms to ASCII, compatibility characters folded).
std::string NormalizeNfkc(std::string_view s);

}  // namespace ragd::text
