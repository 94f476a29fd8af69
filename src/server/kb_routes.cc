// The knowledge-base REST API (docs/API.md): knowledge bases, their
// documents (uploads are ingested at once), and search. Requests and
// responses are the request layer's (api/), so the CLI's --json prints the
// same fields.
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "api/fields.h"
#include "api/json_forms.h"
#include "api/recommend_request.h"
#include "api/search_request.h"
#include "core/files.h"
#include "core/text.h"
#include "server/http.h"
#include "server/server_impl.h"

namespace ragd::server {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A knowledge base as the API shows it: without its path on the server.
json KbPublicJson(const KbInfo& k) {
  json j = api::KbJson(k);
  j.erase("path");
  return j;
}

// An uploaded file's name reduced to a safe base name: no folders, no
// leading dots, no control characters. Empty when nothing is left.
std::string SafeFileName(const std::string& name) {
  std::string base = name;
  size_t slash = base.find_last_of("/\\");
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string out;
  for (unsigned char c : base)
    if (c >= 0x20 && c != 0x7F && c != ':' && c != '*' && c != '?' && c != '"' && c != '<' && c != '>' && c != '|')
      out += static_cast<char>(c);
  while (!out.empty() && (out.front() == '.' || out.front() == ' ' || out.front() == '-')) out.erase(0, 1);
  if (text::FindInvalidUtf8(out) != std::string::npos) return "";
  return std::string(text::TruncateUtf8(out, 200));
}

// Metadata for every file of an upload: a form field "meta" holding a JSON
// object of strings, e.g. {"team": "cards", "year": "2024"}.
Status ReadUploadMetadata(const httplib::Request& req, std::map<std::string, std::string>* out) {
  auto it = req.files.find("meta");
  if (it == req.files.end() || !it->second.filename.empty()) return Status::OK();
  json meta = json::parse(it->second.content, nullptr, false);
  if (!meta.is_object()) return Status::InvalidArgument("the 'meta' field must be a JSON object of strings");
  for (const auto& [key, value] : meta.items()) {
    if (!value.is_string()) return Status::InvalidArgument("metadata '" + key + "' must be a string");
    if (Status st = ValidateMetadata(key, value.get<std::string>()); !st.ok()) return st;
    (*out)[key] = value.get<std::string>();
  }
  return Status::OK();
}

}  // namespace

void Server::Impl::RegisterKbRoutes() {
  Route("GET", "/api/kbs", "/api/kbs", &Impl::ListKbs);
  Route("POST", "/api/kbs", "/api/kbs", &Impl::CreateKb);
  Route("GET", R"(/api/kbs/([^/]+))", "/api/kbs/{kb}", &Impl::GetKb);
  Route("DELETE", R"(/api/kbs/([^/]+))", "/api/kbs/{kb}", &Impl::DeleteKb);
  Route("GET", R"(/api/kbs/([^/]+)/documents)", "/api/kbs/{kb}/documents", &Impl::ListDocuments);
  Route("POST", R"(/api/kbs/([^/]+)/documents)", "/api/kbs/{kb}/documents", &Impl::UploadDocuments);
  Route("GET", R"(/api/kbs/([^/]+)/documents/(.+))", "/api/kbs/{kb}/documents/{id}", &Impl::GetDocument);
  Route("DELETE", R"(/api/kbs/([^/]+)/documents/(.+))", "/api/kbs/{kb}/documents/{id}", &Impl::DeleteDocument);
  Route("POST", R"(/api/kbs/([^/]+)/search)", "/api/kbs/{kb}/search", &Impl::Search);
  Route("POST", R"(/api/kbs/([^/]+)/recommend)", "/api/kbs/{kb}/recommend", &Impl::Recommend);
}

void Server::Impl::ListKbs(const Req&, Res& res) {
  auto kbs = engine->ListKnowledgeBases();
  if (!kbs.ok()) return SendStatus(res, kbs.status());
  json arr = json::array();
  for (const auto& k : kbs.value()) arr.push_back(KbPublicJson(k));
  SendJson(res, {{"knowledge_bases", arr}});
}

void Server::Impl::CreateKb(const Req& req, Res& res) {
  auto body = ParseObject(req, res);
  if (!body) return;
  std::string name;
  if (Status st = api::ReadField(*body, "name", &name, "a string"); !st.ok()) return SendError(res, 422, st.message());
  if (name.empty()) return SendError(res, 422, "'name' is required");
  auto kb = engine->CreateKnowledgeBase(name);
  if (!kb.ok()) return SendStatus(res, kb.status());
  SendJson(res, KbPublicJson(kb.value()), 201);
}

void Server::Impl::GetKb(const Req& req, Res& res) {
  auto kb = engine->GetKnowledgeBase(req.matches[1]);
  if (!kb.ok()) return SendStatus(res, kb.status());
  SendJson(res, KbPublicJson(kb.value()));
}

void Server::Impl::DeleteKb(const Req& req, Res& res) {
  Status st = engine->DeleteKnowledgeBase(req.matches[1]);
  if (!st.ok()) return SendStatus(res, st);
  SendJson(res, {{"deleted", std::string(req.matches[1])}});
}

