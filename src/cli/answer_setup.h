// What every answering command (ask, chat, serve, eval answers, agent)
// sets up the same way: settings and flags merged, the engine, the prompts,
// the chat model and its trace; and the streaming printer.
#pragma once

#include <memory>
#include <string_view>

#include "cli/answer_commands.h"
#include "cli/config.h"
#include "ragd/engine.h"
#include "ragd/rag.h"
#include "ragd/trace.h"

namespace ragd::cli {

// Everything one ask or chat run needs, built from settings and flags.
struct Run {
  Settings settings;
  AskOptions ask;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ChatModel> model;
  Prompts prompts;
  std::shared_ptr<TraceLog> trace;
  std::shared_ptr<TraceTags> tags = std::make_shared<TraceTags>();
};

enum class KbNeed { kUnlessNoRetrieval, kAlways, kNever };

// Settings file < environment < flags; kNever opens an untraced model;
// open_model false leaves run->model empty (commands that run no model).
Result<std::unique_ptr<Run>> Prepare(const CommonFlags& c, const AnswerFlags& f, KbNeed need_kb, bool open_model = true);

// Loads the chat model into run.model now: for commands that first check
// what they were given (a typo costs no model load) or need it only for
// some options.
Status LoadChatModel(Run& run);

// Streams pieces to stdout, dropping the leading whitespace base models emit.
struct Printer {
  bool started = false;
  bool operator()(std::string_view piece);
};

// The chat model's flags (backend, model, server, sampling, prompts); serve
// names the remote key --backend-api-key (its --api-key guards the server).
void AddModelFlags(CLI::App* cmd, AnswerFlags* f, bool serve = false);

// A trace write that failed, as a warning on stderr.
void WarnTrace(const Run& run);

}  // namespace ragd::cli
