#include "agent/http_tools.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "models/http_client.h"

namespace ragd::agent {

namespace {

using nlohmann::json;

constexpr int64_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxResponseBytes = 1 << 20;  // the agent cuts results to its token budget anyway
const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
const std::set<std::string> kKeys = {"name",        "description", "parameters",     "method",
                                     "url",         "headers",     "allow_hosts",    "timeout_seconds"};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

struct UrlParts {
  std::string scheme;     // "http" or "https"
  std::string authority;  // "host:port"
  std::string host;       // "host", lower case, without brackets
  std::string rest;       // "/path?query" (may be empty)
};

Result<UrlParts> SplitUrl(const std::string& url) {
  UrlParts u;
  size_t colon = url.find("://");
  if (colon == std::string::npos) return Status::InvalidArgument("'" + url + "' is not an http:// or https:// URL");
  u.scheme = Lower(url.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https")
    return Status::InvalidArgument("'" + url + "' must start with http:// or https://");
  size_t start = colon + 3;
  size_t end = url.find_first_of("/?#", start);
  u.authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  u.rest = end == std::string::npos ? "" : url.substr(end);
  if (u.authority.empty()) return Status::InvalidArgument("'" + url + "' has no host");
  if (u.authority.find_first_of("{}") != std::string::npos)
    return Status::InvalidArgument("'" + url + "' has a placeholder in its host; placeholders may only be in the path and query");
  if (u.authority.find('@') != std::string::npos)
    return Status::InvalidArgument("'" + url + "' has credentials in its host; put them in a header from the environment");
  if (u.authority.front() == '[') {
    size_t close = u.authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("'" + url + "' has an unclosed [ in its host");
    u.host = u.authority.substr(1, close - 1);
  } else {
    u.host = u.authority.substr(0, u.authority.find(':'));
  }
  u.host = Lower(u.host);
  if (u.rest.find('#') != std::string::npos) u.rest.erase(u.rest.find('#'));
  return u;
}

// The {name} placeholders of a URL's path and query, in order.
Result<std::vector<std::string>> Placeholders(const std::string& rest) {
  std::vector<std::string> out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '}') return Status::InvalidArgument("a '}' without its '{'");
    if (rest[i] != '{') continue;
    size_t close = rest.find('}', i);
    if (close == std::string::npos) return Status::InvalidArgument("a '{' without its '}'");
    std::string name = rest.substr(i + 1, close - i - 1);
    if (!ValidName(name)) return Status::InvalidArgument("the placeholder {" + name + "} is not a parameter name");
    out.push_back(name);
    i = close;
  }
  return out;
}

// Percent-encodes all but RFC 3986's unreserved characters, so an argument
// can never add a path segment, a query parameter or a fragment.
std::string Encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string ArgText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Result<std::string> ExpandEnv(const std::string& value, const EnvFn& env, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size() || value[i + 1] != '{') {
      out += value[i];
      continue;
    }
    size_t close = value.find('}', i);
    if (close == std::string::npos) return Status::InvalidArgument(where + " has a '${' without its '}'");
    std::string var = value.substr(i + 2, close - i - 2);
    const char* v = env ? env(var.c_str()) : std::getenv(var.c_str());
    if (!v) return Status::InvalidArgument(where + " uses ${" + var + "}, which is not set in the environment");
    out += v;
    i = close;
  }
  return out;
}

