// What every fuzz target asserts beyond "does not crash": a broken
// invariant aborts, so libFuzzer keeps the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/text.h"

#define FUZZ_CHECK(cond, what)                                                  \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "fuzz invariant broken: %s (%s)\n", what, #cond);   \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

// Text ragd hands on (chunks, titles, JSON) must be valid UTF-8.
inline void CheckUtf8(std::string_view s, const char* what) {
  FUZZ_CHECK(ragd::text::FindInvalidUtf8(s) == std::string_view::npos, what);
}
