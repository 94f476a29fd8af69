#include "server/http.h"

namespace ragd::server {

using json = nlohmann::json;

int HttpStatusOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kAlreadyExists: return 409;
    default: return 500;
  }
}

const char* ErrorType(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 409: return "conflict_error";
    case 413: return "request_too_large";
    case 422: return "invalid_request_error";
    case 503: return "overloaded_error";
    default: return "server_error";
  }
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  json j = {{"error", {{"message", message}, {"type", ErrorType(status)}, {"code", status}}}};
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendStatus(httplib::Response& res, const Status& st) { SendError(res, HttpStatusOf(st), st.ToString()); }

void SendJson(httplib::Response& res, const json& j, int status) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::optional<json> ParseObject(const httplib::Request& req, httplib::Response& res) {
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    SendError(res, 400, "the request body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object()) {
    SendError(res, 400, "the request body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

bool SendEvent(httplib::DataSink& sink, const nlohmann::json& j) {
  std::string line = "data: " + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
  return sink.write(line.data(), line.size());
}

void EndEvents(httplib::DataSink& sink) {
  static const std::string end = "data: [DONE]\n\n";
  sink.write(end.data(), end.size());
  sink.done();
}

}  // namespace ragd::server
