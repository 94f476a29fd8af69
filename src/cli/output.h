// Small helpers for what the program prints to people.
#pragma once

#include <string>
#include <string_view>

#include "ragd/status.h"

namespace ragd::cli {

// Prints "ragd: error: ..." to stderr; returns exit code 1.
int Fail(const Status& st);
// s on one line (newlines and tabs as spaces), cut to max_bytes with "…".
std::string OneLine(std::string_view s, size_t max_bytes);

}  // namespace ragd::cli
