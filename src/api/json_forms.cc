#include "api/json_forms.h"

#include <algorithm>
#include <cmath>

#include "core/text.h"

namespace ragd::api {

using nlohmann::json;

// "ocr": whether the text was read by OCR; "ocr_confidence": Tesseract's
// mean word confidence (0..1), null for a document's own text.
static void AddOcr(json* j, float confidence) {
  (*j)["ocr"] = confidence >= 0;
  (*j)["ocr_confidence"] = confidence >= 0 ? json(std::round(static_cast<double>(confidence) * 1000) / 1000) : json(nullptr);
}

json HitJson(const SearchHit& h) {
  json j{{"rank", h.rank},
              {"score", h.score},
              {"doc_id", h.doc_id},
              {"source", h.source},
              {"label", SourceLabel(h)},
              {"title", h.title},
              {"chunk_id", h.chunk_id},
              {"chunk_index", h.chunk_index},
              {"page", h.page},
              {"row", h.row},
              {"heading_path", h.heading_path},
              {"char_start", h.char_start},
              {"char_end", h.char_end},
              {"lexical_rank", h.lexical_rank},
              {"dense_rank", h.dense_rank},
              {"lexical_score", h.lexical_score},
              {"dense_score", h.dense_score},
              {"context", h.context},
              {"text", h.text}};
  j["rerank_score"] = h.rerank_score ? json(*h.rerank_score) : json(nullptr);
  AddOcr(&j, h.ocr_confidence);
  return j;
}

json SourceJson(const Source& s) {
  json j = HitJson(s.hit);
  j["n"] = s.n;
  j["cited"] = s.cited;
  j["truncated"] = s.truncated;
  return j;
}

json KbJson(const KbInfo& k) {
  json j{{"name", k.name},         {"path", k.path},
         {"documents", k.documents}, {"chunks", k.chunks},
         {"embed_model", k.embed_model}, {"schema_version", k.schema_version},
         {"bytes_on_disk", k.bytes_on_disk}, {"created_at", k.created_at},
         {"updated_at", k.updated_at}};
  // One knowledge base's details (not listings).
  if (!k.scripts.empty()) j["scripts"] = k.scripts;
  if (!k.language_warning.empty()) j["language_warning"] = k.language_warning;
  return j;
}

json DocumentJson(const DocumentInfo& d) {
  return json{{"doc_id", d.doc_id},         {"source", d.source},           {"mime", d.mime},
              {"title", d.title},           {"size_bytes", d.size_bytes},   {"chunk_count", d.chunk_count},
              {"ingested_at", d.ingested_at}, {"metadata", d.metadata}};
}

json DocumentDetailJson(const DocumentDetail& d) {
  json chunks = json::array();
  for (const auto& c : d.chunks) {
    json chunk{{"chunk_id", c.chunk_id}, {"chunk_index", c.chunk_index}, {"page", c.page},
               {"heading_path", c.heading_path}, {"row", c.row}, {"char_start", c.char_start},
               {"char_end", c.char_end}, {"text", c.text}};
    AddOcr(&chunk, c.ocr_confidence);
    chunks.push_back(std::move(chunk));
  }
  json out = DocumentJson(d.info);
  out["chunks"] = chunks;
  return out;
}

json IngestReportJson(const std::string& kb, const IngestReport& r) {
  json failed = json::array();
  for (const auto& f : r.failures) failed.push_back({{"path", f.path}, {"error", f.status.ToString()}});
  return json{{"kb", kb},
              {"files", r.files_seen},
              {"added", r.files_added},
              {"updated", r.files_updated},
              {"unchanged", r.files_unchanged},
              {"removed", r.files_removed},
              {"chunks", r.chunks_written},
              {"seconds", r.seconds},
              {"chunks_per_second", r.seconds > 0 ? r.chunks_written / r.seconds : 0.0},
              {"failed", failed}};
}

json AnswerJson(const Answer& a) {
  json sources = json::array();
  for (const auto& s : a.sources) sources.push_back(SourceJson(s));
  return json{{"answer", std::string(text::Trim(a.text))},
              {"found", a.found},
              {"refusal", RefusalReason(a)},
              {"sources", sources}};
}

json UsageJson(const ChatResult& r) {
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens},
          {"total_tokens", r.prompt_tokens + r.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_prompt_tokens}}}};
}

