// Conversations as fine-tuning data: the formats, and real conversations
// from chat sessions and traces (docs/DATASETS.md).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/status_macros.h"
#include "ragd/dataset.h"
#include "ragd/engine.h"
#include "ragd/sessions.h"
#include "ragd/trace.h"

namespace ragd {
namespace {

using nlohmann::json;

// JSON that survives text a model wrote: invalid UTF-8 is replaced, not thrown on.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Result<DatasetFormat> ParseDatasetFormat(const std::string& name) {
  if (name == "openai") return DatasetFormat::kOpenAi;
  if (name == "alpaca") return DatasetFormat::kAlpaca;
  if (name == "sharegpt") return DatasetFormat::kShareGpt;
  return Status::InvalidArgument("unknown dataset format '" + name + "' (use openai, alpaca or sharegpt)");
}

const char* DatasetFormatName(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::kOpenAi: return "openai";
    case DatasetFormat::kAlpaca: return "alpaca";
    case DatasetFormat::kShareGpt: return "sharegpt";
  }
  return "?";
}

std::string FormatConversation(const Conversation& c, DatasetFormat format) {
  switch (format) {
    case DatasetFormat::kOpenAi: {
      json messages = json::array();
      for (const ChatMessage& m : c.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
      return Dump({{"messages", messages}});
    }
    case DatasetFormat::kShareGpt: {
      json turns = json::array();
      for (const ChatMessage& m : c.messages) {
        const char* from = m.role == "user" ? "human" : m.role == "assistant" ? "gpt" : "system";
        turns.push_back({{"from", from}, {"value", m.content}});
      }
      return Dump({{"conversations", turns}});
    }
    case DatasetFormat::kAlpaca: {
      // The last exchange is the example; earlier ones are its history, as
      // [question, answer] pairs; a system message is the "system" field.
      json history = json::array();
      std::string system, instruction, output, pending;
      for (const ChatMessage& m : c.messages) {
        if (m.role == "system") system = m.content;
        else if (m.role == "user") pending = m.content;
        else if (m.role == "assistant") {
          if (!instruction.empty()) history.push_back({instruction, output});
          instruction = pending;
          output = m.content;
        }
      }
      json j{{"instruction", instruction}, {"input", ""}, {"output", output}};
      if (!system.empty()) j["system"] = system;
      if (!history.empty()) j["history"] = history;
      return Dump(j);
    }
  }
  return "{}";
}

Result<std::vector<Conversation>> SessionConversations(Engine& engine, const std::string& kb) {
  RAGD_RETURN_IF_ERROR(engine.CheckKnowledgeBase(kb));
  RAGD_ASSIGN_OR_RETURN(std::vector<Session> sessions, SessionStore(engine, kb).List());
  std::reverse(sessions.begin(), sessions.end());  // oldest first
  std::vector<Conversation> out;
  for (const Session& s : sessions) {
    Conversation c;
    c.source = "session " + s.id;
    for (const Turn& t : s.turns) {
      if (t.question.empty() || t.answer.empty()) continue;
      c.messages.push_back({"user", t.question, {}, "", ""});
      c.messages.push_back({"assistant", t.answer, {}, "", ""});
    }
    if (!c.messages.empty()) out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<Conversation>> TraceConversations(const std::string& trace_file, int64_t* skipped) {
  int bad = 0;
  RAGD_ASSIGN_OR_RETURN(std::vector<TraceRecord> records, ReadTraces(trace_file, 0, &bad));
  int64_t unusable = bad;
  std::vector<Conversation> out;
  for (const TraceRecord& r : records) {
    if (r.kind != "chat" || !r.error.empty() || r.output.empty()) continue;
    json input = json::parse(r.input_json, nullptr, false);
    if (!input.is_array()) {
      ++unusable;
      continue;
    }
    Conversation c;
    c.source = "trace " + r.time;
    bool ok = true;
    for (const json& m : input) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string()) {
        ok = false;
        break;
      }
      c.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>(), {}, "", ""});
    }
    if (!ok || c.messages.empty()) {
      ++unusable;
      continue;
    }
    c.messages.push_back({"assistant", r.output, {}, "", ""});
    out.push_back(std::move(c));
  }
  if (skipped) *skipped = unusable;
  return out;
}

Status WriteConversations(const std::string& path, const std::vector<Conversation>& conversations, DatasetFormat format) {
  std::string data;
  for (const Conversation& c : conversations) data += FormatConversation(c, format) + "\n";
  return files::WriteFileAtomic(path, data).WithContext("writing " + path);
}

}  // namespace ragd