Result<HttpToolConfig> ReadOne(const json& t, const EnvFn& env, const std::string& where0) {
  if (!t.is_object()) return Status::InvalidArgument(where0 + " is not a table/object");
  std::string where = where0;
  auto str = [&](const char* key, bool required, std::string* out) -> Status {
    if (!t.contains(key)) return required ? Status::InvalidArgument(where + " needs '" + key + "'") : Status::OK();
    if (!t[key].is_string()) return Status::InvalidArgument(where + ": '" + key + "' must be a string");
    *out = t[key].get<std::string>();
    return Status::OK();
  };
  HttpToolConfig c;
  RAGD_RETURN_IF_ERROR(str("name", true, &c.spec.name));
  if (!ValidName(c.spec.name))
    return Status::InvalidArgument(where + ": the name '" + c.spec.name + "' must be 1-64 letters, digits, _ or -");
  where = where0 + " ('" + c.spec.name + "')";
  for (const auto& [key, _] : t.items())
    if (!kKeys.contains(key)) {
      std::string known;
      for (const auto& k : kKeys) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(where + " has an unknown key '" + key + "'; the keys are " + known);
    }
  RAGD_RETURN_IF_ERROR(str("description", true, &c.spec.description));
  if (text::Trim(c.spec.description).empty()) return Status::InvalidArgument(where + ": 'description' is empty; the model chooses tools by it");
  RAGD_RETURN_IF_ERROR(str("method", false, &c.method));
  for (char& ch : c.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!kMethods.contains(c.method))
    return Status::InvalidArgument(where + ": method '" + c.method + "' is not GET, POST, PUT, PATCH or DELETE");
  RAGD_RETURN_IF_ERROR(str("url", true, &c.url));

  json params = t.value("parameters", json{{"type", "object"}, {"properties", json::object()}});
  if (!params.is_object() || params.value("type", "") != "object")
    return Status::InvalidArgument(where + ": 'parameters' must be a JSON Schema with \"type\": \"object\"");
  if (params.contains("properties") && !params["properties"].is_object())
    return Status::InvalidArgument(where + ": 'parameters.properties' must be an object");
  c.spec.parameters = params.dump();

  if (!t.contains("allow_hosts") || !t["allow_hosts"].is_array() || t["allow_hosts"].empty())
    return Status::InvalidArgument(where + " needs 'allow_hosts', the hosts it may reach (for example [\"api.example.com\"])");
  for (const auto& h : t["allow_hosts"]) {
    if (!h.is_string() || h.get<std::string>().empty()) return Status::InvalidArgument(where + ": 'allow_hosts' must hold host names");
    c.allow_hosts.push_back(Lower(h.get<std::string>()));
  }
  if (t.contains("timeout_seconds")) {
    if (!t["timeout_seconds"].is_number() || t["timeout_seconds"].get<double>() <= 0 || t["timeout_seconds"].get<double>() > 600)
      return Status::InvalidArgument(where + ": 'timeout_seconds' must be a number of seconds in (0, 600]");
    c.timeout_seconds = t["timeout_seconds"].get<double>();
  }
  if (t.contains("headers")) {
    if (!t["headers"].is_object()) return Status::InvalidArgument(where + ": 'headers' must be a table of strings");
    for (const auto& [k, v] : t["headers"].items()) {
      if (!v.is_string()) return Status::InvalidArgument(where + ": header '" + k + "' must be a string");
      RAGD_ASSIGN_OR_RETURN(std::string value, ExpandEnv(v.get<std::string>(), env, where + ": header '" + k + "'"));
      if (value.find_first_of("\r\n") != std::string::npos)
        return Status::InvalidArgument(where + ": header '" + k + "' holds a line break");
      c.headers.emplace_back(k, value);
    }
  }

  Result<UrlParts> u = SplitUrl(c.url);
  if (!u.ok()) return Status::InvalidArgument(where + ": url " + u.status().message());
  if (std::find(c.allow_hosts.begin(), c.allow_hosts.end(), u->host) == c.allow_hosts.end())
    return Status::InvalidArgument(where + ": the url's host '" + u->host + "' is not in allow_hosts");
  Result<std::vector<std::string>> names = Placeholders(u->rest);
  if (!names.ok()) return Status::InvalidArgument(where + ": url '" + c.url + "' has " + names.status().message());
  const json props = params.value("properties", json::object());
  for (const auto& n : *names)
    if (!props.contains(n)) return Status::InvalidArgument(where + ": the url's {" + n + "} is not one of the parameters");
  return c;
}

class HttpTool : public Tool {
 public:
  explicit HttpTool(HttpToolConfig c) : c_(std::move(c)) {}
  const ToolSpec& spec() const override { return c_.spec; }

  Result<ToolResult> Run(const std::string& arguments, double deadline_seconds) override {
    json args = json::parse(arguments.empty() ? "{}" : arguments, nullptr, false);
    if (!args.is_object()) return Status::InvalidArgument("the arguments are not a JSON object");
    RAGD_ASSIGN_OR_RETURN(HttpRequestPlan plan, PlanHttpRequest(c_, args));
    const double seconds = std::max(0.1, std::min(c_.timeout_seconds, deadline_seconds));
    httplib::Client cli(plan.origin);
    const auto whole = static_cast<time_t>(seconds);
    const auto usec = static_cast<time_t>((seconds - static_cast<double>(whole)) * 1e6);
    cli.set_connection_timeout(whole, usec);
    cli.set_read_timeout(whole, usec);
    cli.set_write_timeout(whole, usec);
    cli.set_follow_location(false);  // a redirect could leave the allowed hosts

    httplib::Request req;
    req.method = c_.method;
    req.path = plan.target;
    req.set_header("User-Agent", "ragd-agent");
    req.set_header("Accept", "application/json, text/plain;q=0.9, */*;q=0.5");
    for (const auto& [k, v] : c_.headers) req.set_header(k, v);
    if (!plan.body.empty()) {
      req.body = plan.body;
      req.set_header("Content-Type", "application/json");
    }
    std::string body;
    bool cut = false;
    int status = 0;
    req.response_handler = [&](const httplib::Response& r) {
      status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (body.size() + n > kMaxResponseBytes) {
        body.append(data, kMaxResponseBytes - body.size());
        cut = true;
        return false;
      }
      body.append(data, n);
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const std::string shown = c_.method + " " + plan.origin + plan.target;
    if (!cli.send(req, res, err) && !cut) {
      switch (err) {
        case httplib::Error::Connection:
          return Status::Unavailable("could not connect for " + shown + " (nothing listening, or refused)");
        case httplib::Error::ConnectionTimeout:
        case httplib::Error::Read:
          return Status::Unavailable(shown + " did not answer within " + std::to_string(static_cast<int>(seconds)) +
                                          " s (the tool's timeout_seconds, or the agent's --tool-seconds)");
        default:
          return Status::Unavailable(shown + " failed: " + httplib::to_string(err));
      }
    }
    if (status >= 300 && status < 400)
      return Status::Unavailable(shown + " answered HTTP " + std::to_string(status) + " (a redirect to '" +
                                 res.get_header_value("Location") + "'); redirects are not followed: point the tool's url at the final address");
    if (status < 200 || status >= 300)
      return Status::Unavailable(shown + " answered HTTP " + std::to_string(status) + ": " + http::ErrorDetail(body));
    if (cut) body.resize(text::CompleteUtf8Prefix(body));
    if (text::FindInvalidUtf8(body) != std::string_view::npos)
      return Status::InvalidArgument(shown + " answered " + std::to_string(body.size()) + " bytes that are not UTF-8 text");
    ToolResult r;
    r.content = body.empty() ? "(an empty response, HTTP " + std::to_string(status) + ")" : body;
    if (cut) r.content += "\n[cut: the response was longer than 1 MiB]";
    return r;
  }

 private:
  HttpToolConfig c_;
};

}  // namespace

