#include "store/filter.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/text.h"

namespace ragd {

namespace {

constexpr const char* kOps[] = {"<=", ">=", "!=", "=", "<", ">"};  // two-character ops first

bool ValidKeyChars(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (unsigned char c : key)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

namespace store {

bool IsBuiltinFilterKey(const std::string& key) {
  return key == "source" || key == "doc_id" || key == "type" || key == "modified" || key == "ingested";
}

Result<int64_t> ParseFilterDate(const std::string& value) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const char* v = value.c_str();
  bool ok = std::sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10;
  if (ok && value.size() > 10) {
    int more = 0;
    ok = (value[10] == 'T' || value[10] == ' ') &&
         (std::sscanf(v + 11, "%2d:%2d:%2d%n", &h, &mi, &s, &more) == 3 ||
          (s = 0, std::sscanf(v + 11, "%2d:%2d%n", &h, &mi, &more) == 2));
    size_t end = 11 + static_cast<size_t>(more);
    ok = ok && (end == value.size() || (end + 1 == value.size() && value[end] == 'Z'));
  }
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return Status::InvalidArgument("'" + value + "' is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

std::string FormatIsoUtc(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsNumber(const std::string& value, double* out) {
  if (value.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() || !std::isfinite(v)) return false;
  for (char c : value)  // not "inf", "nan", hex
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E')
      return false;
  if (out) *out = v;
  return true;
}

}  // namespace store

Result<FilterCondition> ParseFilterCondition(std::string_view expression) {
  std::string e(text::Trim(expression));
  for (const char* op : kOps) {
    size_t at = e.find(op);
    if (at == std::string::npos || at == 0) continue;
    // The first operator in the text wins ("a<=b" is <=, not <).
    size_t first = e.find_first_of("<>=!");
    if (first != at) continue;
    FilterCondition c;
    c.key = std::string(text::Trim(std::string_view(e).substr(0, at)));
    c.op = op;
    c.value = std::string(text::Trim(std::string_view(e).substr(at + std::string_view(op).size())));
    if (Status st = ValidateFilterCondition(c); !st.ok()) return st;
    return c;
  }
  return Status::InvalidArgument("filter '" + e + "' is not key=value (operators: = != < <= > >=)");
}

Status ValidateFilterCondition(const FilterCondition& c) {
  const std::string where = "filter '" + c.key + c.op + c.value + "': ";
  if (!ValidKeyChars(c.key)) return Status::InvalidArgument(where + "the key must be letters, digits, '_', '-' or '.'");
  bool known_op = false;
  for (const char* op : kOps) known_op = known_op || c.op == op;
  if (!known_op) return Status::InvalidArgument(where + "unknown operator '" + c.op + "' (= != < <= > >=)");
  if (c.value.empty()) return Status::InvalidArgument(where + "the value is empty");
  if (text::FindInvalidUtf8(c.value) != std::string::npos) return Status::InvalidArgument(where + "the value is not valid UTF-8");
  const bool equality = c.op == "=" || c.op == "!=";
  if (c.key == "source" && c.op != "=" && c.op != "!=")
    return Status::InvalidArgument(where + "source takes = (contains) or != (does not contain)");
  if ((c.key == "doc_id" || c.key == "type") && !equality)
    return Status::InvalidArgument(where + c.key + " takes = or !=");
  if (c.key == "modified" || c.key == "ingested") {
    if (c.op == "!=") return Status::InvalidArgument(where + c.key + " takes < <= > >= or =");
    auto d = store::ParseFilterDate(c.value);
    if (!d.ok()) return Status::InvalidArgument(where + d.status().message());
  }
  return Status::OK();
}

Status ValidateMetadata(const std::string& key, const std::string& value) {
  if (!ValidKeyChars(key))
    return Status::InvalidArgument("metadata key '" + key + "' must be 1-64 letters, digits, '_', '-' or '.'");
  if (store::IsBuiltinFilterKey(key))
    return Status::InvalidArgument("metadata key '" + key + "' is reserved (source, doc_id, type, modified, ingested)");
  if (value.size() > 4096) return Status::InvalidArgument("metadata value of '" + key + "' is longer than 4096 bytes");
  if (text::FindInvalidUtf8(value) != std::string::npos)
    return Status::InvalidArgument("metadata value of '" + key + "' is not valid UTF-8");
  return Status::OK();
}

}  // namespace ragd
