// The filter helpers behind include/ragd/filter.h: dates, numbers and the
// built-in keys. They live with the store, which turns conditions into SQL.
#pragma once

#include <cstdint>
#include <string>

#include "ragd/filter.h"

namespace ragd::store {

// YYYY-MM-DD[THH:MM[:SS]][Z] (UTC; a space may replace T) -> seconds since
// the epoch.
Result<int64_t> ParseFilterDate(const std::string& value);
// Seconds since the epoch -> "YYYY-MM-DDTHH:MM:SSZ", the form ingested_at is
// stored in.
std::string FormatIsoUtc(int64_t seconds);
// Whether value is a plain decimal number (then metadata compares numerically).
bool IsNumber(const std::string& value, double* out);
bool IsBuiltinFilterKey(const std::string& key);

}  // namespace ragd::store
