// The JSON forms of ragd's public types, shared by the CLI's --json output
// and the HTTP API so that both speak the same field names.
#pragma once

#include <nlohmann/json.hpp>

#include "ragd/engine.h"
#include "ragd/rag.h"

namespace ragd::api {

nlohmann::json HitJson(const SearchHit& h);
// A numbered source of an answer: its hit, plus n, cited and truncated.
nlohmann::json SourceJson(const Source& s);
// Includes the knowledge base's path on disk; the server drops it.
nlohmann::json KbJson(const KbInfo& k);
nlohmann::json DocumentJson(const DocumentInfo& d);
// OpenAI's usage object: prompt, completion and total tokens, and the
// prompt tokens reused from the model's key/value cache
// (prompt_tokens_details.cached_tokens).
nlohmann::json UsageJson(const ChatResult& r);

}  // namespace ragd::api
