#include "api/search_request.h"

#include "api/fields.h"
#include "api/json_forms.h"
#include "core/status_macros.h"

namespace ragd::api {

using nlohmann::json;

Result<std::vector<FilterCondition>> FiltersFromJson(const json& f) {
  std::vector<FilterCondition> out;
  if (f.is_null()) return out;
  if (f.is_object()) {
    for (const auto& [key, value] : f.items()) {
      if (!value.is_string()) return Status::InvalidArgument("filter '" + key + "' must be a string");
      out.push_back({key, "=", value.get<std::string>()});
    }
  } else if (f.is_array()) {
    for (const auto& c : f) {
      if (c.is_string()) {
        RAGD_ASSIGN_OR_RETURN(FilterCondition parsed, ParseFilterCondition(c.get<std::string>()));
        out.push_back(std::move(parsed));
      } else if (c.is_object() && c.value("key", json()).is_string() && c.value("value", json()).is_string() &&
                 c.value("op", json("=")).is_string()) {
        out.push_back({c["key"].get<std::string>(), c.value("op", std::string("=")), c["value"].get<std::string>()});
      } else {
        return Status::InvalidArgument(
            "each filter must be \"key=value\" or {\"key\", \"op\", \"value\"} with strings");
      }
    }
  } else {
    return Status::InvalidArgument("'filters' must be an object or a list");
  }
  for (const auto& c : out) RAGD_RETURN_IF_ERROR(ValidateFilterCondition(c));
  return out;
}

Result<std::optional<Fusion>> ParseOptionalFusion(const std::optional<std::string>& name) {
  if (!name) return std::optional<Fusion>();
  RAGD_ASSIGN_OR_RETURN(Fusion f, ParseFusion(*name));
  return std::optional<Fusion>(f);
}

Result<SearchOptions> SearchOptionsFromJson(const json& body, const std::string& kb) {
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  SearchOptions o;
  o.kb = kb;
  std::string mode = "hybrid";
  RAGD_RETURN_IF_ERROR(ReadField(body, "query", &o.query, "a string"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "mode", &mode, "a string"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "k", &o.k, "an integer"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "per_document", &o.one_per_document, "a boolean"));
  if (auto f = body.find("filters"); f != body.end()) {
    RAGD_ASSIGN_OR_RETURN(o.filters, FiltersFromJson(*f));
  }
  RAGD_RETURN_IF_ERROR(ReadField(body, "rerank", &o.rerank, "a boolean"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "rerank_candidates", &o.rerank_candidates, "an integer"));
  RAGD_ASSIGN_OR_RETURN(o.mode, ParseSearchMode(mode));
  std::optional<std::string> fusion;
  RAGD_RETURN_IF_ERROR(ReadOptional(body, "fusion", &fusion, "a string"));
  RAGD_ASSIGN_OR_RETURN(o.fusion, ParseOptionalFusion(fusion));
  RAGD_RETURN_IF_ERROR(ReadOptional(body, "lexical_weight", &o.lexical_weight, "a number"));
  RAGD_RETURN_IF_ERROR(ReadOptional(body, "mmr_lambda", &o.mmr_lambda, "a number"));
  RAGD_RETURN_IF_ERROR(ReadOptional(body, "min_score", &o.min_score, "a number"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "neighbors", &o.neighbors, "an integer"));
  return o;
}

json SearchResultJson(const SearchOptions& request, const SearchResponse& result) {
  json hits = json::array();
  for (const auto& h : result.hits) hits.push_back(HitJson(h));
  json out{{"kb", request.kb},
           {"query", request.query},
           {"mode", SearchModeName(request.mode)},
           {"seconds", result.seconds},
           {"results", hits}};
  if (!result.reranker.empty()) out["reranker"] = result.reranker;
  return out;
}

}  // namespace ragd::api
