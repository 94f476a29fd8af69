// The agent's calculator: arithmetic over numbers the model read in the
// sources (fees, rates, limits). A recursive-descent evaluator written for
// this; it evaluates expressions only and can run nothing else.
#pragma once

#include <string>
#include <string_view>

#include "ragd/status.h"

namespace ragd::agent {

// + - * / (and × ÷), % (modulo between two operands, percent after one:
// "5%" is 0.05), ^ or ** (power), parentheses, unary minus, numbers like
// 1.5e3, the constants pi and e, and the functions abs, sqrt, round(x[, n]),
// floor, ceil, min(...), max(...), ln, log10, exp. Division by zero, a
// result that is not finite, unknown names and trailing input are
// InvalidArgument naming the place.
Result<double> Calculate(std::string_view expression);

// A result as people write it: integers without a point, others with up to
// 10 significant digits ("0.3", "1234.5", "1e+20").
std::string FormatNumber(double value);

}  // namespace ragd::agent
