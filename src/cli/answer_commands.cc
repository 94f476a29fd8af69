#include "cli/answer_commands.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/config.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "core/status_macros.h"
#include "ragd/answer_eval.h"
#include "server/server.h"
#include "core/files.h"
#include "core/text.h"
#include "ragd/engine.h"
#include "ragd/rag.h"
#include "ragd/trace.h"

namespace ragd::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// api::AnswerJson (shared with the server) and what only the CLI prints.
json AnswerJson(const Answer& a, const ChatModel& m, const AskOptions& o) {
  json out = api::AnswerJson(a);
  out.update(json{{"question", a.question},
              {"standalone_question", a.standalone_question},
              {"language", a.language},
              {"check_reply", a.check_reply},
              {"best_score", a.best_score},
              {"min_score", a.min_score},
              {"citations_corrected", a.citations_corrected},
              {"model_answer", std::string(text::Trim(a.model_text))},
              {"unknown_citations", a.unknown_citations},
              {"backend", m.backend()},
              {"model", m.model()},
              {"strategy", AnswerStrategyName(o.strategy)},
              {"mode", SearchModeName(o.mode)},
              {"usage",
               {{"prompt_tokens", a.generation.prompt_tokens},
                {"cached_prompt_tokens", a.generation.cached_prompt_tokens},
                {"completion_tokens", a.generation.completion_tokens},
                {"context_tokens", a.context_tokens}}},
              {"timings",
               {{"retrieval_seconds", a.retrieval_seconds},
                {"prompt_seconds", a.prompt_seconds},
                {"generation_seconds", a.generation_seconds},
                {"condense_seconds", a.condense_seconds},
                {"first_token_seconds", a.generation.first_token_seconds}}}});
  return out;
}

void PrintSources(const Answer& a, bool cited_only) {
  if (a.found && a.sources.empty()) {  // --no-retrieval
    std::printf("\n");
    return;
  }
  if (!a.found) {
    if (a.min_score >= 0)
      std::printf("\n(no passage came close enough: best similarity %.2f, threshold %.2f; see --min-score)\n",
                  a.best_score, a.min_score);
    else
      std::printf("\n");
    return;
  }
  if (a.citations_corrected)
    std::printf("\n\n(citations checked against the sources: %s)", std::string(text::Trim(a.text)).c_str());
  std::printf("\n\nSources:\n");
  for (const auto& s : a.sources) {
    if (cited_only && !s.cited) continue;
    std::printf("  [%d]%s %s — %s\n", s.n, s.cited ? "*" : " ", SourceLabel(s.hit).c_str(),
                OneLine(s.hit.text, 160).c_str());
  }
  if (!a.unknown_citations.empty()) {
    std::string list;
    for (int n : a.unknown_citations) list += (list.empty() ? "" : ", ") + std::to_string(n);
    std::printf("  (the answer cites [%s], which no source has)\n", list.c_str());
  }
}

void PrintTimings(const Answer& a, bool quiet) {
  std::fflush(stdout);
  if (quiet || !a.found) return;
  double tps = a.generation.seconds > a.generation.first_token_seconds && a.generation.completion_tokens > 1
                   ? (a.generation.completion_tokens - 1) / (a.generation.seconds - a.generation.first_token_seconds)
                   : 0;
  std::fprintf(stderr,
               "(retrieval %.3f s · prompt %.3f s · generation %.2f s: %d prompt + %d answer tokens, first token "
               "%.2f s, %.1f tokens/s)\n",
               a.retrieval_seconds, a.prompt_seconds, a.generation_seconds, a.generation.prompt_tokens,
               a.generation.completion_tokens, a.generation.first_token_seconds, tps);
}

}  // namespace

