#include "models/http_client.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

namespace ragd::http {

namespace {

void SetTimeout(httplib::Client& c, double seconds, void (httplib::Client::*set)(time_t, time_t)) {
  if (seconds <= 0) seconds = 1e6;
  auto whole = static_cast<time_t>(seconds);
  (c.*set)(whole, static_cast<time_t>((seconds - whole) * 1e6));
}

bool Retryable(int status) { return status == 429 || status == 408 || status >= 500; }

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

Result<Endpoint> ParseBaseUrl(const std::string& url) {
  Endpoint ep;
  ep.display = url;
  std::string rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
    ep.origin = "http://";
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
    ep.origin = "https://";
  } else {
    return Status::InvalidArgument("base URL '" + url + "' must start with http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  if (host.empty()) return Status::InvalidArgument("base URL '" + url + "' has no host");
  ep.origin += host;
  if (slash != std::string::npos) ep.base_path = rest.substr(slash);
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  return ep;
}

std::string ErrorDetail(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  std::string s(body.substr(0, 200));
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s.empty() ? "(empty body)" : s;
}

Result<Response> Client::PostJson(const std::string& path, const std::string& body, const LineFn& on_line) {
  const std::string url = ep_.origin + ep_.base_path + path;
  const int attempts = 1 + std::max(0, opt_.max_retries);
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      double wait = opt_.retry_backoff_seconds * std::pow(2.0, attempt - 1);
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 30.0)));
    }
    httplib::Client cli(ep_.origin);
    SetTimeout(cli, opt_.connect_timeout_seconds, &httplib::Client::set_connection_timeout);
    SetTimeout(cli, opt_.timeout_seconds, &httplib::Client::set_read_timeout);
    SetTimeout(cli, opt_.timeout_seconds, &httplib::Client::set_write_timeout);

    httplib::Request req;
    req.method = "POST";
    req.path = ep_.base_path + path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.set_header("Accept", on_line ? "text/event-stream, application/x-ndjson, application/json" : "application/json");
    if (!opt_.api_key.empty()) req.set_header("Authorization", "Bearer " + opt_.api_key);

    Response out;
    std::string line_buf;
    bool stream_ok = true;  // false once on_line asked to stop
    req.response_handler = [&](const httplib::Response& r) {
      out.status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (out.status != 200 || !on_line) {
        if (out.body.size() < (64u << 20)) out.body.append(data, n);
        return true;
      }
      out.streamed_bytes += n;
      line_buf.append(data, n);
      size_t start = 0;
      for (size_t nl; (nl = line_buf.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(line_buf.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!on_line(line)) {
          stream_ok = false;
          return false;
        }
      }
      line_buf.erase(0, start);
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool sent = cli.send(req, res, err);
    if (!stream_ok) {
      out.cancelled = true;
      return out;
    }
    if (!sent) {
      if (out.streamed_bytes > 0)
        return Status::Unavailable("the stream from " + ep_.display + " was cut off after " +
                                   std::to_string(out.streamed_bytes) + " bytes (" + httplib::to_string(err) + ")");
      switch (err) {
        case httplib::Error::Connection:
          last = Status::Unavailable("no server listening at " + ep_.display + " (connection refused); start it or " +
                                     "check the base URL");
          break;
        case httplib::Error::ConnectionTimeout:
          last = Status::Unavailable("the server at " + ep_.display + " did not accept a connection within " +
                                     Seconds(opt_.connect_timeout_seconds) + " s");
          break;
        case httplib::Error::Read:
          last = Status::Unavailable("the server at " + ep_.display + " did not answer " + path + " within " +
                                     Seconds(opt_.timeout_seconds) + " s (or closed the connection); raise " +
                                     "timeout_seconds if the model is slow");
          break;
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLServerVerification:
        case httplib::Error::SSLLoadingCerts:
          // Not retryable: the same handshake fails again.
          return Status::Unavailable("TLS with " + ep_.display + " failed (" + httplib::to_string(err) + ")");
        default:
          last = Status::Unavailable("request to " + url + " failed: " + httplib::to_string(err));
      }
      continue;  // connection-level failures are retried
    }
    if (out.status == 200 && on_line && !line_buf.empty()) {
      std::string_view line(line_buf);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!on_line(line)) out.cancelled = true;
    }
    if (out.status >= 200 && out.status < 300) return out;

    std::string detail = ErrorDetail(out.body);
    std::string code = " (" + std::to_string(out.status) + ")";
    if (out.status == 401 || out.status == 403)
      return Status::InvalidArgument("the server at " + ep_.display + " rejected the API key" + code + ": " + detail +
                                     "; set --api-key, OPENAI_API_KEY or api_key in ragd.toml");
    if (out.status == 404)
      return Status::NotFound("the server at " + ep_.display + " has no " + req.path + code + ": " + detail +
                              "; check the base URL (OpenAI-compatible servers usually end in /v1) and the model name");
    if (!Retryable(out.status))
      return Status::InvalidArgument("the server at " + ep_.display + " refused the request" + code + ": " + detail);
    last = out.status == 429
               ? Status::Unavailable("the server at " + ep_.display + " is rate-limiting requests" + code + ": " + detail)
               : Status::Unavailable("the server at " + ep_.display + " failed" + code + ": " + detail);
  }
  if (attempts > 1) return last.WithContext("after " + std::to_string(attempts) + " attempts");
  return last;
}

}  // namespace ragd::http
