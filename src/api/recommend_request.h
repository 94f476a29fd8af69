// The recommendation request of the request layer: one parser and
// validator of POST /api/kbs/{kb}/recommend's body (docs/API.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ragd/recommend.h"

namespace ragd::api {

// Fields: user, like (list of item ids), query, k, filters (as search's),
// include_seen, candidates, weights {profile, item_knn, popularity, query},
// rerank ("llm" or "none"), rerank_top, repeats, explain, seed. Unset ones
// keep RecommendOptions' defaults; a field of the wrong type or value is
// InvalidArgument naming it. kb comes from the route.
Result<RecommendOptions> RecommendOptionsFromJson(const nlohmann::json& body, const std::string& kb);

}  // namespace ragd::api