AnswerCommands::AnswerCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  // serve's own --api-key protects the server; there the remote backend's
  // key is --backend-api-key.
  auto model_flags = [this](CLI::App* cmd, bool serve = false) {
    AddModelFlags(cmd, &f_, serve);
    cmd->add_option("--kb", f_.kb, "knowledge base to answer from");
    cmd->add_option("--mode", f_.mode, "retrieval: bm25, dense or hybrid (default hybrid)");
    cmd->add_option("-k", f_.k, "sources to retrieve (default 4)");
    cmd->add_option("--min-score", f_.min_score, "refuse when the best cosine similarity is below this (default per embedding model: 0.3 MiniLM, 0.85 e5-small, else never; <0 never)");
    cmd->add_option("--context-budget", f_.context_budget, "tokens for sources (default: what the context leaves)");
    cmd->add_option("--strategy", f_.strategy, "stuff, map-reduce or refine (default stuff)");
    cmd->add_option("--neighbors", f_.neighbors, "give the model n chunks around each source (default 0)");
    cmd->add_flag("--check-sources,!--no-check-sources", f_.check_sources,
                  "before answering, ask the model whether the sources state the answer; refuse when not");
    cmd->add_flag("--no-retrieval", f_.no_retrieval, "talk to the model directly");
    AddRetrievalFlags(cmd, &f_.filters, &f_.no_rerank, &f_.rerank_candidates);
    cmd->add_flag("--json", f_.json, "print the answer as JSON (no streaming)");
  };
  ask_ = app->add_subcommand("ask", "answer a question from a knowledge base, with cited sources");
  ask_->add_option("question", question_, "the question")->required();
  model_flags(ask_);

  chat_ = app->add_subcommand("chat", "a conversation with memory over a knowledge base (reads questions from stdin)");
  model_flags(chat_);
  chat_->add_option("--session", f_.session, "resume this session (default: start a new one)");
  chat_->add_option("--memory", f_.memory, "buffer, window or summary (default window)");
  chat_->add_option("--window", f_.window, "turns kept by --memory window (default 4)");

  sessions_ = app->add_subcommand("sessions", "list, show or delete chat sessions of a knowledge base");
  sessions_->require_subcommand(1);
  sessions_list_ = sessions_->add_subcommand("list", "list sessions, newest first");
  sessions_show_ = sessions_->add_subcommand("show", "show a session's turns");
  sessions_show_->add_option("id", session_id_)->required();
  sessions_delete_ = sessions_->add_subcommand("delete", "delete a session");
  sessions_delete_->add_option("id", session_id_)->required();
  for (CLI::App* c : {sessions_list_, sessions_show_, sessions_delete_}) {
    c->add_option("--kb", f_.kb, "knowledge base")->required();
    c->add_flag("--json", f_.json, "print as JSON");
  }

  serve_ = app->add_subcommand("serve", "serve the OpenAI-compatible API, the knowledge-base API and metrics over HTTP");
  model_flags(serve_, true);
  serve_->add_option("--host", host_, "address to listen on (default 127.0.0.1)");
  serve_->add_option("--port", port_, "port (default 8080; 0 = any free port, printed at start)");
  serve_->add_option("--api-key", api_key_, "require 'Authorization: Bearer KEY' on every route but /health");
  serve_->add_option("--api-key-file", api_key_file_, "read the API key from this file");
  serve_->add_option("--max-body-mb", max_body_mb_, "largest request body, uploads included (default 64)");
  serve_->add_option("--max-queue", max_queue_, "model requests that may wait; more get 503 (default 16)");

  if (CLI::App* eval = app->get_subcommand("eval")) {
    eval_answers_ = eval->add_subcommand("answers", "answer a BEIR folder's questions and score them against answers.jsonl");
    eval_answers_->add_option("dir", eval_dir_, "folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv, answers.jsonl")
        ->required();
    eval_answers_->add_option("--split", eval_split_, "qrels split (default test)");
    eval_answers_->add_option("--limit", eval_limit_, "only the first N questions (default all)");
    eval_answers_->add_option("--unanswerable", eval_unanswerable_,
                              "JSONL of questions the corpus cannot answer ({_id, text}); reports the share refused");
    eval_answers_->add_option("--unanswerable-limit", eval_unanswerable_limit_, "only the first N of them (default all)");
    eval_answers_->add_flag("--no-judge", eval_no_judge_, "skip faithfulness and answer relevancy (model-judged)");
    eval_answers_->add_option("--out", eval_out_, "per-question JSONL (default ragd-eval-answers.jsonl)");
    eval_answers_->add_flag("--resume", eval_resume_,
                            "keep the questions --out already holds (from a stopped run) and answer only the rest");
    eval_answers_->add_option("--plot", eval_plot_, "SVG plot of the metric distributions (default ragd-eval-answers.svg)");
    model_flags(eval_answers_);
  }

  traces_ = app->add_subcommand("traces", "show recorded model calls");
  traces_->add_option("--kb", f_.kb, "knowledge base whose traces to show (default: the data folder's)");
  traces_->add_option("--last", last_, "the last N calls (default 20, 0 = all)");
  traces_->add_flag("--json", f_.json, "print as JSON lines");
}

