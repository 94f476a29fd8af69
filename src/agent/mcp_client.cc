#include "agent/mcp_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/status_macros.h"

extern char** environ;

namespace ragd::agent {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kProtocolVersion = "2025-06-18";
constexpr size_t kMaxMessage = 16 << 20;

class McpTool : public Tool {
 public:
  McpTool(std::shared_ptr<McpClient> client, ToolSpec spec, std::string remote_name)
      : client_(std::move(client)), spec_(std::move(spec)), remote_(std::move(remote_name)) {}
  const ToolSpec& spec() const override { return spec_; }
  Result<ToolResult> Run(const std::string& arguments, double deadline_seconds) override {
    RAGD_ASSIGN_OR_RETURN(std::string text, client_->CallTool(remote_, arguments, deadline_seconds));
    return ToolResult{std::move(text), {}};
  }

 private:
  std::shared_ptr<McpClient> client_;
  ToolSpec spec_;
  std::string remote_;
};

}  // namespace

Result<std::vector<std::string>> SplitCommand(const std::string& command) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < command.size()) cur += command[++i];
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < command.size()) {
      cur += command[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) return Status::InvalidArgument("unclosed quote in the command '" + command + "'");
  if (in_word) words.push_back(std::move(cur));
  if (words.empty()) return Status::InvalidArgument("the MCP server command is empty");
  return words;
}

Result<std::shared_ptr<McpClient>> McpClient::Start(const std::string& command, double timeout_seconds) {
  RAGD_ASSIGN_OR_RETURN(std::vector<std::string> words, SplitCommand(command));
  std::shared_ptr<McpClient> c(new McpClient());
  c->command_ = command;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
    return Status::IOError(std::string("cannot create pipes for the MCP server: ") + std::strerror(errno));
  char tmpl[] = "/tmp/ragd-mcp-stderr-XXXXXX";
  int err_fd = mkstemp(tmpl);
  if (err_fd >= 0) c->stderr_path_ = tmpl;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (err_fd >= 0) close(err_fd);
  c->to_child_ = in[1];
  c->from_child_ = out[0];
  if (rc != 0)
    return Status::NotFound("cannot start the MCP server '" + words[0] + "': " + std::strerror(rc) +
                            (rc == ENOENT ? " (is it installed and on PATH?)" : ""));
  c->pid_ = pid;
  signal(SIGPIPE, SIG_IGN);  // a server that exits mid-write is an error value, not a signal
  json params = {{"protocolVersion", kProtocolVersion},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "ragd"}, {"version", "0.1"}}}};
  RAGD_ASSIGN_OR_RETURN(std::string result, c->Request("initialize", params.dump(), timeout_seconds));
  json r = json::parse(result, nullptr, false);
  if (r.is_object()) {
    c->info_.protocol_version = r.value("protocolVersion", std::string());
    if (r.contains("serverInfo") && r["serverInfo"].is_object()) {
      c->info_.name = r["serverInfo"].value("name", std::string());
      c->info_.version = r["serverInfo"].value("version", std::string());
    }
  }
  RAGD_RETURN_IF_ERROR(c->Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}.dump()));
  return c;
}