void Server::Impl::ListDocuments(const Req& req, Res& res) {
  auto docs = engine->ListDocuments(req.matches[1]);
  if (!docs.ok()) return SendStatus(res, docs.status());
  json arr = json::array();
  for (const auto& d : docs.value()) arr.push_back(api::DocumentJson(d));
  SendJson(res, {{"kb", std::string(req.matches[1])}, {"documents", arr}});
}

// Files are kept under <data dir>/<kb>/uploads/ (the knowledge base's own
// folder with the SQLite store): re-uploading a file of the same name
// replaces its document (same path, new hash). Servers sharing a
// PostgreSQL store need the same --data-dir path for that (docs/SCALE.md).
void Server::Impl::UploadDocuments(const Req& req, Res& res) {
  const std::string kb = req.matches[1];
  if (!req.is_multipart_form_data()) return SendError(res, 400, "upload files as multipart/form-data (field name 'files')");
  if (Status st = engine->CheckKnowledgeBase(kb); !st.ok()) return SendStatus(res, st);
  IngestOptions o;
  o.kb = kb;
  if (Status st = ReadUploadMetadata(req, &o.metadata); !st.ok()) return SendError(res, 422, st.message());
  const fs::path dir = fs::path(engine->data_dir()) / kb / "uploads";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return SendError(res, 500, "cannot create " + dir.string() + ": " + ec.message());
  std::vector<FileFailure> rejected;
  for (const auto& [field, file] : req.files) {
    if (field == "meta" && file.filename.empty()) continue;
    std::string name = SafeFileName(file.filename);
    if (name.empty()) {
      rejected.push_back({file.filename, Status::InvalidArgument("not a usable file name")});
      continue;
    }
    fs::path p = dir / name;
    if (Status st = files::WriteFileAtomic(p.string(), file.content); !st.ok()) return SendError(res, 500, st.ToString());
    o.paths.push_back(p.string());
  }
  if (o.paths.empty()) return SendError(res, 422, "no file with a usable name in the upload");
  auto rep = engine->IngestFiles(o);
  if (!rep.ok()) return SendStatus(res, rep.status());
  metrics.Ingest(rep->files_added + rep->files_updated, rep->chunks_written, static_cast<int64_t>(rep->failures.size()));
  // The report names files as uploaded, not by their path on this disk.
  for (auto& f : rep->failures) f.path = fs::path(f.path).filename().string();
  rep->failures.insert(rep->failures.end(), rejected.begin(), rejected.end());
  const bool all_failed = rep->failures.size() == o.paths.size() + rejected.size();
  SendJson(res, api::IngestReportJson(kb, *rep), all_failed ? 422 : 201);
}

void Server::Impl::GetDocument(const Req& req, Res& res) {
  auto d = engine->GetDocument(req.matches[1], req.matches[2]);
  if (!d.ok()) return SendStatus(res, d.status());
  json out = api::DocumentDetailJson(*d);
  auto kept = engine->KeptSummary(req.matches[1], req.matches[2]);
  out["summary"] = kept.ok() && *kept ? json::parse(**kept, nullptr, false) : json(nullptr);
  SendJson(res, out);
}

void Server::Impl::DeleteDocument(const Req& req, Res& res) {
  Status st = engine->DeleteDocument(req.matches[1], req.matches[2]);
  if (!st.ok()) return SendStatus(res, st);
  SendJson(res, {{"deleted", std::string(req.matches[2])}});
}

void Server::Impl::Search(const Req& req, Res& res) {
  auto body = ParseObject(req, res);
  if (!body) return;
  auto o = api::SearchOptionsFromJson(*body, req.matches[1]);
  if (!o.ok()) return SendError(res, 422, o.status().message());
  auto r = engine->Search(*o);
  if (!r.ok()) return SendStatus(res, r.status());
  SendJson(res, api::SearchResultJson(*o, *r));
}

// The fused candidates come from the engine on this thread (concurrent,
// no model); a re-rank or reasons are the inference worker's, which alone
// calls the chat model.
void Server::Impl::Recommend(const Req& req, Res& res) {
  auto body = ParseObject(req, res);
  if (!body) return;
  auto o = api::RecommendOptionsFromJson(*body, req.matches[1]);
  if (!o.ok()) return SendError(res, 422, o.status().message());
  auto r = engine->Recommend(FusedStepOptions(*o));
  if (!r.ok()) return SendStatus(res, r.status());
  if (!o->rerank_llm && !o->explain) return SendJson(res, api::RecommendResultJson(*r));
  auto done = std::make_shared<std::promise<Status>>();
  auto future = done->get_future();
  RecommendResult* result = &*r;
  const RecommendOptions& options_ref = *o;
  auto job = [this, done, result, &options_ref, trace = TraceFor(req.matches[1]), who = o->user] {
    auto tags = std::make_shared<TraceTags>();
    tags->question = "recommend: " + who;
    std::unique_ptr<ChatModel> traced = trace ? TraceChatModel(model, trace, tags) : nullptr;
    Status st = ApplyModel(traced ? *traced : *model, *prompts, options_ref, *result);
    if (st.ok()) metrics.Tokens(result->prompt_tokens, result->completion_tokens);
    done->set_value(st);
  };
  if (!queue.Submit(job)) return SendError(res, 503, "the server is busy: too many model requests are waiting; retry later");
  Status st = future.get();  // the job holds references to r and o: wait for it whatever happens
  if (!st.ok()) return SendStatus(res, st);
  SendJson(res, api::RecommendResultJson(*r));
}

}  // namespace ragd::server
