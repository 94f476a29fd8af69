// An MCP client over stdio (JSON-RPC 2.0, one message per line): ragd
// starts the server as a child process, initializes, lists its tools and
// offers them to the agent; a call is tools/call. The server's stderr goes
// to a temporary file whose tail is quoted when the server fails.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ragd/agent.h"
#include "ragd/status.h"

namespace ragd::agent {

struct McpServerInfo {
  std::string name;
  std::string version;
  std::string protocol_version;
};

class McpClient : public std::enable_shared_from_this<McpClient> {
 public:
  // command is split like a shell would ("uvx mcp-server-time --local-timezone UTC"),
  // without running a shell. timeout_seconds bounds the start-up handshake.
  static Result<std::shared_ptr<McpClient>> Start(const std::string& command, double timeout_seconds = 30);
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  const McpServerInfo& info() const { return info_; }
  // The server's tools (tools/list, every page).
  Result<std::vector<ToolSpec>> ListTools(double timeout_seconds = 30);
  // tools/call: the result's text content (an isError result is an error
  // carrying that text).
  Result<std::string> CallTool(const std::string& name, const std::string& arguments_json, double timeout_seconds);
  // The server's tools as agent tools; a name that clashes with one in
  // taken is renamed "<server>_<name>".
  Result<std::vector<std::unique_ptr<Tool>>> Tools(const std::vector<std::string>& taken);

 private:
  McpClient() = default;
  Result<std::string> Request(const std::string& method, const std::string& params_json, double timeout_seconds);
  Status Send(const std::string& line);
  Result<std::string> ReadLine(double timeout_seconds);
  std::string StderrTail() const;
  std::string Describe() const;

  std::string command_;
  int pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string stderr_path_;
  std::string buffer_;
  int64_t next_id_ = 1;
  McpServerInfo info_;
};

// Splits a command line into words: spaces separate, '…' and "…" quote,
// backslash escapes. An unclosed quote is InvalidArgument.
Result<std::vector<std::string>> SplitCommand(const std::string& command);

}  // namespace ragd::agent
