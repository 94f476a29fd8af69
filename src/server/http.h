// The HTTP plumbing of ragd serve: Status to HTTP codes, the one JSON error
// shape ({"error": {"message", "type", "code"}}, as OpenAI's), JSON
// responses and request bodies. No route lives here.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ragd/status.h"

namespace ragd::server {

// A request error: an HTTP status code (0 = none) and its message.
struct HttpError {
  int status = 0;
  std::string message;
};

// NotFound 404, InvalidArgument 422, AlreadyExists 409, Unavailable 503,
// Cancelled 499, anything else 500.
int HttpStatusOf(const Status& st);
// OpenAI's error type for a status code ("invalid_request_error", ...).
const char* ErrorType(int status);

void SendError(httplib::Response& res, int status, const std::string& message);
// st as an error, with its code's HTTP status.
void SendStatus(httplib::Response& res, const Status& st);
void SendJson(httplib::Response& res, const nlohmann::json& j, int status = 200);

// Server-sent events: one "data: {json}" event; false when the client is gone.
bool SendEvent(httplib::DataSink& sink, const nlohmann::json& j);
// The closing "data: [DONE]" event, and the end of the stream.
void EndEvents(httplib::DataSink& sink);

// The body as a JSON object, or a 400 naming what is wrong.
std::optional<nlohmann::json> ParseObject(const httplib::Request& req, httplib::Response& res);

}  // namespace ragd::server
