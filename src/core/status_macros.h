// Early-return helpers for Status / Result (private to libragd).
#pragma once

#include "ragd/status.h"

#define RAGD_CONCAT_INNER(a, b) a##b
#define RAGD_CONCAT(a, b) RAGD_CONCAT_INNER(a, b)

#define RAGD_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::ragd::Status _st = (expr);              \
    if (!_st.ok()) return _st;                \
  } while (0)

#define RAGD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define RAGD_ASSIGN_OR_RETURN(lhs, expr) \
  RAGD_ASSIGN_OR_RETURN_IMPL(RAGD_CONCAT(_result_, __LINE__), lhs, expr)
