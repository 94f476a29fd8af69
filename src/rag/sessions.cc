// Sessions as JSON files in <kb dir>/sessions/<id>.json, each replaced
// atomically after every turn so that a crash loses at most the turn in
// flight.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/files.h"
#include "core/status_macros.h"
#include "ragd/rag.h"

namespace ragd {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kSessionFormat = 1;

Status ValidateId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 64 &&
            std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; });
  return ok ? Status::OK()
            : Status::InvalidArgument("session id '" + id + "' is not valid (letters, digits, - and _ only)");
}

std::string NewId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const char* hex = "0123456789abcdef";
  std::string id(12, '0');
  uint64_t v = gen();
  for (char& c : id) c = hex[v & 15], v >>= 4;
  return id;
}

json ToJson(const Session& s) {
  json turns = json::array();
  for (const auto& t : s.turns)
    turns.push_back({{"time", t.time},
                     {"question", t.question},
                     {"standalone_question", t.standalone_question},
                     {"answer", t.answer},
                     {"cited_sources", t.cited_sources}});
  return {{"format", kSessionFormat}, {"id", s.id},         {"kb", s.kb},
          {"created_at", s.created_at}, {"updated_at", s.updated_at},
          {"memory", MemoryKindName(s.memory)}, {"window", s.window}, {"summary", s.summary}, {"turns", turns}};
}

Result<Session> FromJson(const std::string& what, const std::string& raw) {
  auto j = json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::Corruption("session " + what + " is not valid JSON");
  try {
    if (j.value("format", 0) > kSessionFormat)
      return Status::Corruption("session " + what + " was written by a newer ragd (format " +
                                std::to_string(j.value("format", 0)) + ")");
    Session s;
    s.id = j.at("id").get<std::string>();
    s.kb = j.value("kb", "");
    s.created_at = j.value("created_at", "");
    s.updated_at = j.value("updated_at", "");
    RAGD_ASSIGN_OR_RETURN(s.memory, ParseMemoryKind(j.value("memory", "window")));
    s.window = j.value("window", 4);
    s.summary = j.value("summary", "");
    for (const auto& t : j.value("turns", json::array())) {
      Turn turn;
      turn.time = t.value("time", "");
      turn.question = t.value("question", "");
      turn.standalone_question = t.value("standalone_question", "");
      turn.answer = t.value("answer", "");
      turn.cited_sources = t.value("cited_sources", std::vector<std::string>{});
      s.turns.push_back(std::move(turn));
    }
    return s;
  } catch (const json::exception& e) {
    return Status::Corruption("session " + what + " is damaged: " + e.what());
  }
}

}  // namespace

SessionStore::SessionStore(Engine& engine, std::string kb) : engine_(engine), kb_(std::move(kb)) {}

Result<Session> SessionStore::Create(const std::string& kb, MemoryKind memory, int window) {
  if (window < 1) return Status::InvalidArgument("the memory window must be at least 1 turn");
  Session s;
  s.id = NewId();
  s.kb = kb;
  s.created_at = s.updated_at = files::NowIso8601();
  s.memory = memory;
  s.window = window;
  RAGD_RETURN_IF_ERROR(Save(s));
  return s;
}

Result<Session> SessionStore::Load(const std::string& id) const {
  RAGD_RETURN_IF_ERROR(ValidateId(id));
  RAGD_ASSIGN_OR_RETURN(std::optional<std::string> raw, engine_.LoadSession(kb_, id));
  if (!raw) return Status::NotFound("no session '" + id + "' in this knowledge base (see `ragd sessions list`)");
  return FromJson(id, *raw);
}

Status SessionStore::Save(const Session& session) const {
  RAGD_RETURN_IF_ERROR(ValidateId(session.id));
  return engine_.SaveSession(kb_, session.id, ToJson(session).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

Result<std::vector<Session>> SessionStore::List() const {
  std::vector<Session> out;
  RAGD_ASSIGN_OR_RETURN(std::vector<std::string> bodies, engine_.ListSessions(kb_));
  for (const std::string& raw : bodies) {
    RAGD_ASSIGN_OR_RETURN(Session s, FromJson("of knowledge base '" + kb_ + "'", raw));
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Session& a, const Session& b) { return a.updated_at > b.updated_at; });
  return out;
}

Status SessionStore::Delete(const std::string& id) const {
  RAGD_RETURN_IF_ERROR(ValidateId(id));
  RAGD_ASSIGN_OR_RETURN(bool deleted, engine_.DeleteSession(kb_, id));
  if (!deleted) return Status::NotFound("no session '" + id + "' in this knowledge base");
  return Status::OK();
}

Session SessionFromMessages(std::span<const ChatMessage> messages) {
  Session session;
  session.id = "http";
  session.memory = MemoryKind::kBuffer;
  for (size_t i = 0; i + 1 < messages.size(); ++i)
    if (messages[i].role == "user" && messages[i + 1].role == "assistant")
      session.turns.push_back({"", messages[i].content, messages[i].content, messages[i + 1].content, {}});
  return session;
}

}  // namespace ragd
