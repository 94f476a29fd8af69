#include "cli/flags.h"

#include "core/status_macros.h"

namespace ragd::cli {

void AddRetrievalFlags(CLI::App* cmd, std::vector<std::string>* filters, bool* no_rerank,
                       std::optional<int>* rerank_candidates) {
  cmd->add_option("--filter", *filters,
                  "only documents matching KEY=VALUE (repeatable; also != < <= > >=; keys: type, source, doc_id, "
                  "modified, ingested, or --meta keys given at ingest)")
      ->allow_extra_args(false);  // one value each: a positional after it stays positional
  cmd->add_flag("--no-rerank", *no_rerank, "skip the configured reranker");
  cmd->add_option("--rerank-candidates", *rerank_candidates, "fused hits the reranker scores (default max(k, 20))");
}

Result<std::vector<FilterCondition>> ParseFilters(const std::vector<std::string>& expressions) {
  std::vector<FilterCondition> out;
  for (const auto& e : expressions) {
    RAGD_ASSIGN_OR_RETURN(FilterCondition c, ParseFilterCondition(e));
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseMetadata(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> out;
  for (const auto& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("--meta '" + p + "' is not key=value");
    std::string key = p.substr(0, eq), value = p.substr(eq + 1);
    RAGD_RETURN_IF_ERROR(ValidateMetadata(key, value));
    out[key] = value;
  }
  return out;
}

}  // namespace ragd::cli
