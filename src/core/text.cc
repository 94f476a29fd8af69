#include "core/text.h"

#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/normalizer2.h>
#include <unicode/ucsdet.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

namespace ragd::text {

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    int len;
    char32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return i;
    if (i + len > n) return i;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string_view::npos;
}

int64_t CodePointCount(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

char32_t DecodeAt(std::string_view s, size_t i, int* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { *len = 1; return c; }
  int l = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
  char32_t cp = c & (l == 2 ? 0x1F : l == 3 ? 0x0F : 0x07);
  for (int k = 1; k < l && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = l;
  return cp;
}

bool IsCjk(char32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) ||   // kana
         (c >= 0x3400 && c <= 0x4DBF) ||   // CJK extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||   // CJK unified ideographs
         (c >= 0xAC00 && c <= 0xD7AF) ||   // Hangul
         (c >= 0xF900 && c <= 0xFAFF) ||   // compatibility ideographs
         (c >= 0x20000 && c <= 0x2FFFF);   // extensions B..
}

std::string_view DominantScript(std::string_view s) {
  int64_t cjk = 0, latin = 0, other = 0;
  for (size_t i = 0; i < s.size();) {
    int len = 1;
    char32_t c = DecodeAt(s, i, &len);
    i += len > 0 ? len : 1;
    if (IsCjk(c)) ++cjk;
    else if (c < 0x80 ? std::isalpha(static_cast<int>(c)) != 0 : (c < 0x250 && u_isalpha(c))) ++latin;
    else if (c >= 0x250 && u_isalpha(c)) ++other;
  }
  if (cjk + latin + other == 0) return "";
  // A CJK character carries about a word: weigh it as a Latin word's letters.
  if (cjk * 4 >= latin && cjk * 4 >= other) return "cjk";
  return latin >= other ? "latin" : "other";
}

static Result<std::string> Convert(std::string_view bytes, const char* charset) {
  UErrorCode err = U_ZERO_ERROR;
  std::string out(bytes.size() * 3 + 16, '\0');
  int32_t n = ucnv_convert("UTF-8", charset, out.data(), static_cast<int32_t>(out.size()), bytes.data(),
                           static_cast<int32_t>(bytes.size()), &err);
  if (U_FAILURE(err)) return Status::InvalidArgument(std::string("cannot convert from ") + charset);
  out.resize(n);
  if (out.starts_with("\xEF\xBB\xBF")) out.erase(0, 3);  // the converted BOM
  return out;
}

Result<std::string> ToUtf8(std::string_view bytes, const std::string& what) {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  size_t bad = FindInvalidUtf8(bytes);
  if (bad == std::string_view::npos) return std::string(bytes);
  if (bytes.size() >= 2 && (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF"))
    return Convert(bytes, bytes[0] == '\xFF' ? "UTF-16LE" : "UTF-16BE");
  // Legacy encodings: trust ICU's detector only when it is confident.
  UErrorCode err = U_ZERO_ERROR;
  UCharsetDetector* det = ucsdet_open(&err);
  std::unique_ptr<UCharsetDetector, void (*)(UCharsetDetector*)> guard(det, ucsdet_close);
  if (U_SUCCESS(err)) {
    ucsdet_setText(det, bytes.data(), static_cast<int32_t>(bytes.size()), &err);
    const UCharsetMatch* m = ucsdet_detect(det, &err);
    if (U_SUCCESS(err) && m) {
      int32_t conf = ucsdet_getConfidence(m, &err);
      const char* name = ucsdet_getName(m, &err);
      if (U_SUCCESS(err) && name && conf >= 50 && std::string_view(name) != "UTF-8") {
        auto converted = Convert(bytes, name);
        if (converted.ok()) return converted;
      }
    }
  }
  return Status::InvalidArgument(what + " is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) +
                                 ") and its encoding could not be detected; convert it to UTF-8");
}

std::string NormalizeNfkc(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(err);
  if (U_FAILURE(err)) return std::string(s);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString n = nfkc->normalize(u, err);
  if (U_FAILURE(err)) return std::string(s);
  std::string out;
  n.toUTF8String(out);
  return out;
}

std::string_view Trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

std::string NormalizeWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int newlines = 0;
  bool pending_space = false;
  for (char c : s) {
    if (c == '\r') continue;
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (++newlines <= 2 && !out.empty()) out.push_back('\n');
      pending_space = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty() && out.back() != '\n') out.push_back(' ');
    pending_space = false;
    newlines = 0;
    out.push_back(c);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

size_t CompleteUtf8Prefix(std::string_view s) {
  // Walk back over at most 3 continuation bytes to the last lead byte.
  size_t n = s.size();
  size_t i = n;
  int back = 0;
  while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i, ++back;
  if (i == 0) return back == 0 ? 0 : n;  // only continuation bytes: pass them on
  unsigned char lead = static_cast<unsigned char>(s[i - 1]);
  size_t need = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 1;
  return (n - (i - 1)) >= need ? n : i - 1;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
}

bool IsSentenceEnd(std::string_view s, size_t i, int* len) {
  char32_t c = DecodeAt(s, i, len);
  if (c == U'。' || c == U'！' || c == U'？' || c == U'\n') return true;
  if (c == '.' || c == '!' || c == '?') return i + 1 >= s.size() || s[i + 1] == ' ' || s[i + 1] == '\n';
  return false;
}

std::vector<std::string_view> SplitSentences(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = start;
    while (end < s.size()) {
      int len = 1;
      bool stop = IsSentenceEnd(s, end, &len);
      end += len > 0 ? len : 1;
      if (stop) break;
    }
    out.push_back(s.substr(start, std::min(end, s.size()) - start));
    start = end;
  }
  return out;
}

}  // namespace ragd::text