std::optional<int> AnswerCommands::Run() {
  if (*ask_) return Ask();
  if (*chat_) return Chat();
  if (*sessions_) return Sessions();
  if (*traces_) return Traces();
  if (*serve_) return Serve();
  if (eval_answers_ && *eval_answers_) return EvalAnswers();
  return std::nullopt;
}

int AnswerCommands::Ask() {
  auto prepared = Prepare(*common_, f_, KbNeed::kUnlessNoRetrieval);
  if (!prepared.ok()) return Fail(prepared.status());
  auto& run = *prepared.value();
  Assistant assistant(run.engine.get(), run.model.get(), &run.prompts, run.tags);
  Printer print;
  auto r = assistant.Ask(question_, run.ask, f_.json ? TokenFn() : TokenFn(std::ref(print)));
  WarnTrace(run);
  if (!r.ok()) {
    if (print.started) std::printf("\n");
    return Fail(r.status());
  }
  if (f_.json) {
    std::cout << AnswerJson(r.value(), *run.model, run.ask).dump(2) << "\n";
  } else {
    PrintSources(r.value(), false);
    PrintTimings(r.value(), common_->quiet);
  }
  return 0;
}

int AnswerCommands::Chat() {
  auto prepared = Prepare(*common_, f_, KbNeed::kAlways);
  if (!prepared.ok()) return Fail(prepared.status());
  auto& run = *prepared.value();
  if (Status st = run.engine->CheckKnowledgeBase(f_.kb); !st.ok()) return Fail(st);
  SessionStore store(*run.engine, f_.kb);
  Session session;
  if (!f_.session.empty()) {
    auto s = store.Load(f_.session);
    if (!s.ok()) return Fail(s.status());
    session = std::move(s).value();
    if (f_.memory) {
      auto m = ParseMemoryKind(*f_.memory);
      if (!m.ok()) return Fail(m.status());
      session.memory = m.value();
    }
    if (f_.window) session.window = *f_.window;
  } else {
    MemoryKind memory = run.settings.memory;
    if (f_.memory) {
      auto m = ParseMemoryKind(*f_.memory);
      if (!m.ok()) return Fail(m.status());
      memory = m.value();
    }
    auto s = store.Create(f_.kb, memory, f_.window.value_or(run.settings.window));
    if (!s.ok()) return Fail(s.status());
    session = std::move(s).value();
  }
  bool tty = ::isatty(0);
  if (!f_.json)
    std::fprintf(stderr, "session %s (%s memory%s) — resume with --session %s; end with /exit or Ctrl-D\n",
                 session.id.c_str(), MemoryKindName(session.memory),
                 session.memory == MemoryKind::kWindow ? (", " + std::to_string(session.window) + " turns").c_str() : "",
                 session.id.c_str());
  Assistant assistant(run.engine.get(), run.model.get(), &run.prompts, run.tags);
  std::string line;
  int rc = 0;
  while (true) {
    if (tty && !f_.json) std::fprintf(stderr, "> "), std::fflush(stderr);
    if (!std::getline(std::cin, line)) break;
    std::string q(text::Trim(line));
    if (q.empty()) continue;
    if (q == "/exit" || q == "/quit") break;
    Printer print;
    auto r = assistant.ChatTurn(&session, q, run.ask, f_.json ? TokenFn() : TokenFn(std::ref(print)));
    WarnTrace(run);
    if (!r.ok()) {
      if (print.started) std::printf("\n");
      Fail(r.status());
      rc = 1;
      continue;  // the conversation goes on; nothing was stored for this turn
    }
    if (Status st = store.Save(session); !st.ok()) return Fail(st);
    if (f_.json) {
      json j = AnswerJson(r.value(), *run.model, run.ask);
      j["session"] = session.id;
      j["turn"] = session.turns.size();
      std::cout << j.dump() << "\n" << std::flush;
    } else {
      if (r->standalone_question != q && !common_->quiet)
        std::fprintf(stderr, "(searched for: %s)\n", r->standalone_question.c_str());
      PrintSources(r.value(), true);
      PrintTimings(r.value(), common_->quiet);
    }
  }
  return rc;
}

