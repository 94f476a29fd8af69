// User tools: HTTP endpoints declared in a tools file (TOML or JSON), off
// unless `ragd agent --tools FILE` names one. Each tool has a name, a
// description, JSON-Schema parameters, a method, a URL template whose
// {placeholders} take the call's arguments (percent-encoded, never in the
// host), headers whose ${VARS} come from the environment, an allow-list of
// hosts and a timeout. The file format is in docs/AGENTS.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ragd/agent.h"
#include "ragd/status.h"

namespace ragd::agent {

struct HttpToolConfig {
  ToolSpec spec;
  std::string method = "GET";  // GET, POST, PUT, PATCH or DELETE
  std::string url;             // "https://api.example.com/rates/{currency}?day={day}"
  std::vector<std::pair<std::string, std::string>> headers;  // values with ${VARS} expanded
  std::vector<std::string> allow_hosts;
  double timeout_seconds = 10;
};

// Looks up an environment variable (std::getenv unless a test gives another).
using EnvFn = std::function<const char*(const char*)>;

// Reads and checks a tools file: .json holds {"tools": [...]}, anything else
// is TOML with [[tool]] tables. Errors name the file, the tool and the key.
Result<std::vector<HttpToolConfig>> ReadHttpTools(const std::string& path, const EnvFn& env = {});

// The tools a file declares, ready for Agent::AddTool.
Result<std::vector<std::unique_ptr<Tool>>> LoadHttpTools(const std::string& path, const EnvFn& env = {});

// The request one call makes: the URL with placeholders filled, and the
// arguments no placeholder took (query parameters for GET, a JSON body
// otherwise). What a tool's Run sends; public so callers can show it.
struct HttpRequestPlan {
  std::string origin;  // "http://127.0.0.1:8000"
  std::string target;  // "/rates/USD?day=1"
  std::string host;    // "127.0.0.1"
  std::string body;    // JSON, empty for GET and DELETE
};
Result<HttpRequestPlan> PlanHttpRequest(const HttpToolConfig& tool, const nlohmann::json& arguments);

}  // namespace ragd::agent
