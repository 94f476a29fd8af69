#include "api/recommend_request.h"

#include "api/fields.h"
#include "api/search_request.h"

namespace ragd::api {

using nlohmann::json;

Result<RecommendOptions> RecommendOptionsFromJson(const json& body, const std::string& kb) {
  RecommendOptions o;
  o.kb = kb;
  RAGD_RETURN_IF_ERROR(ReadField(body, "user", &o.user, "a string"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "like", &o.like, "a list of item ids (strings)"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "query", &o.query, "a string"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "k", &o.k, "an integer"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "include_seen", &o.include_seen, "a boolean"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "candidates", &o.candidates, "an integer"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "rerank_top", &o.rerank_top, "an integer"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "repeats", &o.rerank_repeats, "an integer"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "explain", &o.explain, "a boolean"));
  RAGD_RETURN_IF_ERROR(ReadField(body, "seed", &o.seed, "a non-negative integer"));
  std::string rerank = "none";
  RAGD_RETURN_IF_ERROR(ReadField(body, "rerank", &rerank, "\"llm\" or \"none\""));
  if (rerank != "llm" && rerank != "none") return Status::InvalidArgument("'rerank' must be \"llm\" or \"none\"");
  o.rerank_llm = rerank == "llm";
  if (auto w = body.find("weights"); w != body.end() && !w->is_null()) {
    if (!w->is_object()) return Status::InvalidArgument("'weights' must be an object of numbers");
    for (const auto& [name, value] : w->items()) {
      double* slot = name == "profile" ? &o.weights.profile : name == "item_knn" ? &o.weights.item_knn
                   : name == "popularity" ? &o.weights.popularity : name == "query" ? &o.weights.query : nullptr;
      if (!slot) return Status::InvalidArgument("'weights' has no source '" + name + "' (profile, item_knn, popularity, query)");
      if (!value.is_number()) return Status::InvalidArgument("weight '" + name + "' must be a number");
      *slot = value.get<double>();
    }
  }
  if (auto f = body.find("filters"); f != body.end()) {
    RAGD_ASSIGN_OR_RETURN(o.filters, FiltersFromJson(*f));
  }
  return o;
}

}  // namespace ragd::api
