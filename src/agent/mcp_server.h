// ragd as an MCP server: search_kb, ask, list_kbs and read_document over
// JSON-RPC 2.0, for any MCP client. The transport is the caller's: `ragd
// mcp` reads lines on stdin, `ragd serve` answers POST /mcp (Streamable
// HTTP, JSON responses). Only tools are offered (no resources or prompts).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ragd/agent.h"
#include "ragd/engine.h"
#include "ragd/status.h"

namespace ragd::agent {

// Answers a question from a knowledge base (the ask tool): the answer with
// its cited sources as text. The server's model calls go through its
// queue, the CLI's straight to the model.
using AskFn = std::function<Result<std::string>(const std::string& kb, const std::string& question)>;

class McpServer {
 public:
  // kbs: the knowledge bases offered (at least one). ask may be empty: then
  // no ask tool is listed.
  static Result<std::unique_ptr<McpServer>> Create(Engine* engine, const std::vector<std::string>& kbs, AskFn ask);

  // One JSON-RPC message in, its reply out ("" for a notification or a
  // response). Malformed input is a JSON-RPC error reply, never a throw.
  std::string Handle(const std::string& message);
  // The tools as tools/list gives them.
  std::vector<ToolSpec> specs() const;

 private:
  McpServer() = default;
  std::vector<std::unique_ptr<Tool>> tools_;
  AskFn ask_;
  std::vector<std::string> kbs_;
};

}  // namespace ragd::agent