Result<HttpRequestPlan> PlanHttpRequest(const HttpToolConfig& tool, const json& arguments) {
  RAGD_ASSIGN_OR_RETURN(UrlParts u, SplitUrl(tool.url));
  HttpRequestPlan p;
  p.origin = u.scheme + "://" + u.authority;
  p.host = u.host;
  std::set<std::string> used;
  std::string target;
  for (size_t i = 0; i < u.rest.size(); ++i) {
    if (u.rest[i] != '{') {
      target += u.rest[i];
      continue;
    }
    size_t close = u.rest.find('}', i);
    std::string name = u.rest.substr(i + 1, close - i - 1);
    if (!arguments.contains(name) || arguments[name].is_null())
      return Status::InvalidArgument("the argument '" + name + "' is needed for the url");
    std::string value = ArgText(arguments[name]);
    if (value.empty() || value == "." || value == "..")
      return Status::InvalidArgument("the argument '" + name + "' may not be '" + value + "' in a url");
    target += Encode(value);
    used.insert(name);
    i = close;
  }
  if (target.empty() || target[0] != '/') target.insert(0, "/");
  json rest = json::object();
  for (const auto& [k, v] : arguments.items())
    if (!used.contains(k) && !v.is_null()) rest[k] = v;
  if (tool.method == "GET" || tool.method == "DELETE") {
    for (const auto& [k, v] : rest.items())
      target += (target.find('?') == std::string::npos ? "?" : "&") + Encode(k) + "=" + Encode(ArgText(v));
  } else {
    p.body = rest.dump();
  }
  p.target = target;
  if (std::find(tool.allow_hosts.begin(), tool.allow_hosts.end(), p.host) == tool.allow_hosts.end())
    return Status::InvalidArgument("the host '" + p.host + "' is not in the tool's allow_hosts");
  return p;
}

Result<std::vector<HttpToolConfig>> ReadHttpTools(const std::string& path, const EnvFn& env) {
  RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(path, kMaxFileBytes));
  json doc;
  std::string key = "tools";
  if (path.ends_with(".json")) {
    doc = json::parse(raw, nullptr, false);
    if (doc.is_discarded()) return Status::InvalidArgument("tools file " + path + " is not valid JSON");
  } else {
    key = "tool";
    try {
      toml::table t = toml::parse(raw, path);
      std::ostringstream os;
      os << toml::json_formatter{t};
      doc = json::parse(os.str(), nullptr, false);
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument("tools file " + path + " is not valid TOML (line " +
                                     std::to_string(e.source().begin.line) + "): " + std::string(e.description()));
    }
  }
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array() || doc[key].empty())
    return Status::InvalidArgument("tools file " + path + " declares no tools: it needs " +
                                   (key == "tool" ? std::string("[[tool]] tables") : std::string("a \"tools\" array")) +
                                   " (docs/AGENTS.md shows the format)");
  std::vector<HttpToolConfig> out;
  std::set<std::string> names;
  for (size_t i = 0; i < doc[key].size(); ++i) {
    RAGD_ASSIGN_OR_RETURN(HttpToolConfig c, ReadOne(doc[key][i], env, path + ": tool " + std::to_string(i + 1)));
    if (!names.insert(c.spec.name).second)
      return Status::InvalidArgument(path + ": two tools are named '" + c.spec.name + "'");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::unique_ptr<Tool>>> LoadHttpTools(const std::string& path, const EnvFn& env) {
  RAGD_ASSIGN_OR_RETURN(std::vector<HttpToolConfig> configs, ReadHttpTools(path, env));
  std::vector<std::unique_ptr<Tool>> out;
  for (auto& c : configs) out.push_back(std::make_unique<HttpTool>(std::move(c)));
  return out;
}

}  // namespace ragd::agent
