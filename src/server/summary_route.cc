// POST /api/kbs/{kb}/documents/{id}/summary: `ragd summarize --kb --doc`
// over HTTP. The summary is written by the inference worker; streamed, the
// events are progress over the parts, the text as it comes, and the summary
// with its checked citations (docs/API.md).
#include <future>
#include <nlohmann/json.hpp>

#include "api/json_forms.h"
#include "server/http.h"
#include "server/server_impl.h"

namespace ragd::server {

namespace {
using json = nlohmann::json;
}  // namespace

void Server::Impl::RegisterSummaryRoute() {
  Route("POST", R"(/api/kbs/([^/]+)/documents/(.+)/summary)", "/api/kbs/{kb}/documents/{id}/summary", &Impl::Summarize);
}

void Server::Impl::Summarize(const Req& req, Res& res) {
  const std::string kb = req.matches[1], doc_id = req.matches[2];
  json body = json::object();
  if (!req.body.empty()) {
    auto parsed = ParseObject(req, res);
    if (!parsed) return;
    body = *parsed;
  }
  SummarizeOptions o;
  bool stream = false, keep = true;
  try {
    auto strategy = ParseSummaryStrategy(body.value("strategy", std::string("auto")));
    if (!strategy.ok()) return SendError(res, 422, strategy.status().message());
    o.strategy = *strategy;
    o.words = body.value("words", 150);
    o.language = body.value("lang", std::string("auto"));
    o.focus = body.value("focus", std::string());
    stream = body.value("stream", false);
    keep = body.value("keep", true);
  } catch (const json::exception&) {
    return SendError(res, 422, "strategy, lang and focus are strings, words a number, stream and keep booleans");
  }
  if (Status st = CheckSummarizeOptions(o); !st.ok()) return SendError(res, 422, st.message());
  o.generate = options.ask.generate;
  o.generate.max_tokens = 0;  // from words
  auto input = KbSummaryInput(*engine, kb, doc_id);
  if (!input.ok()) return SendStatus(res, input.status());

  auto channel = std::make_shared<StreamChannel>();
  auto result = std::make_shared<std::promise<Result<Summary>>>();
  auto future = std::make_shared<std::future<Result<Summary>>>(result->get_future());
  auto job = [this, channel, result, in = *input, o, stream, keep, kb, trace = TraceFor(kb)] {
    auto tags = std::make_shared<TraceTags>();
    tags->question = "summarize: " + in.source;
    std::unique_ptr<ChatModel> traced = trace ? TraceChatModel(model, trace, tags) : nullptr;
    Summarizer summarizer(traced ? traced.get() : model, prompts);
    SummaryProgressFn progress = [&](const SummaryProgress& p) {
      if (stream) channel->Push(json{{"progress", {{"stage", p.stage}, {"done", p.done}, {"total", p.total}}}});
    };
    TokenFn on_token = [&](std::string_view piece) {
      if (channel->cancelled) return false;
      if (stream) channel->Push(json{{"delta", std::string(piece)}});
      return true;
    };
    Result<Summary> s = summarizer.Summarize(in, o, progress, on_token);
    if (s.ok()) {
      metrics.Tokens(s->prompt_tokens, s->completion_tokens);
      // Kept with the document; a failure to keep is not a failed summary.
      if (keep) (void)engine->KeepSummary(kb, in.source, api::SummaryJson(in, *s).dump());
    }
    result->set_value(std::move(s));
    channel->Close();
  };
  if (!queue.Submit(job)) return SendError(res, 503, "the server is busy: too many model requests are waiting; retry later");
  if (!stream) {
    Result<Summary> s = future->get();
    if (!s.ok()) return SendStatus(res, s.status());
    return SendJson(res, api::SummaryJson(*input, *s));
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [channel, future, in = *input](size_t, httplib::DataSink& sink) {
        if (!channel->Drain([&](const json& p) { return SendEvent(sink, p); })) return false;
        Result<Summary> s = future->get();
        if (!s.ok()) {
          const int status = HttpStatusOf(s.status());
          SendEvent(sink, {{"error", {{"message", s.status().ToString()}, {"type", ErrorType(status)}, {"code", status}}}});
        } else {
          SendEvent(sink, {{"summary", api::SummaryJson(in, *s)}});
        }
        EndEvents(sink);
        return true;
      },
      [channel](bool success) {
        if (!success) channel->cancelled = true;
      });
}

}  // namespace ragd::server
