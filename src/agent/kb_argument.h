// The "kb" argument every knowledge-base tool shares (built-in tools and the
// MCP server's ask): asked for only when there is more than one to choose.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ragd/status.h"

namespace ragd::agent {

// params (an object schema) with a required "kb" enum when kbs has several.
nlohmann::json WithKbArgument(nlohmann::json params, const std::vector<std::string>& kbs);

// The knowledge base a call names, or the only one when there is one.
Result<std::string> PickKb(const nlohmann::json& args, const std::vector<std::string>& kbs);

}  // namespace ragd::agent
