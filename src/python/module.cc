// ragd._ragd: the public C++ API (include/ragd) for Python, through
// nanobind. The Python package (python/ragd) wraps it in a KnowledgeBase
// class with keyword arguments and docstrings; this file maps types and
// errors and releases the GIL around every call that does real work
// (ingest, search, embedding, generation), so Python threads run them in
// parallel.
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ragd/engine.h"
#include "ragd/filter.h"
#include "ragd/rag.h"
#include "ragd/summarize.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace ragd::python {
namespace {

// A Status on its way to Python: the translator below raises the matching
// class of ragd.errors with the same message.
struct StatusError : std::exception {
  explicit StatusError(Status s) : status(std::move(s)) {}
  const char* what() const noexcept override { return status.message().c_str(); }
  Status status;
};

// The names ragd.errors knows the codes by.
const char* CodeKey(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kIOError: return "io_error";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

void Check(const Status& s) {
  if (!s.ok()) throw StatusError(s);
}
template <typename T>
T Take(Result<T>&& r) {
  if (!r.ok()) throw StatusError(r.status());
  return std::move(r).value();
}

// A Python callable called from a library thread: it takes the GIL, and an
// exception it raises is kept (the library cannot unwind through it) and
// raised once the call returns.
class PyCallback {
 public:
  explicit PyCallback(nb::object fn) : fn_(std::move(fn)) {}
  ~PyCallback() {
    nb::gil_scoped_acquire gil;
    fn_.reset();
  }
  template <typename... Args>
  bool operator()(Args&&... args) {
    nb::gil_scoped_acquire gil;
    if (error_) return false;
    try {
      nb::object r = fn_(std::forward<Args>(args)...);
      return r.is_none() || nb::cast<bool>(r);
    } catch (nb::python_error& e) {
      error_ = std::make_unique<nb::python_error>(std::move(e));
      return false;
    }
  }
  // Called with the GIL held, after the library returned.
  void RethrowIfFailed() {
    if (error_) {
      nb::python_error e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }
  bool empty() const { return !fn_.is_valid() || fn_.is_none(); }

 private:
  nb::object fn_;
  std::unique_ptr<nb::python_error> error_;
};

// The engine plus what answering needs: the prompts and one chat model,
// loaded on first use and used by one question at a time.
class PyEngine {
 public:
  PyEngine(const EngineOptions& options, const BackendOptions& chat, const std::string& prompts_dir)
      : chat_options_(chat) {
    engine_ = Take(Engine::Open(options));
    prompts_ = Take(Prompts::Load(prompts_dir));
  }

  Engine& engine() { return *engine_; }
  const Prompts& prompts() const { return prompts_; }

  // Runs fn with the chat model held (lock, then load when first needed).
  template <typename Fn>
  auto WithModel(Fn&& fn) -> decltype(fn(std::declval<ChatModel&>())) {
    std::lock_guard lock(chat_mu_);
    if (!chat_) {
      auto model = engine_->OpenChatModel(chat_options_);
      if (!model.ok()) return model.status();
      chat_ = std::move(model).value();
    }
    return fn(*chat_);
  }
  // The same, with an Assistant answering through that model.
  template <typename Fn>
  auto WithChat(Fn&& fn) -> decltype(fn(std::declval<Assistant&>())) {
    return WithModel([&](ChatModel& model) {
      Assistant assistant(engine_.get(), &model, &prompts_);
      return fn(assistant);
    });
  }

  std::string chat_backend() const { return BackendName(chat_options_.backend); }
  std::string chat_model() const {
    std::lock_guard lock(chat_mu_);
    return chat_ ? chat_->model() : chat_options_.model;
  }

 private:
  std::unique_ptr<Engine> engine_;
  Prompts prompts_;
  BackendOptions chat_options_;
  mutable std::mutex chat_mu_;
  std::unique_ptr<ChatModel> chat_;
};

// An answer generated on its own thread, read piece by piece: Python's
// iterator protocol over Assistant's on_token callback. Dropping the
// stream early cancels the generation.
class AnswerStream {
 public:
  using Run = std::function<Result<Answer>(const TokenFn&)>;
  explicit AnswerStream(Run run) {
    worker_ = std::thread([this, run = std::move(run)] {
      Result<Answer> r = run([this](std::string_view piece) {
        std::lock_guard lock(mu_);
        if (cancelled_) return false;
        pieces_.emplace_back(piece);
        cv_.notify_all();
        return true;
      });
      std::lock_guard lock(mu_);
      result_.emplace(std::move(r));
      cv_.notify_all();
    });
  }
  ~AnswerStream() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    nb::gil_scoped_release release;
    if (worker_.joinable()) worker_.join();
  }

  // The next piece, or none when the answer is complete. Called without the GIL.
  std::optional<std::string> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !pieces_.empty() || result_.has_value(); });
    if (pieces_.empty()) return std::nullopt;
    std::string piece = std::move(pieces_.front());
    pieces_.pop_front();
    return piece;
  }

  std::string session_id;  // a chat turn's session ("" for ask)

  // Waits for the end and gives the whole answer (or its error).
  Result<Answer> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return *result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
  std::optional<Result<Answer>> result_;
  bool cancelled_ = false;
  std::thread worker_;  // last: started once the rest exists
};

