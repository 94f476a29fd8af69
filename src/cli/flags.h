// Command-line flags shared by several commands.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ragd/filter.h"
#include "ragd/status.h"

namespace ragd::cli {

// --filter (repeatable), --no-rerank and --rerank-candidates.
void AddRetrievalFlags(CLI::App* cmd, std::vector<std::string>* filters, bool* no_rerank,
                       std::optional<int>* rerank_candidates);

// Each --filter expression parsed (errors name the expression).
Result<std::vector<FilterCondition>> ParseFilters(const std::vector<std::string>& expressions);

// --meta key=value pairs (errors name the pair).
Result<std::map<std::string, std::string>> ParseMetadata(const std::vector<std::string>& pairs);

}  // namespace ragd::cli
