// The search request and response of the request layer: one parser and
// validator for the HTTP body, and one JSON form of the result for both the
// CLI's `search --json` and POST /api/kbs/{kb}/search, so the two print the
// same fields for the same request.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ragd/engine.h"

namespace ragd::api {

// A search request's JSON body (docs/API.md): query, mode, k, per_document,
// filters, rerank, rerank_candidates, fusion, lexical_weight, mmr_lambda,
// min_score, neighbors. Unset fields keep SearchOptions' defaults. A field
// of the wrong type or value is InvalidArgument naming it. kb comes from the
// route, not the body.
Result<SearchOptions> SearchOptionsFromJson(const nlohmann::json& body, const std::string& kb);

// A --fusion flag or "fusion" field: unset stays unset, a bad name is
// InvalidArgument (ParseFusion).
Result<std::optional<Fusion>> ParseOptionalFusion(const std::optional<std::string>& name);

// Filters as JSON: {"key": "value", ...} (equality; source = contains), or a
// list of "key<op>value" strings and {"key", "op", "value"} objects.
Result<std::vector<FilterCondition>> FiltersFromJson(const nlohmann::json& filters);

// {"kb", "query", "mode", "seconds", "results": [HitJson...], "reranker"?}.
nlohmann::json SearchResultJson(const SearchOptions& request, const SearchResponse& result);

}  // namespace ragd::api