std::vector<SourceDocument> ToDocuments(const nb::list& docs) {
  std::vector<SourceDocument> out;
  out.reserve(nb::len(docs));
  for (nb::handle d : docs) out.push_back(nb::cast<SourceDocument>(d));
  return out;
}

Result<Session> LoadOrCreateSession(Engine& engine, const std::string& kb, const std::string& id, MemoryKind memory,
                                    int window) {
  SessionStore store(engine, kb);
  if (!id.empty()) return store.Load(id);
  return store.Create(kb, memory, window);
}

}  // namespace
}  // namespace ragd::python

using namespace ragd;
using namespace ragd::python;

NB_MODULE(_ragd, m) {
  m.doc() = "ragd's C++ API. Use the ragd package (ragd.open, ragd.KnowledgeBase) rather than this module.";

  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      nb::object cls = nb::module_::import_("ragd.errors").attr("error_class")(CodeKey(e.status.code()));
      PyErr_SetString(cls.ptr(), e.status.message().c_str());
    } catch (const BadResultAccess& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  nb::enum_<SearchMode>(m, "SearchMode")
      .value("BM25", SearchMode::kBm25)
      .value("DENSE", SearchMode::kDense)
      .value("HYBRID", SearchMode::kHybrid);
  nb::enum_<Fusion>(m, "Fusion")
      .value("RRF", Fusion::kRrf)
      .value("MINMAX", Fusion::kMinMax)
      .value("ZSCORE", Fusion::kZScore)
      .value("DISPERSION", Fusion::kDispersion);
  nb::enum_<AnswerStrategy>(m, "AnswerStrategy")
      .value("STUFF", AnswerStrategy::kStuff)
      .value("MAP_REDUCE", AnswerStrategy::kMapReduce)
      .value("REFINE", AnswerStrategy::kRefine);
  nb::enum_<MemoryKind>(m, "MemoryKind")
      .value("BUFFER", MemoryKind::kBuffer)
      .value("WINDOW", MemoryKind::kWindow)
      .value("SUMMARY", MemoryKind::kSummary);
  nb::enum_<Backend>(m, "Backend").value("LOCAL", Backend::kLocal).value("OPENAI", Backend::kOpenAi).value("OLLAMA", Backend::kOllama);
  nb::enum_<EmbedKind>(m, "EmbedKind").value("PASSAGE", EmbedKind::kPassage).value("QUERY", EmbedKind::kQuery);
  nb::enum_<ChunkUnit>(m, "ChunkUnit").value("TOKENS", ChunkUnit::kTokens).value("CHARS", ChunkUnit::kChars);

  // Names to enums, with the C++ API's own error messages.
  m.def("parse_search_mode", [](const std::string& s) { return Take(ParseSearchMode(s)); });
  m.def("parse_fusion", [](const std::string& s) { return Take(ParseFusion(s)); });
  m.def("parse_strategy", [](const std::string& s) { return Take(ParseAnswerStrategy(s)); });
  m.def("parse_memory", [](const std::string& s) { return Take(ParseMemoryKind(s)); });
  m.def("parse_backend", [](const std::string& s) { return Take(ParseBackend(s)); });
  m.def("default_data_dir", &DefaultDataDir, "$RAGD_DATA_DIR, else $XDG_DATA_HOME/ragd, else ~/.local/share/ragd.");
  m.def("model_search_path", &ModelSearchPath, "The folders searched for packaged models, first match wins.");

  nb::class_<FilterCondition>(m, "FilterCondition")
      .def(nb::init<>())
      .def_rw("key", &FilterCondition::key)
      .def_rw("op", &FilterCondition::op)
      .def_rw("value", &FilterCondition::value)
      .def("__repr__", [](const FilterCondition& f) { return "FilterCondition('" + f.key + f.op + f.value + "')"; });
  m.def("parse_filter", [](const std::string& s) { return Take(ParseFilterCondition(s)); }, "expression"_a,
        "Parses 'key=value', 'year>=2020', 'type!=pdf' into a FilterCondition.");
  m.def("check_filter", [](const FilterCondition& f) { Check(ValidateFilterCondition(f)); }, "condition"_a);
  m.def("check_metadata", [](const std::string& k, const std::string& v) { Check(ValidateMetadata(k, v)); }, "key"_a,
        "value"_a);

  nb::class_<BackendOptions>(m, "BackendOptions")
      .def(nb::init<>())
      .def_rw("backend", &BackendOptions::backend)
      .def_rw("model", &BackendOptions::model)
      .def_rw("base_url", &BackendOptions::base_url)
      .def_rw("api_key", &BackendOptions::api_key)
      .def_rw("threads", &BackendOptions::threads)
      .def_rw("context_tokens", &BackendOptions::context_tokens)
      .def_rw("chat_template", &BackendOptions::chat_template)
      .def_rw("timeout_seconds", &BackendOptions::timeout_seconds)
      .def_rw("max_retries", &BackendOptions::max_retries)
      .def_rw("prompt_cache_dir", &BackendOptions::prompt_cache_dir);

  nb::class_<KbInfo>(m, "KbInfo", "A knowledge base: counts, size on disk, its embedder, the share of its documents per script.")
      .def_ro("name", &KbInfo::name)
      .def_ro("path", &KbInfo::path)
      .def_ro("documents", &KbInfo::documents)
      .def_ro("chunks", &KbInfo::chunks)
      .def_ro("embed_model", &KbInfo::embed_model)
      .def_ro("bytes_on_disk", &KbInfo::bytes_on_disk)
      .def_ro("created_at", &KbInfo::created_at)
      .def_ro("updated_at", &KbInfo::updated_at)
      .def_ro("scripts", &KbInfo::scripts)
      .def_ro("language_warning", &KbInfo::language_warning)
      .def("__repr__", [](const KbInfo& i) {
        return "KbInfo(name='" + i.name + "', documents=" + std::to_string(i.documents) +
               ", chunks=" + std::to_string(i.chunks) + ", embed_model='" + i.embed_model + "')";
      });

  nb::class_<DocumentInfo>(m, "DocumentInfo", "A document of a knowledge base (metadata: from KnowledgeBase.document only).")
      .def_ro("doc_id", &DocumentInfo::doc_id)
      .def_ro("source", &DocumentInfo::source)
      .def_ro("mime", &DocumentInfo::mime)
      .def_ro("title", &DocumentInfo::title)
      .def_ro("size_bytes", &DocumentInfo::size_bytes)
      .def_ro("chunk_count", &DocumentInfo::chunk_count)
      .def_ro("ingested_at", &DocumentInfo::ingested_at)
      .def_ro("metadata", &DocumentInfo::metadata)
      .def("__repr__", [](const DocumentInfo& d) {
        return "DocumentInfo(doc_id='" + d.doc_id + "', source='" + d.source + "', chunks=" +
               std::to_string(d.chunk_count) + ")";
      });
  nb::class_<ChunkInfo>(m, "ChunkInfo")
      .def_ro("chunk_id", &ChunkInfo::chunk_id)
      .def_ro("chunk_index", &ChunkInfo::chunk_index)
      .def_ro("page", &ChunkInfo::page)
      .def_ro("heading_path", &ChunkInfo::heading_path)
      .def_ro("row", &ChunkInfo::row)
      .def_ro("char_start", &ChunkInfo::char_start)
      .def_ro("char_end", &ChunkInfo::char_end)
      .def_ro("text", &ChunkInfo::text);
  nb::class_<DocumentDetail>(m, "DocumentDetail", "A document with its metadata (info) and its chunks in order.")
      .def_ro("info", &DocumentDetail::info)
      .def_ro("chunks", &DocumentDetail::chunks);

  nb::class_<SourceDocument>(m, "SourceDocument")
      .def(nb::init<>())
      .def("__init__",
           [](SourceDocument* d, std::string id, std::string text, std::string source, std::string title,
              std::map<std::string, std::string> metadata) {
             new (d) SourceDocument{std::move(id), std::move(source), std::move(title), std::move(text),
                                    std::move(metadata)};
           },
           "id"_a, "text"_a, "source"_a = "", "title"_a = "", "metadata"_a = std::map<std::string, std::string>{})
      .def_rw("id", &SourceDocument::id)
      .def_rw("source", &SourceDocument::source)
      .def_rw("title", &SourceDocument::title)
      .def_rw("text", &SourceDocument::text)
      .def_rw("metadata", &SourceDocument::metadata);

  nb::class_<FileFailure>(m, "FileFailure")
      .def_ro("path", &FileFailure::path)
      .def_prop_ro("message", [](const FileFailure& f) { return f.status.message(); })
      .def_prop_ro("code", [](const FileFailure& f) { return std::string(CodeKey(f.status.code())); })
      .def("__repr__", [](const FileFailure& f) { return "FileFailure('" + f.path + "': " + f.status.ToString() + ")"; });
  nb::class_<IngestReport>(m, "IngestReport", "What an ingest did; failures lists the files skipped, each with its reason.")
      .def_ro("files_seen", &IngestReport::files_seen)
      .def_ro("files_added", &IngestReport::files_added)
      .def_ro("files_updated", &IngestReport::files_updated)
      .def_ro("files_unchanged", &IngestReport::files_unchanged)
      .def_ro("files_removed", &IngestReport::files_removed)
      .def_ro("chunks_written", &IngestReport::chunks_written)
      .def_ro("seconds", &IngestReport::seconds)
      .def_ro("failures", &IngestReport::failures)
      .def("__repr__", [](const IngestReport& r) {
        return "IngestReport(seen=" + std::to_string(r.files_seen) + ", added=" + std::to_string(r.files_added) +
               ", updated=" + std::to_string(r.files_updated) + ", unchanged=" + std::to_string(r.files_unchanged) +
               ", removed=" + std::to_string(r.files_removed) + ", chunks_written=" +
               std::to_string(r.chunks_written) + ", failures=" + std::to_string(r.failures.size()) + ")";
      });
  nb::class_<IngestProgress>(m, "IngestProgress", "Passed to an ingest's progress callback: items done of total, chunks so far, the current file.")
      .def_ro("done", &IngestProgress::done)
      .def_ro("total", &IngestProgress::total)
      .def_ro("chunks", &IngestProgress::chunks)
      .def_ro("current", &IngestProgress::current);

  nb::class_<SearchOptions>(m, "SearchOptions")
      .def(nb::init<>())
      .def_rw("kb", &SearchOptions::kb)
      .def_rw("query", &SearchOptions::query)
      .def_rw("mode", &SearchOptions::mode)
      .def_rw("k", &SearchOptions::k)
      .def_rw("candidates", &SearchOptions::candidates)
      .def_rw("rrf_k", &SearchOptions::rrf_k)
      .def_rw("fusion", &SearchOptions::fusion)
      .def_rw("lexical_weight", &SearchOptions::lexical_weight)
      .def_rw("mmr_lambda", &SearchOptions::mmr_lambda)
      .def_rw("min_score", &SearchOptions::min_score)
      .def_rw("neighbors", &SearchOptions::neighbors)
      .def_rw("one_per_document", &SearchOptions::one_per_document)
      .def_rw("filters", &SearchOptions::filters)
      .def_rw("rerank", &SearchOptions::rerank)
      .def_rw("rerank_candidates", &SearchOptions::rerank_candidates)
      .def_rw("query_vector", &SearchOptions::query_vector)
      .def_rw("with_metadata", &SearchOptions::with_metadata);

  nb::class_<SearchHit>(m, "Hit", "One search result: a chunk with its score, ranks in each list, document and place (page, heading, row, offsets).")
      .def_ro("rank", &SearchHit::rank)
      .def_ro("score", &SearchHit::score)
      .def_ro("doc_id", &SearchHit::doc_id)
      .def_ro("source", &SearchHit::source)
      .def_ro("title", &SearchHit::title)
      .def_ro("chunk_id", &SearchHit::chunk_id)
      .def_ro("chunk_index", &SearchHit::chunk_index)
      .def_ro("page", &SearchHit::page)
      .def_ro("heading_path", &SearchHit::heading_path)
      .def_ro("row", &SearchHit::row)
      .def_ro("char_start", &SearchHit::char_start)
      .def_ro("char_end", &SearchHit::char_end)
      .def_ro("text", &SearchHit::text)
      .def_ro("ocr_confidence", &SearchHit::ocr_confidence)
      .def_ro("lexical_rank", &SearchHit::lexical_rank)
      .def_ro("dense_rank", &SearchHit::dense_rank)
      .def_ro("lexical_score", &SearchHit::lexical_score)
      .def_ro("dense_score", &SearchHit::dense_score)
      .def_ro("rerank_score", &SearchHit::rerank_score)
      .def_ro("context", &SearchHit::context)
      .def_ro("metadata", &SearchHit::metadata)
      .def_prop_ro("label", [](const SearchHit& h) { return SourceLabel(h); },
                   "How the hit is cited: 'handbook.md > Wire transfers', 'policy.pdf p.2'.")
      .def("__repr__", [](const SearchHit& h) {
        std::string t = h.text.size() > 60 ? h.text.substr(0, 60) + "..." : h.text;
        return "Hit(rank=" + std::to_string(h.rank) + ", score=" + std::to_string(h.score) + ", doc_id='" + h.doc_id +
               "', text=" + nb::cast<std::string>(nb::repr(nb::str(t.c_str(), t.size()))) + ")";
      });
  nb::class_<SearchResponse::Timings>(m, "SearchTimings")
      .def_ro("candidates", &SearchResponse::Timings::candidates)
      .def_ro("lexical", &SearchResponse::Timings::lexical)
      .def_ro("embed", &SearchResponse::Timings::embed)
      .def_ro("vector", &SearchResponse::Timings::vector)
      .def_ro("rerank", &SearchResponse::Timings::rerank);
  nb::class_<SearchResponse>(m, "SearchResponse", "The hits of Engine.search with where the time went.")
      .def_ro("hits", &SearchResponse::hits)
      // The hits moved out as new objects: cheaper than the references
      // def_ro hands out (each kept alive by the response).
      .def("take_hits", [](SearchResponse& r) { return std::move(r.hits); }, nb::rv_policy::move)
      .def_ro("best_dense_score", &SearchResponse::best_dense_score)
      .def_ro("embed_model", &SearchResponse::embed_model)
      .def_ro("reranker", &SearchResponse::reranker)
      .def_ro("seconds", &SearchResponse::seconds)
      .def_ro("timings", &SearchResponse::timings);

  nb::class_<GenerateOptions>(m, "GenerateOptions")
      .def(nb::init<>())
      .def_rw("temperature", &GenerateOptions::temperature)
      .def_rw("top_p", &GenerateOptions::top_p)
      .def_rw("max_tokens", &GenerateOptions::max_tokens)
      .def_rw("seed", &GenerateOptions::seed)
      .def_rw("stop", &GenerateOptions::stop)
      .def_rw("json_schema", &GenerateOptions::json_schema);
  nb::class_<AskOptions>(m, "AskOptions")
      .def(nb::init<>())
      .def_rw("kb", &AskOptions::kb)
      .def_rw("mode", &AskOptions::mode)
      .def_rw("k", &AskOptions::k)
      .def_rw("min_score", &AskOptions::min_score)
      .def_rw("context_budget", &AskOptions::context_budget)
      .def_rw("strategy", &AskOptions::strategy)
      .def_rw("neighbors", &AskOptions::neighbors)
      .def_rw("no_retrieval", &AskOptions::no_retrieval)
      .def_rw("filters", &AskOptions::filters)
      .def_rw("rerank", &AskOptions::rerank)
      .def_rw("check_sources", &AskOptions::check_sources)
      .def_rw("generate", &AskOptions::generate);

  nb::class_<ToolCall>(m, "ToolCall")
      .def_ro("id", &ToolCall::id)
      .def_ro("name", &ToolCall::name)
      .def_ro("arguments", &ToolCall::arguments);
  nb::class_<ChatResult>(m, "ChatResult", "One model call: its text, tool calls, finish reason, tokens and time.")
      .def_ro("text", &ChatResult::text)
      .def_ro("tool_calls", &ChatResult::tool_calls)
      .def_ro("finish_reason", &ChatResult::finish_reason)
      .def_ro("prompt_tokens", &ChatResult::prompt_tokens)
      .def_ro("completion_tokens", &ChatResult::completion_tokens)
      .def_ro("seconds", &ChatResult::seconds)
      .def_ro("first_token_seconds", &ChatResult::first_token_seconds);
  nb::class_<Source>(m, "Source", "A source an answer was given: its number [n], the hit, whether the answer cites it.")
      .def_ro("n", &Source::n)
      .def_ro("hit", &Source::hit)
      .def_ro("cited", &Source::cited)
      .def_ro("truncated", &Source::truncated)
      .def("__repr__", [](const Source& s) {
        return "Source(n=" + std::to_string(s.n) + ", label='" + SourceLabel(s.hit) + "', cited=" +
               (s.cited ? "True" : "False") + ")";
      });
  nb::class_<Answer>(m, "Answer", "An answer with its numbered sources; found is False for a refusal (refusal_reason says why). str() is the text.")
      .def_ro("question", &Answer::question)
      .def_ro("standalone_question", &Answer::standalone_question)
      .def_ro("language", &Answer::language)
      .def_ro("text", &Answer::text)
      .def_ro("found", &Answer::found)
      .def_prop_ro("refusal_reason", [](const Answer& a) { return RefusalReason(a); },
                   "'retrieval', 'check' or 'model' when the answer is a refusal, else ''.")
      .def_ro("best_score", &Answer::best_score)
      .def_ro("min_score", &Answer::min_score)
      .def_ro("sources", &Answer::sources)
      .def_ro("unknown_citations", &Answer::unknown_citations)
      .def_ro("citations_corrected", &Answer::citations_corrected)
      .def_ro("model_text", &Answer::model_text)
      .def_ro("context_tokens", &Answer::context_tokens)
      .def_ro("generation", &Answer::generation)
      .def_ro("retrieval_seconds", &Answer::retrieval_seconds)
      .def_ro("generation_seconds", &Answer::generation_seconds)
      .def("__str__", [](const Answer& a) { return a.text; })
      .def("__repr__", [](const Answer& a) {
        std::string t = a.text.size() > 80 ? a.text.substr(0, 80) + "..." : a.text;
        return "Answer(found=" + std::string(a.found ? "True" : "False") + ", sources=" +
               std::to_string(a.sources.size()) + ", text=" + nb::cast<std::string>(nb::repr(nb::str(t.c_str(), t.size()))) +
               ")";
      });

  nb::class_<SummaryPart>(m, "SummaryPart", "A numbered part of a summarised document; the summary cites it as [n].")
      .def_ro("n", &SummaryPart::n)
      .def_ro("label", &SummaryPart::label)
      .def_ro("text", &SummaryPart::text)
      .def_ro("tokens", &SummaryPart::tokens)
      .def_ro("page_first", &SummaryPart::page_first)
      .def_ro("page_last", &SummaryPart::page_last)
      .def_ro("heading_path", &SummaryPart::heading_path);
  nb::class_<Summary>(m, "Summary", "A summary with [n] citations of the document's parts. str() is the text.")
      .def_ro("text", &Summary::text)
      .def_ro("language", &Summary::language)
      .def_prop_ro("strategy", [](const Summary& s) { return std::string(SummaryStrategyName(s.strategy)); })
      .def_ro("parts", &Summary::parts)
      .def_ro("cited", &Summary::cited)
      .def_ro("citations_corrected", &Summary::citations_corrected)
      .def_ro("reduce_levels", &Summary::reduce_levels)
      .def_ro("model_calls", &Summary::model_calls)
      .def_ro("prompt_tokens", &Summary::prompt_tokens)
      .def_ro("completion_tokens", &Summary::completion_tokens)
      .def_ro("seconds", &Summary::seconds)
      .def("__str__", [](const Summary& s) { return s.text; });

  nb::class_<CopyReport>(m, "CopyReport", "What a copy to another store moved.")
      .def_ro("source", &CopyReport::from)
      .def_ro("to", &CopyReport::to)
      .def_ro("documents", &CopyReport::documents)
      .def_ro("chunks", &CopyReport::chunks)
      .def_ro("interactions", &CopyReport::interactions)
      .def_ro("seconds", &CopyReport::seconds);
  nb::class_<ReembedReport>(m, "ReembedReport", "A re-embedding: the embedders before and after, chunks embedded and resumed.")
      .def_ro("source", &ReembedReport::from)
      .def_ro("to", &ReembedReport::to)
      .def_ro("chunks", &ReembedReport::chunks)
      .def_ro("embedded", &ReembedReport::embedded)
      .def_ro("resumed", &ReembedReport::resumed)
      .def_ro("seconds", &ReembedReport::seconds);
  nb::class_<KbTable>(m, "KbTable", "A tabular document's rows (CSV, JSON records), as ingested.")
      .def_ro("doc_id", &KbTable::doc_id)
      .def_ro("source", &KbTable::source)
      .def_ro("title", &KbTable::title)
      .def_ro("columns", &KbTable::columns)
      .def_ro("rows", &KbTable::rows);

  nb::class_<Turn>(m, "Turn", "One question and answer of a chat session.")
      .def_ro("time", &Turn::time)
      .def_ro("question", &Turn::question)
      .def_ro("standalone_question", &Turn::standalone_question)
      .def_ro("answer", &Turn::answer)
      .def_ro("cited_sources", &Turn::cited_sources);
  nb::class_<Session>(m, "Session", "A stored chat session: its memory kind and turns.")
      .def_ro("id", &Session::id)
      .def_ro("kb", &Session::kb)
      .def_ro("created_at", &Session::created_at)
      .def_ro("updated_at", &Session::updated_at)
      .def_ro("memory", &Session::memory)
      .def_ro("window", &Session::window)
      .def_ro("summary", &Session::summary)
      .def_ro("turns", &Session::turns);

  nb::class_<AnswerStream>(m, "AnswerStream", "An answer being generated: iterate for its pieces; .answer waits for the whole Answer. Dropping it stops generation.")
      .def("__iter__", [](nb::handle self) { return self; }, nb::rv_policy::reference)
      .def("__next__",
           [](AnswerStream& s) {
             std::optional<std::string> piece;
             {
               nb::gil_scoped_release release;
               piece = s.Next();
             }
             if (piece) return *piece;
             Result<Answer> r = [&] {
               nb::gil_scoped_release release;
               return s.Wait();
             }();
             Check(r.status());  // a failed generation ends the iteration with its error
             throw nb::stop_iteration();
           })
      .def_ro("session_id", &AnswerStream::session_id)
      .def_prop_ro("answer", [](AnswerStream& s) {
        Result<Answer> r = [&] {
          nb::gil_scoped_release release;
          return s.Wait();
        }();
        return Take(std::move(r));
      }, "The whole Answer (waits for the end of generation).");

  nb::class_<PyEngine>(m, "Engine")
      .def("__init__",
           [](PyEngine* self, const std::string& data_dir, const std::string& store, const BackendOptions& embedder,
              const BackendOptions& chat, std::optional<BackendOptions> reranker, const std::string& prompts_dir) {
             EngineOptions o;
             o.data_dir = data_dir;
             o.store_url = store;
             o.embedder.backend = embedder;
             o.reranker = std::move(reranker);
             nb::gil_scoped_release release;
             new (self) PyEngine(o, chat, prompts_dir);
           },
           "data_dir"_a, "store"_a, "embedder"_a, "chat"_a, "reranker"_a.none(), "prompts_dir"_a)
      .def_prop_ro("data_dir", [](PyEngine& e) { return e.engine().data_dir(); })
      .def_prop_ro("store", [](PyEngine& e) { return e.engine().store(); })
      .def_prop_ro("chat_backend", &PyEngine::chat_backend)
      .def_prop_ro("chat_model", &PyEngine::chat_model)
      .def("list_kbs", [](PyEngine& e) { return Take(e.engine().ListKnowledgeBases()); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("get_kb", [](PyEngine& e, const std::string& kb) { return Take(e.engine().GetKnowledgeBase(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("check_kb", [](PyEngine& e, const std::string& kb) { Check(e.engine().CheckKnowledgeBase(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("verify_kb", [](PyEngine& e, const std::string& kb) { Check(e.engine().VerifyKnowledgeBase(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("create_kb", [](PyEngine& e, const std::string& kb) { return Take(e.engine().CreateKnowledgeBase(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("delete_kb", [](PyEngine& e, const std::string& kb) { Check(e.engine().DeleteKnowledgeBase(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("settings", [](PyEngine& e, const std::string& kb) { return Take(e.engine().GetKbSettings(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("set_setting",
           [](PyEngine& e, const std::string& kb, const std::string& k, const std::string& v) {
             Check(e.engine().SetKbSetting(kb, k, v));
           },
           nb::call_guard<nb::gil_scoped_release>())
      .def("list_documents", [](PyEngine& e, const std::string& kb) { return Take(e.engine().ListDocuments(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("get_document",
           [](PyEngine& e, const std::string& kb, const std::string& id) { return Take(e.engine().GetDocument(kb, id)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("find_documents",
           [](PyEngine& e, const std::string& kb, const std::vector<FilterCondition>& f) {
             return Take(e.engine().FindDocuments(kb, f));
           },
           nb::call_guard<nb::gil_scoped_release>())
      .def("delete_document",
           [](PyEngine& e, const std::string& kb, const std::string& id) { Check(e.engine().DeleteDocument(kb, id)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("ingest_files",
           [](PyEngine& e, const std::string& kb, std::vector<std::string> paths,
              std::map<std::string, std::string> metadata, bool sync, int chunk_size, int chunk_overlap,
              ChunkUnit unit, bool ocr, nb::object progress) {
             IngestOptions o;
             o.kb = kb;
             o.paths = std::move(paths);
             o.metadata = std::move(metadata);
             o.sync = sync;
             o.split = {chunk_size, chunk_overlap, unit};
             o.ocr.enabled = ocr;
             PyCallback cb(std::move(progress));
             ProgressFn fn;
             if (!cb.empty()) fn = [&cb](const IngestProgress& p) { cb(p); };
             Result<IngestReport> r = [&] {
               nb::gil_scoped_release release;
               return e.engine().IngestFiles(o, fn);
             }();
             cb.RethrowIfFailed();
             return Take(std::move(r));
           },
           "kb"_a, "paths"_a, "metadata"_a, "sync"_a, "chunk_size"_a, "chunk_overlap"_a, "unit"_a, "ocr"_a,
           "progress"_a.none())
      .def("ingest_documents",
           [](PyEngine& e, const std::string& kb, const nb::list& docs, int chunk_size, int chunk_overlap,
              ChunkUnit unit, nb::object progress) {
             std::vector<SourceDocument> d = ToDocuments(docs);
             PyCallback cb(std::move(progress));
             ProgressFn fn;
             if (!cb.empty()) fn = [&cb](const IngestProgress& p) { cb(p); };
             Result<IngestReport> r = [&] {
               nb::gil_scoped_release release;
               return e.engine().IngestDocuments(kb, d, {chunk_size, chunk_overlap, unit}, fn);
             }();
             cb.RethrowIfFailed();
             return Take(std::move(r));
           },
           "kb"_a, "docs"_a, "chunk_size"_a, "chunk_overlap"_a, "unit"_a, "progress"_a.none())
      .def("search", [](PyEngine& e, const SearchOptions& o) { return Take(e.engine().Search(o)); }, "options"_a,
           nb::call_guard<nb::gil_scoped_release>())
      .def("embed",
           [](PyEngine& e, std::vector<std::string> texts, EmbedKind kind) {
             std::vector<std::vector<float>> out;
             nb::gil_scoped_release release;
             Embedder* em = Take(e.engine().embedder());
             const int dim = em->dim();
             std::vector<float> flat(texts.size() * dim);
             if (!texts.empty()) Check(em->Embed(texts, kind, flat.data()));
             out.reserve(texts.size());
             for (size_t i = 0; i < texts.size(); ++i) out.emplace_back(flat.begin() + i * dim, flat.begin() + (i + 1) * dim);
             return out;
           },
           "texts"_a, "kind"_a)
      .def("embed_model", [](PyEngine& e) { return Take(e.engine().embedder())->model_id(); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("ask",
           [](PyEngine& e, const std::string& question, const AskOptions& o) {
             return Take(e.WithChat([&](Assistant& a) { return a.Ask(question, o); }));
           },
           "question"_a, "options"_a, nb::call_guard<nb::gil_scoped_release>())
      .def("ask_stream",
           [](PyEngine& e, const std::string& question, const AskOptions& o) {
             return std::make_unique<AnswerStream>([&e, question, o](const TokenFn& on_token) {
               return e.WithChat([&](Assistant& a) { return a.Ask(question, o, on_token); });
             });
           },
           "question"_a, "options"_a, nb::keep_alive<0, 1>())
      .def("complete",
           [](PyEngine& e, const std::vector<std::pair<std::string, std::string>>& messages, const GenerateOptions& g) {
             std::vector<ChatMessage> m;
             for (const auto& [role, content] : messages) m.push_back({role, content});
             return Take(e.WithModel([&](ChatModel& model) { return model.Chat(m, g); }));
           },
           "messages"_a, "options"_a, nb::call_guard<nb::gil_scoped_release>(),
           "The chat model's reply to (role, content) messages, without retrieval.")
      .def("chat_turn",
           [](PyEngine& e, const std::string& session_id, MemoryKind memory, int window, const std::string& question,
              const AskOptions& o) {
             nb::gil_scoped_release release;
             Session s = Take(LoadOrCreateSession(e.engine(), o.kb, session_id, memory, window));
             Answer a = Take(e.WithChat([&](Assistant& as) { return as.ChatTurn(&s, question, o); }));
             Check(SessionStore(e.engine(), o.kb).Save(s));
             return std::make_pair(std::move(a), std::move(s));
           },
           "session_id"_a, "memory"_a, "window"_a, "question"_a, "options"_a)
      .def("chat_turn_stream",
           [](PyEngine& e, const std::string& session_id, MemoryKind memory, int window, const std::string& question,
              const AskOptions& o) {
             nb::gil_scoped_release release;
             // The session is created (and so has its id) before the stream starts.
             Session s = Take(LoadOrCreateSession(e.engine(), o.kb, session_id, memory, window));
             Check(SessionStore(e.engine(), o.kb).Save(s));
             auto stream = std::make_unique<AnswerStream>([&e, s, question, o](const TokenFn& on_token) mutable {
               Result<Answer> a = e.WithChat([&](Assistant& as) { return as.ChatTurn(&s, question, o, on_token); });
               if (a.ok()) {
                 if (Status st = SessionStore(e.engine(), o.kb).Save(s); !st.ok()) return Result<Answer>(st);
               }
               return a;
             });
             stream->session_id = s.id;
             return stream;
           },
           "session_id"_a, "memory"_a, "window"_a, "question"_a, "options"_a, nb::keep_alive<0, 1>())
      .def("summarize",
           [](PyEngine& e, const std::string& kb, const std::string& doc_id, const std::string& path,
              const std::string& strategy, int words, const std::string& language, const std::string& focus,
              int max_tokens, nb::object progress) {
             SummarizeOptions o;
             o.strategy = Take(ParseSummaryStrategy(strategy));
             o.words = words;
             o.language = language;
             o.focus = focus;
             o.generate.max_tokens = max_tokens;
             Check(CheckSummarizeOptions(o));
             PyCallback cb(std::move(progress));
             SummaryProgressFn fn;
             if (!cb.empty()) fn = [&cb](const SummaryProgress& p) { cb(p.stage, p.done, p.total); };
             Result<Summary> r = [&]() -> Result<Summary> {
               nb::gil_scoped_release release;
               Result<SummaryInput> in = path.empty() ? KbSummaryInput(e.engine(), kb, doc_id) : LoadSummaryInput(path);
               if (!in.ok()) return in.status();
               return e.WithModel([&](ChatModel& model) { return Summarizer(&model, &e.prompts()).Summarize(*in, o, fn); });
             }();
             cb.RethrowIfFailed();
             return Take(std::move(r));
           },
           "kb"_a, "doc_id"_a, "path"_a, "strategy"_a, "words"_a, "language"_a, "focus"_a, "max_tokens"_a,
           "progress"_a.none())
      .def("tables", [](PyEngine& e, const std::string& kb) { return Take(e.engine().ListTables(kb)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("backup_kb",
           [](PyEngine& e, const std::string& kb, const std::string& dest) { Check(e.engine().BackupKnowledgeBase(kb, dest)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("restore_kb",
           [](PyEngine& e, const std::string& backup, const std::string& kb) {
             Check(e.engine().RestoreKnowledgeBase(backup, kb));
           },
           nb::call_guard<nb::gil_scoped_release>())
      .def("copy_kb",
           [](PyEngine& e, const std::string& kb, const std::string& to, const std::string& to_name) {
             return Take(e.engine().CopyKnowledgeBase(kb, to, to_name));
           },
           nb::call_guard<nb::gil_scoped_release>())
      .def("reembed_kb",
           [](PyEngine& e, const std::string& kb, const BackendOptions& to, nb::object progress) {
             EmbedderOptions eo;
             eo.backend = to;
             PyCallback cb(std::move(progress));
             ProgressFn fn;
             if (!cb.empty()) fn = [&cb](const IngestProgress& p) { cb(p); };
             Result<ReembedReport> r = [&] {
               nb::gil_scoped_release release;
               return e.engine().ReembedKnowledgeBase(kb, eo, fn);
             }();
             cb.RethrowIfFailed();
             return Take(std::move(r));
           },
           "kb"_a, "to"_a, "progress"_a.none())
      .def("load_session",
           [](PyEngine& e, const std::string& kb, const std::string& id) { return Take(SessionStore(e.engine(), kb).Load(id)); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("list_sessions", [](PyEngine& e, const std::string& kb) { return Take(SessionStore(e.engine(), kb).List()); },
           nb::call_guard<nb::gil_scoped_release>())
      .def("delete_session",
           [](PyEngine& e, const std::string& kb, const std::string& id) { Check(SessionStore(e.engine(), kb).Delete(id)); },
           nb::call_guard<nb::gil_scoped_release>());
}
