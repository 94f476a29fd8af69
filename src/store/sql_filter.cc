#include "store/sql_filter.h"

#include <cctype>

#include "core/text.h"
#include "store/filter.h"

namespace ragd::store {

namespace {

std::string LikeEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

SqlFilter BuildSqlFilter(std::span<const FilterCondition> conditions, SqlDialect dialect,
                         const std::string& table_prefix, int first_param) {
  SqlFilter f;
  const bool pg = dialect == SqlDialect::kPostgres;
  // The placeholder of the value bound next.
  auto bind = [&](std::variant<int64_t, double, std::string> v) {
    f.binds.push_back(std::move(v));
    return pg ? "$" + std::to_string(first_param + static_cast<int>(f.binds.size()) - 1) : std::string("?");
  };
  for (const FilterCondition& c : conditions) {
    std::string clause;
    const bool negate = c.op == "!=";
    const std::string op = c.op;
    if (c.key == "source") {
      clause = pg ? "strpos(d.source, " + bind(c.value) + ") > 0" : "instr(d.source, " + bind(c.value) + ") > 0";
    } else if (c.key == "doc_id") {
      clause = "d.doc_id = " + bind(c.value);
    } else if (c.key == "type") {
      std::string any;
      size_t start = 0;
      while (start <= c.value.size()) {
        size_t bar = c.value.find('|', start);
        std::string alt(text::Trim(std::string_view(c.value).substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
        start = bar == std::string::npos ? c.value.size() + 1 : bar + 1;
        if (alt.empty()) continue;
        if (!any.empty()) any += " OR ";
        if (alt.find('/') != std::string::npos) {
          any += "d.mime = " + bind(alt);
        } else {
          if (alt[0] == '.') alt.erase(0, 1);
          any += "lower(d.source) LIKE " + bind("%." + LikeEscape(alt)) + " ESCAPE '\\'";
        }
      }
      clause = any.empty() ? (pg ? "false" : "0") : "(" + any + ")";
    } else if (c.key == "modified") {
      auto t = store::ParseFilterDate(c.value);  // validated by the caller
      clause = "d.mtime " + op + " " + bind(t.ok() ? t.value() : int64_t{0});
    } else if (c.key == "ingested") {
      auto t = store::ParseFilterDate(c.value);
      clause = "d.ingested_at " + op + " " + bind(store::FormatIsoUtc(t.ok() ? t.value() : 0));
    } else {
      // Metadata. != means "not equal or absent".
      double number = 0;
      const bool numeric = store::IsNumber(c.value, &number);
      const std::string cmp_op = negate ? std::string("=") : op;
      std::string key = bind(c.key);
      std::string cmp;
      if (!numeric) {
        cmp = "m.value " + cmp_op + " " + bind(c.value);
      } else if (pg) {
        // SQLite's CAST reads a non-number as 0; PostgreSQL's would fail the
        // query, so only values that are numbers compare.
        cmp = "(CASE WHEN m.value ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' "
              "THEN m.value::float8 END) " + cmp_op + " " + bind(number);
      } else {
        cmp = "CAST(m.value AS REAL) " + cmp_op + " " + bind(number);
      }
      clause = "EXISTS (SELECT 1 FROM " + table_prefix + "doc_meta m WHERE m.doc_id = d.doc_id AND m.key = " + key +
               " AND " + cmp + ")";
    }
    if (negate) clause = "NOT (" + clause + ")";
    f.where += (f.where.empty() ? "" : " AND ") + clause;
  }
  return f;
}

}  // namespace ragd::store
