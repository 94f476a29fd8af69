// Checks a tool call's arguments against the tool's JSON Schema before the
// tool runs, so a model's malformed call goes back to it as a clear error.
// No JSON Schema validator is packaged for C++ in the registries this
// project uses (docs/DECISIONS.md), so this covers the subset tool
// declarations use: type (or a list of types), properties, required,
// additionalProperties false, enum, const, anyOf, items, minimum/maximum,
// minLength/maxLength, minItems/maxItems. Other keywords are ignored.
#pragma once

#include <nlohmann/json.hpp>

#include "ragd/models.h"
#include "ragd/status.h"

namespace ragd::agent {

// OK, or InvalidArgument naming the first place that breaks the schema
// ("k: expected an integer, got \"five\"").
Status CheckAgainstSchema(const nlohmann::json& schema, const nlohmann::json& value);

// A call's arguments against its tool's parameters (no parameters: any object).
Status CheckToolArguments(const ToolSpec& tool, const nlohmann::json& arguments);

}  // namespace ragd::agent
