// The JSON forms of ragd's public types, shared by the CLI's --json output
// and the HTTP API so that both speak the same field names.
#pragma once

#include <nlohmann/json.hpp>

#include "ragd/agent.h"
#include "ragd/engine.h"
#include "ragd/rag.h"
#include "ragd/recommend.h"
#include "ragd/summarize.h"

namespace ragd::api {

nlohmann::json HitJson(const SearchHit& h);
// A numbered source of an answer: its hit, plus n, cited and truncated.
nlohmann::json SourceJson(const Source& s);
// Includes the knowledge base's path on disk; the server drops it.
nlohmann::json KbJson(const KbInfo& k);
nlohmann::json DocumentJson(const DocumentInfo& d);
// A document with its chunks: DocumentJson plus "chunks".
nlohmann::json DocumentDetailJson(const DocumentDetail& d);
// What an ingest did, for `ragd ingest --json` and an upload: kb, files,
// added, updated, unchanged, removed, chunks, seconds, chunks_per_second
// and failed, a list of {path, error}. The server passes the uploaded
// file names as the paths (it shows no path on its disk).
nlohmann::json IngestReportJson(const std::string& kb, const IngestReport& r);
// What an answer says, the same for `ragd ask --json` and a kb:<name> chat
// completion: answer (citations checked by ragd), found, refusal (""
// when found, else retrieval, check or model) and sources (SourceJson,
// in prompt order).
nlohmann::json AnswerJson(const Answer& a);
// OpenAI's usage object: prompt, completion and total tokens, and the
// prompt tokens reused from the model's key/value cache
// (prompt_tokens_details.cached_tokens).
nlohmann::json UsageJson(const ChatResult& r);

// An agent step and a whole run: `ragd agent --json`, and the agent_steps
// of an agent:<kb> chat completion.
nlohmann::json AgentStepJson(const AgentStep& s);
nlohmann::json AgentResultJson(const AgentResult& r);
// A summary: text, language, strategy, parts (each n, label, pages,
// heading_path, tokens, text, cited), usage, seconds (docs/SUMMARIES.md).
nlohmann::json SummaryJson(const SummaryInput& in, const Summary& s);

// Recommendations (docs/RECOMMEND.md): items (each item, title, score,
// sources {name: rank}, because {item, title}: the closest liked item, reason when explained), history,
// cold_start, recent, rerank {calls, invalid}, explain {calls, missing},
// usage, seconds; and what an interactions import did.
nlohmann::json RecommendResultJson(const RecommendResult& r);
nlohmann::json InteractionImportJson(const std::string& kb, const InteractionImportReport& r);

// An answer as text with its cited sources listed after it ("Sources:\n[1]
// label (id …)"): what the MCP ask tool returns, on stdio and over HTTP.
std::string AnswerText(const Answer& a);

}  // namespace ragd::api