int AnswerCommands::Serve() {
  // Ctrl-C and SIGTERM stop the server cleanly: the signals are blocked
  // before any thread starts (threads inherit the mask) and one thread
  // waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::string key = api_key_;
  if (!api_key_file_.empty()) {
    auto k = files::ReadFile(api_key_file_, 4096);
    if (!k.ok()) return Fail(k.status().WithContext("--api-key-file"));
    key = std::string(text::Trim(k.value()));
    if (key.empty()) return Fail(Status::InvalidArgument("--api-key-file " + api_key_file_ + " is empty"));
  }
  auto prepared = Prepare(*common_, f_, KbNeed::kNever);
  if (!prepared.ok()) return Fail(prepared.status());
  auto& run = *prepared.value();
  server::ServeOptions so;
  so.host = host_;
  so.port = port_;
  so.api_key = key;
  so.max_body_bytes = max_body_mb_ << 20;
  so.max_waiting_jobs = std::max<size_t>(1, max_queue_);
  so.ask = run.ask;
  so.trace = run.trace != nullptr;
  so.trace_file = common_->trace_file.empty() ? run.settings.trace_file : common_->trace_file;
  auto e = run.engine->embedder();  // load before the first request
  if (!e.ok()) return Fail(e.status());
  ChatModel* model = run.model.get();
  auto srv = server::Server::Create(so, run.engine.get(), model, &run.prompts);
  if (!srv.ok()) return Fail(srv.status());
  if (Status st = (*srv)->Bind(); !st.ok()) return Fail(st);
  server::Server* raw = srv->get();
  // Joined before the server is destroyed (ASan found the detached version
  // reading the freed server after SIGTERM).
  std::thread stopper([stop_signals, raw] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    // The signal may come before the listen loop started: repeat until it ends.
    while (!raw->done()) {
      raw->Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::fprintf(stderr, "ragd: serving on http://%s:%d (chat model %s, %s)%s\n", host_.c_str(), (*srv)->port(),
               model->model().c_str(), model->backend().c_str(), key.empty() ? " without an API key" : "");
  std::fflush(stderr);
  Status st = (*srv)->Serve();
  // Serve() also returns on its own (a listen error): wake the stopper's
  // sigwait (SIGTERM is blocked everywhere, so it goes to that thread).
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return st.ok() ? 0 : Fail(st);
}

namespace {

// eval answers' per-question JSONL: a line per question as it is scored,
// read back by --resume.
json EvalRecordJson(const AnswerEvalRecord& rec) {
  json scores = json::object();
  for (const auto& name : AnswerMetricNames())
    if (auto v = AnswerMetric(rec.scores, name)) scores[name] = *v;
  return {{"id", rec.id}, {"question", rec.question}, {"references", rec.references}, {"answer", rec.answer},
          {"found", rec.found}, {"refusal", rec.refusal}, {"sources", rec.sources}, {"claims", rec.claims},
          {"scores", scores}, {"prompt_tokens", rec.prompt_tokens}, {"cached_prompt_tokens", rec.cached_prompt_tokens},
          {"first_token_seconds", rec.first_token_seconds}, {"seconds", rec.seconds}};
}

json UnanswerableJson(const UnanswerableRecord& u) {
  return {{"id", u.id}, {"question", u.question}, {"unanswerable", true}, {"answer", u.answer},
          {"refused", u.refused}, {"refusal", u.refusal}, {"prompt_tokens", u.prompt_tokens}, {"seconds", u.seconds}};
}

// Reads an earlier run's lines into o->done and o->done_unanswerable and
// returns the text of the lines kept. A last line without its newline was
// cut short when that run was killed: it is dropped (*dropped = true). Any
// other line that is not a record is an error naming it.
Result<std::string> ReadEvalAnswersFile(const std::string& path, AnswerEvalOptions* o, bool* dropped) {
  *dropped = false;
  if (!std::filesystem::exists(path)) return std::string();
  RAGD_ASSIGN_OR_RETURN(std::string data, files::ReadFile(path, int64_t{1} << 30));
  std::string kept;
  size_t line_no = 0;
  for (size_t pos = 0; pos < data.size();) {
    size_t nl = data.find('\n', pos);
    const bool complete = nl != std::string::npos;
    std::string line = data.substr(pos, complete ? nl - pos : std::string::npos);
    pos = complete ? nl + 1 : data.size();
    ++line_no;
    if (text::Trim(line).empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(path + ":" + std::to_string(line_no) + ": " + why +
                                     "; remove the line, or run without --resume to start afresh");
    };
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      if (!complete) {
        *dropped = true;
        break;
      }
      return bad("not a JSON object");
    }
    try {
      if (j.value("unanswerable", false)) {
        UnanswerableRecord u;
        u.id = j.at("id").get<std::string>();
        u.question = j.value("question", "");
        u.answer = j.value("answer", "");
        u.refused = j.at("refused").get<bool>();
        u.refusal = j.value("refusal", "");
        u.prompt_tokens = j.value("prompt_tokens", 0);
        u.seconds = j.value("seconds", 0.0);
        o->done_unanswerable.push_back(std::move(u));
      } else {
        AnswerEvalRecord r;
        r.id = j.at("id").get<std::string>();
        r.question = j.value("question", "");
        r.references = j.value("references", std::vector<std::string>{});
        r.answer = j.value("answer", "");
        r.found = j.at("found").get<bool>();
        r.refusal = j.value("refusal", "");
        r.sources = j.value("sources", std::vector<std::string>{});
        r.claims = j.value("claims", std::vector<std::string>{});
        for (const auto& [name, v] : j.at("scores").items())
          if (!SetAnswerMetric(r.scores, name, v.get<double>())) return bad("unknown score '" + name + "'");
        r.prompt_tokens = j.value("prompt_tokens", 0);
        r.cached_prompt_tokens = j.value("cached_prompt_tokens", 0);
        r.first_token_seconds = j.value("first_token_seconds", 0.0);
        r.seconds = j.value("seconds", 0.0);
        o->done.push_back(std::move(r));
      }
    } catch (const json::exception& e) {
      return bad(std::string("not a record of eval answers (") + e.what() + ")");
    }
    kept += line + "\n";
  }
  return kept;
}

}  // namespace

int AnswerCommands::EvalAnswers() {
  auto prepared = Prepare(*common_, f_, KbNeed::kNever);
  if (!prepared.ok()) return Fail(prepared.status());
  auto& run = *prepared.value();
  AnswerEvalOptions o;
  o.beir_dir = eval_dir_;
  o.split = eval_split_;
  o.kb = f_.kb;
  o.ask = run.ask;
  o.limit = eval_limit_;
  o.judge = !eval_no_judge_;
  o.unanswerable_file = eval_unanswerable_;
  o.unanswerable_limit = eval_unanswerable_limit_;
  // The per-question file grows as questions are scored: a run stopped
  // early keeps what it measured, and --resume carries on from it.
  if (eval_resume_) {
    bool dropped = false;
    auto kept = ReadEvalAnswersFile(eval_out_, &o, &dropped);
    if (!kept.ok()) return Fail(kept.status());
    if (Status st = files::WriteFileAtomic(eval_out_, *kept); !st.ok()) return Fail(st);
    if (!common_->quiet && !f_.json)
      std::fprintf(stderr, "ragd: resuming: %zu questions already scored in %s%s\n",
                   o.done.size() + o.done_unanswerable.size(), eval_out_.c_str(),
                   dropped ? " (its last line, cut short, was dropped)" : "");
  }
  std::ofstream out(eval_out_, eval_resume_ ? std::ios::app : std::ios::trunc);
  if (!out) return Fail(Status::IOError("cannot write " + eval_out_ + ": " + std::strerror(errno)));
  auto write_line = [&](const json& j) {
    out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
  };
  AnswerEvalSink sink;
  sink.answered = [&](const AnswerEvalRecord& rec) { write_line(EvalRecordJson(rec)); };
  sink.unanswerable = [&](const UnanswerableRecord& u) { write_line(UnanswerableJson(u)); };
  cli::ProgressBar bar("eval answers", common_->quiet || f_.json);
  auto r = EvaluateAnswers(*run.engine, *run.model, run.prompts, o, [&](const IngestProgress& p) { bar.Update(p); },
                           sink);
  bar.Finish();
  WarnTrace(run);
  if (!r.ok()) return Fail(r.status());
  out.close();
  if (!out) return Fail(Status::IOError("cannot write " + eval_out_ + ": " + std::strerror(errno)));
  const double n_answerable = static_cast<double>(r->records.size());
  json refusals = {{"answerable_refused", r->answerable_refused},
                   {"answerable_refused_share", r->answerable_refused / n_answerable}};
  if (!r->unanswerable.empty()) {
    refusals["unanswerable"] = r->unanswerable.size();
    refusals["unanswerable_refused"] = r->unanswerable_refused;
    refusals["unanswerable_refused_share"] = static_cast<double>(r->unanswerable_refused) / r->unanswerable.size();
  }
  if (Status st = files::WriteFileAtomic(eval_plot_, AnswerMetricsSvg(r.value())); !st.ok()) return Fail(st);
  json metrics = json::object();
  for (const auto& name : AnswerMetricNames())
    if (auto v = AnswerMetric(r->mean, name)) metrics[name] = *v;
  if (f_.json) {
    std::cout << json{{"kb", r->kb}, {"questions", r->records.size()}, {"metrics", metrics},
                      {"judged", {{"faithfulness", r->judged_faithfulness}, {"answer_relevancy", r->judged_relevancy},
                                  {"citation_accuracy", r->judged_citations}}},
                      {"refusals", refusals},
                      {"semantic_similarity_method", r->semantic_method}, {"backend", run.model->backend()},
                      {"model", run.model->model()}, {"seconds", r->seconds}, {"per_question", eval_out_},
                      {"plot", eval_plot_}}.dump(2)
              << "\n";
    return 0;
  }
  std::printf("answers of %s (%zu questions, knowledge base '%s', %s %s)\n", eval_dir_.c_str(), r->records.size(),
              r->kb.c_str(), run.model->backend().c_str(), run.model->model().c_str());
  for (const auto& name : AnswerMetricNames()) {
    auto v = AnswerMetric(r->mean, name);
    if (v) std::printf("  %-26s %.4f\n", name.c_str(), *v);
    else std::printf("  %-26s —\n", name.c_str());
  }
  std::printf("  judged: faithfulness %d, answer relevancy %d, citations %d of %zu\n", r->judged_faithfulness,
              r->judged_relevancy, r->judged_citations, r->records.size());
  std::printf("  answerable questions refused: %d of %zu (%.4f)\n", r->answerable_refused, r->records.size(),
              r->answerable_refused / n_answerable);
  if (!r->unanswerable.empty())
    std::printf("  unanswerable questions refused: %d of %zu (%.4f)\n", r->unanswerable_refused,
                r->unanswerable.size(), static_cast<double>(r->unanswerable_refused) / r->unanswerable.size());
  std::printf("  semantic similarity: %s\n", r->semantic_method.c_str());
  std::printf("  per question: %s, plot: %s, %.1f s\n", eval_out_.c_str(), eval_plot_.c_str(), r->seconds);
  return 0;
}

int AnswerCommands::Sessions() {
  auto settings = LoadSettings(common_->config);
  if (!settings.ok()) return Fail(settings.status());
  auto engine = Engine::Open(MakeEngineOptions(*settings, *common_));  // loads no model
  if (!engine.ok()) return Fail(engine.status());
  if (Status st = (*engine)->CheckKnowledgeBase(f_.kb); !st.ok()) return Fail(st);  // the name, and that it exists
  SessionStore store(**engine, f_.kb);
  auto turns_json = [](const Session& s) {
    json turns = json::array();
    for (const auto& t : s.turns)
      turns.push_back({{"time", t.time}, {"question", t.question}, {"standalone_question", t.standalone_question},
                       {"answer", t.answer}, {"cited_sources", t.cited_sources}});
    return turns;
  };
  auto head_json = [](const Session& s) {
    return json{{"id", s.id},           {"kb", s.kb},
                {"created_at", s.created_at}, {"updated_at", s.updated_at},
                {"memory", MemoryKindName(s.memory)}, {"window", s.window},
                {"turns", s.turns.size()}, {"summary", s.summary}};
  };
  if (*sessions_list_) {
    auto list = store.List();
    if (!list.ok()) return Fail(list.status());
    if (f_.json) {
      json arr = json::array();
      for (const auto& s : list.value()) arr.push_back(head_json(s));
      std::cout << json{{"kb", f_.kb}, {"sessions", arr}}.dump(2) << "\n";
      return 0;
    }
    if (list->empty()) std::printf("no sessions in '%s'\n", f_.kb.c_str());
    for (const auto& s : list.value())
      std::printf("%s  %s  %3zu turns  %-7s  %s\n", s.id.c_str(), s.updated_at.c_str(), s.turns.size(),
                  MemoryKindName(s.memory), s.turns.empty() ? "" : OneLine(s.turns[0].question, 60).c_str());
    return 0;
  }
  if (*sessions_show_) {
    auto s = store.Load(session_id_);
    if (!s.ok()) return Fail(s.status());
    if (f_.json) {
      json j = head_json(s.value());
      j["turns"] = turns_json(s.value());
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::printf("session %s on '%s' (%s memory), %zu turns\n", s->id.c_str(), s->kb.c_str(), MemoryKindName(s->memory),
                s->turns.size());
    if (!s->summary.empty()) std::printf("summary: %s\n", s->summary.c_str());
    for (const auto& t : s->turns) {
      std::printf("\n[%s] > %s\n", t.time.c_str(), t.question.c_str());
      if (t.standalone_question != t.question) std::printf("  (searched for: %s)\n", t.standalone_question.c_str());
      std::printf("%s\n", std::string(text::Trim(t.answer)).c_str());
      for (const auto& c : t.cited_sources) std::printf("  · %s\n", c.c_str());
    }
    return 0;
  }
  if (*sessions_delete_) {
    if (Status st = store.Delete(session_id_); !st.ok()) return Fail(st);
    std::printf("deleted session %s\n", session_id_.c_str());
    return 0;
  }
  return 0;
}

int AnswerCommands::Traces() {
  auto settings = LoadSettings(common_->config);
  if (!settings.ok()) return Fail(settings.status());
  std::string data_dir = !common_->data_dir.empty() ? common_->data_dir : settings->data_dir;
  // Traces are shown even when recording is off now.
  std::string path = !common_->trace_file.empty() ? common_->trace_file
                     : !settings->trace_file.empty() ? settings->trace_file
                                                     : DefaultTracePath(data_dir.empty() ? DefaultDataDir() : data_dir, f_.kb);
  int skipped = 0;
  auto r = ReadTraces(path, last_, &skipped);
  if (!r.ok()) return Fail(r.status());
  if (f_.json) {
    for (const auto& t : r.value()) std::cout << TraceToJson(t) << "\n";
    return 0;
  }
  if (r->empty()) std::printf("no traces in %s\n", path.c_str());
  for (const auto& t : r.value()) {
    std::printf("%s  %-6s %-6s %-28s %6.3f s", t.time.c_str(), t.kind.c_str(), t.backend.c_str(),
                OneLine(t.model, 28).c_str(), t.latency_seconds);
    if (t.kind == "chat")
      std::printf("  %d+%d tokens, first token %.3f s", t.prompt_tokens, t.completion_tokens, t.first_token_seconds);
    std::printf("\n");
    if (!t.session.empty() || !t.question.empty())
      std::printf("    %s%s\n", t.session.empty() ? "" : ("session " + t.session + " · ").c_str(),
                  OneLine(t.question, 100).c_str());
    if (!t.error.empty()) std::printf("    error: %s\n", t.error.c_str());
    else if (t.kind == "chat") std::printf("    → %s\n", OneLine(text::Trim(t.output), 140).c_str());
  }
  if (skipped) std::fprintf(stderr, "ragd: %d damaged trace lines skipped\n", skipped);
  return 0;
}

}  // namespace ragd::cli
