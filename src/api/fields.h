// Typed readers of a JSON request body's fields, shared by every request
// of the request layer and the server: a field that is absent or null keeps
// its default, one of the wrong type is InvalidArgument "'key' must be
// <type_name>".
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status_macros.h"
#include "ragd/status.h"

namespace ragd::api {

template <typename T>
Status ReadField(const nlohmann::json& body, const char* key, T* out, const char* type_name) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return Status::OK();
  try {
    *out = it->get<T>();
    return Status::OK();
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument(std::string("'") + key + "' must be " + type_name);
  }
}

template <typename T>
Status ReadOptional(const nlohmann::json& body, const char* key, std::optional<T>* out, const char* type_name) {
  if (auto it = body.find(key); it == body.end() || it->is_null()) return Status::OK();
  T v{};
  RAGD_RETURN_IF_ERROR(ReadField(body, key, &v, type_name));
  *out = v;
  return Status::OK();
}

}  // namespace ragd::api
