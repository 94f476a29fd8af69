// Conversation memory: sessions of question-and-answer turns, kept as JSON
// per knowledge base (by its store: files in its folder, or rows in
// PostgreSQL), and the memory kinds that decide what of them a follow-up
// question sees.
//
// SessionStore is thread-compatible; a session is replaced whole, so a
// reader sees the old turns or the new ones.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "ragd/engine.h"
#include "ragd/models.h"
#include "ragd/status.h"

namespace ragd {

// One question-and-answer exchange of a session.
struct Turn {
  std::string time;
  std::string question;
  std::string standalone_question;
  std::string answer;
  std::vector<std::string> cited_sources;  // "file (page 2)" labels
};

enum class MemoryKind { kBuffer, kWindow, kSummary };
Result<MemoryKind> ParseMemoryKind(const std::string& name);
const char* MemoryKindName(MemoryKind m);

struct Session {
  std::string id;
  std::string kb;
  std::string created_at;
  std::string updated_at;
  MemoryKind memory = MemoryKind::kWindow;
  int window = 4;       // turns kept by kWindow
  std::string summary;  // kSummary's running summary
  std::vector<Turn> turns;
};

// Sessions of one knowledge base, through the engine's store (the engine
// must outlive this).
class SessionStore {
 public:
  SessionStore(Engine& engine, std::string kb);
  Result<Session> Create(const std::string& kb, MemoryKind memory, int window);
  Result<Session> Load(const std::string& id) const;
  Status Save(const Session& session) const;
  Result<std::vector<Session>> List() const;  // newest first
  Status Delete(const std::string& id) const;

 private:
  Engine& engine_;
  std::string kb_;
};

// A session that lives for one request, from an OpenAI-style message list
// (ragd serve's kb:<name> chats): each user message followed by an
// assistant one is a turn of a buffer memory. The last message, the
// question, is not part of it.
Session SessionFromMessages(std::span<const ChatMessage> messages);

}  // namespace ragd
