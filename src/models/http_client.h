// A small JSON-over-HTTP client for the remote model backends: one POST with
// bounded retries (429, 5xx, connection errors) and backoff, line-by-line
// delivery of streamed bodies (SSE, NDJSON), and error messages that say
// which server failed and what to do about it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "ragd/models.h"
#include "ragd/status.h"

namespace ragd::http {

struct Endpoint {
  std::string origin;     // "http://127.0.0.1:8080"
  std::string base_path;  // "/v1" (no trailing slash; may be empty)
  std::string display;    // the URL as the user gave it, for messages
};

// "http://host:port/v1/" -> {"http://host:port", "/v1"}. Only http and https.
Result<Endpoint> ParseBaseUrl(const std::string& url);

struct Response {
  int status = 0;
  std::string body;        // the whole body, unless lines were streamed
  bool cancelled = false;  // on_line returned false
  size_t streamed_bytes = 0;
};

// Called with each line of a 200 response (without the newline). Return
// false to stop reading (the response is then marked cancelled).
using LineFn = std::function<bool(std::string_view line)>;

class Client {
 public:
  Client(Endpoint endpoint, const BackendOptions& options) : ep_(std::move(endpoint)), opt_(options) {}

  // POSTs a JSON body to base_path + path. Non-2xx answers become errors
  // (after retries where retrying can help). With on_line, a 200 body is
  // delivered line by line; once a line was delivered no retry happens.
  Result<Response> PostJson(const std::string& path, const std::string& body, const LineFn& on_line = {});

  const Endpoint& endpoint() const { return ep_; }

 private:
  Endpoint ep_;
  BackendOptions opt_;
};

// The human part of an error body: error.message, error (string), or the
// first 200 bytes.
std::string ErrorDetail(std::string_view body);

}  // namespace ragd::http