McpClient::~McpClient() {
  if (to_child_ >= 0) close(to_child_);  // EOF on stdin: the server's cue to exit
  if (pid_ > 0) {
    int status;
    for (int i = 0; i < 40 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(50'000);
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGTERM);
      for (int i = 0; i < 20 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(50'000);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
  }
  if (from_child_ >= 0) close(from_child_);
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

std::string McpClient::Describe() const { return "the MCP server '" + command_ + "'"; }

std::string McpClient::StderrTail() const {
  if (stderr_path_.empty()) return "";
  auto bytes = files::ReadFile(stderr_path_, 1 << 20);
  if (!bytes.ok() || bytes->empty()) return "";
  std::string s = *bytes;
  if (s.size() > 600) s = "…" + s.substr(s.size() - 600);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return "; its stderr ends: " + s;
}

Status McpClient::Send(const std::string& line) {
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(to_child_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Unavailable(Describe() + " stopped reading its input" + StderrTail());
    off += static_cast<size_t>(n);
  }
  return Status::OK();
}

Result<std::string> McpClient::ReadLine(double timeout_seconds) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  for (;;) {
    if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (buffer_.size() > kMaxMessage) return Status::InvalidArgument(Describe() + " sent a message over 16 MiB");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return Status::Unavailable(Describe() + " did not answer within " + std::to_string(static_cast<int>(timeout_seconds)) + " s");
    pollfd p{from_child_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;
    char buf[65536];
    ssize_t n = read(from_child_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int status = 0;
      std::string how;
      if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        how = WIFEXITED(status) ? " (exit status " + std::to_string(WEXITSTATUS(status)) + ")" : " (killed by a signal)";
        pid_ = -1;
      }
      return Status::Unavailable(Describe() + " closed its output" + how + StderrTail());
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> McpClient::Request(const std::string& method, const std::string& params_json, double timeout_seconds) {
  const int64_t id = next_id_++;
  json req = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", json::parse(params_json, nullptr, false)}};
  if (req["params"].is_discarded()) return Status::InvalidArgument("the parameters of " + method + " are not JSON");
  RAGD_RETURN_IF_ERROR(Send(req.dump()));
  const auto t0 = Clock::now();
  for (;;) {
    double left = timeout_seconds - std::chrono::duration<double>(Clock::now() - t0).count();
    RAGD_ASSIGN_OR_RETURN(std::string line, ReadLine(std::max(0.0, left)));
    json msg = json::parse(line, nullptr, false);
    if (!msg.is_object()) continue;  // not JSON-RPC (a stray log line): skip it
    if (msg.contains("method")) {
      // A request of the server's own (ping, roots/list...): ping gets its
      // empty result, the rest "method not found"; notifications need none.
      if (msg.contains("id")) {
        json reply = msg["method"] == "ping"
                         ? json{{"jsonrpc", "2.0"}, {"id", msg["id"]}, {"result", json::object()}}
                         : json{{"jsonrpc", "2.0"}, {"id", msg["id"]}, {"error", {{"code", -32601}, {"message", "not supported by ragd"}}}};
        RAGD_RETURN_IF_ERROR(Send(reply.dump()));
      }
      continue;
    }
    if (!msg.contains("id") || msg["id"] != id) continue;
    if (msg.contains("error")) {
      const json& e = msg["error"];
      std::string text = e.is_object() ? e.value("message", e.dump()) : e.dump();
      return Status::InvalidArgument(Describe() + " refused " + method + ": " + text);
    }
    if (!msg.contains("result")) return Status::InvalidArgument(Describe() + " answered " + method + " without a result");
    return msg["result"].dump();
  }
}

Result<std::vector<ToolSpec>> McpClient::ListTools(double timeout_seconds) {
  std::vector<ToolSpec> out;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    json params = json::object();
    if (!cursor.empty()) params["cursor"] = cursor;
    RAGD_ASSIGN_OR_RETURN(std::string result, Request("tools/list", params.dump(), timeout_seconds));
    json r = json::parse(result, nullptr, false);
    if (!r.is_object() || !r.contains("tools") || !r["tools"].is_array())
      return Status::InvalidArgument(Describe() + " answered tools/list without a list of tools");
    for (const json& t : r["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      ToolSpec s;
      s.name = t["name"];
      s.description = t.value("description", std::string());
      json schema = t.value("inputSchema", json{{"type", "object"}});
      s.parameters = schema.is_object() ? schema.dump() : "{\"type\":\"object\"}";
      out.push_back(std::move(s));
    }
    cursor = r.value("nextCursor", std::string());
    if (cursor.empty()) break;
  }
  return out;
}

Result<std::string> McpClient::CallTool(const std::string& name, const std::string& arguments_json, double timeout_seconds) {
  json args = json::parse(arguments_json, nullptr, false);
  if (!args.is_object()) return Status::InvalidArgument("the arguments are not a JSON object");
  RAGD_ASSIGN_OR_RETURN(std::string result,
                        Request("tools/call", json{{"name", name}, {"arguments", args}}.dump(), timeout_seconds));
  json r = json::parse(result, nullptr, false);
  std::string text;
  if (r.is_object() && r.contains("content") && r["content"].is_array()) {
    for (const json& c : r["content"]) {
      if (!c.is_object()) continue;
      std::string type = c.value("type", std::string());
      if (type == "text") text += (text.empty() ? "" : "\n") + c.value("text", std::string());
      else if (type == "resource" && c.contains("resource") && c["resource"].is_object())
        text += (text.empty() ? "" : "\n") + c["resource"].value("text", std::string());
      else text += (text.empty() ? "" : "\n") + ("[" + type + " content]");
    }
  }
  if (text.empty() && r.is_object() && r.contains("structuredContent")) text = r["structuredContent"].dump();
  if (r.is_object() && r.value("isError", false)) return Status::InvalidArgument(text.empty() ? name + " failed" : text);
  return text;
}

Result<std::vector<std::unique_ptr<Tool>>> McpClient::Tools(const std::vector<std::string>& taken) {
  RAGD_ASSIGN_OR_RETURN(std::vector<ToolSpec> specs, ListTools());
  std::vector<std::unique_ptr<Tool>> out;
  for (ToolSpec& s : specs) {
    std::string remote = s.name;
    if (std::find(taken.begin(), taken.end(), s.name) != taken.end()) {
      std::string prefix;
      for (char ch : info_.name.empty() ? std::string("mcp") : info_.name)
        prefix += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      s.name = prefix + "_" + s.name;
    }
    if (s.description.empty()) s.description = "a tool of the MCP server " + (info_.name.empty() ? command_ : info_.name);
    out.push_back(std::make_unique<McpTool>(shared_from_this(), std::move(s), std::move(remote)));
  }
  return out;
}

}  // namespace ragd::agent