json AgentStepJson(const AgentStep& s) {
  json args = json::parse(s.arguments, nullptr, false);
  return json{{"index", s.index},       {"tool", s.tool},       {"arguments", args.is_discarded() ? json(s.arguments) : args},
              {"thought", s.thought},   {"result", s.result},   {"error", s.error},
              {"valid", s.valid},       {"truncated", s.truncated}, {"sources", s.sources},
              {"seconds", s.seconds},     {"by", s.by_model ? "model" : "ragd"}};
}

json AgentResultJson(const AgentResult& r) {
  json steps = json::array();
  for (const auto& s : r.steps) steps.push_back(AgentStepJson(s));
  json sources = json::array();
  for (const auto& s : r.sources) sources.push_back(SourceJson(s));
  json j{{"task", r.task},
         {"language", r.language},
         {"answer", r.answer},
         {"found", r.found},
         {"steps", steps},
         {"sources", sources},
         {"citations_corrected", r.citations_corrected},
         {"stop_reason", r.stop_reason},
         {"stop_message", r.stop_message},
         {"usage", {{"model_calls", r.model_calls}, {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}}},
         {"seconds", r.seconds}};
  if (!r.plan.empty()) j["plan"] = json::parse(r.plan, nullptr, false);
  return j;
}

json SummaryJson(const SummaryInput& in, const Summary& s) {
  json parts = json::array();
  for (const SummaryPart& p : s.parts)
    parts.push_back({{"n", p.n},
                     {"label", p.label},
                     {"page_first", p.page_first},
                     {"page_last", p.page_last},
                     {"heading_path", p.heading_path},
                     {"tokens", p.tokens},
                     {"text", p.text},
                     {"cited", std::find(s.cited.begin(), s.cited.end(), p.n) != s.cited.end()}});
  return json{{"source", in.source},
              {"title", in.title},
              {"text", s.text},
              {"language", s.language},
              {"strategy", SummaryStrategyName(s.strategy)},
              {"parts", parts},
              {"cited", s.cited},
              {"citations_corrected", s.citations_corrected},
              {"reduce_levels", s.reduce_levels},
              {"usage", {{"model_calls", s.model_calls}, {"prompt_tokens", s.prompt_tokens}, {"completion_tokens", s.completion_tokens}}},
              {"seconds", s.seconds}};
}

std::string AnswerText(const Answer& a) {
  std::string out = a.text;
  bool header = false;
  for (const auto& s : a.sources) {
    if (!s.cited) continue;
    out += header ? "" : "\n\nSources:";
    header = true;
    out += "\n[" + std::to_string(s.n) + "] " + SourceLabel(s.hit) + " (id " + s.hit.doc_id + ")";
  }
  return out;
}

json RecommendResultJson(const RecommendResult& r) {
  json items = json::array();
  for (const auto& it : r.items) {
    json x = {{"item", it.item}, {"title", it.title}, {"score", it.score}, {"sources", it.sources}};
    if (!it.because.empty()) x["because"] = {{"item", it.because}, {"title", it.because_title}};
    if (!it.reason.empty()) x["reason"] = it.reason;
    items.push_back(std::move(x));
  }
  json recent = json::array();
  for (const auto& h : r.recent) recent.push_back({{"item", h.item}, {"title", h.title}});
  return {{"items", items},
          {"history", r.history},
          {"cold_start", r.cold_start},
          {"recent", recent},
          {"rerank", {{"calls", r.rerank_calls}, {"invalid", r.rerank_invalid}}},
          {"explain", {{"calls", r.explain_calls}, {"missing", r.explain_missing}}},
          {"usage", {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens}}},
          {"model_seconds", r.model_seconds},
          {"seconds", r.seconds}};
}

json InteractionImportJson(const std::string& kb, const InteractionImportReport& r) {
  return {{"kb", kb},           {"read", r.read},   {"added", r.added}, {"unknown_items", r.unknown_items},
          {"unknown_examples", r.unknown_examples}, {"users", r.users}, {"total", r.total}};
}

}  // namespace ragd::api
