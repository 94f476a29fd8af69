#include "agent/calculator.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

namespace ragd::agent {

namespace {

constexpr size_t kMaxLength = 2000;
constexpr int kMaxDepth = 100;

// The symbols models write for × ÷ and full-width brackets, as ASCII.
std::string Normalize(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    auto is = [&](std::string_view s) { return in.substr(i, s.size()) == s; };
    if (is("×")) { out += '*'; i += 2; }
    else if (is("÷")) { out += '/'; i += 2; }
    else if (is("（")) { out += '('; i += 3; }
    else if (is("）")) { out += ')'; i += 3; }
    else if (is("，")) { out += ','; i += 3; }
    else if (is("％")) { out += '%'; i += 3; }
    else if (is("−")) { out += '-'; i += 3; }
    else out += in[i++];
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string s) : s_(std::move(s)) {}

  Result<double> Parse() {
    Result<double> v = Expr();
    if (!v.ok()) return v;
    Skip();
    if (pos_ < s_.size()) return Error("unexpected '" + std::string(1, s_[pos_]) + "'");
    if (!std::isfinite(*v)) return Status::InvalidArgument("the result is not a finite number");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(what + " at position " + std::to_string(pos_ + 1) + " of '" + s_ + "'");
  }
  void Skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(char c) {
    Skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char Peek() {
    Skip();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }

  Result<double> Expr() {
    if (++depth_ > kMaxDepth) return Error("too deeply nested");
    Result<double> v = Term();
    while (v.ok()) {
      char c = Peek();
      if (c != '+' && c != '-') break;
      ++pos_;
      Result<double> r = Term();
      if (!r.ok()) return r;
      v = c == '+' ? *v + *r : *v - *r;
    }
    --depth_;
    return v;
  }

  Result<double> Term() {
    Result<double> v = Unary();
    while (v.ok()) {
      char c = Peek();
      if (c == '*' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') break;  // power, handled below
      if (c != '*' && c != '/' && c != '%') break;
      ++pos_;
      Result<double> r = Unary();
      if (!r.ok()) return r;
      if (c == '*') {
        v = *v * *r;
      } else {
        if (*r == 0) return Error(c == '/' ? "division by zero" : "modulo by zero");
        v = c == '/' ? *v / *r : std::fmod(*v, *r);
      }
    }
    return v;
  }

  Result<double> Unary() {
    if (++depth_ > kMaxDepth) return Error("too deeply nested");
    Result<double> v = [&]() -> Result<double> {
      if (Eat('-')) {
        Result<double> r = Unary();
        if (!r.ok()) return r;
        return -*r;
      }
      if (Eat('+')) return Unary();
      return Power();
    }();
    --depth_;
    return v;
  }

  Result<double> Power() {
    Result<double> base = Postfix();
    if (!base.ok()) return base;
    Skip();
    bool pow = false;
    if (Peek() == '^') {
      ++pos_;
      pow = true;
    } else if (s_.compare(pos_, 2, "**") == 0) {
      pos_ += 2;
      pow = true;
    }
    if (!pow) return base;
    Result<double> exp = Unary();  // right-associative: 2^3^2 = 2^9
    if (!exp.ok()) return exp;
    return std::pow(*base, *exp);
  }

  // A primary, then "%" as percent unless an operand follows (then it is
  // modulo, left to Term).
  Result<double> Postfix() {
    Result<double> v = Primary();
    if (!v.ok()) return v;
    while (Peek() == '%') {
      size_t after = pos_ + 1;
      while (after < s_.size() && std::isspace(static_cast<unsigned char>(s_[after]))) ++after;
      char next = after < s_.size() ? s_[after] : '\0';
      if (std::isdigit(static_cast<unsigned char>(next)) || next == '.' || next == '(' || std::isalpha(static_cast<unsigned char>(next)))
        break;
      ++pos_;
      v = *v / 100;
    }
    return v;
  }

  Result<double> Primary() {
    char c = Peek();
    if (c == '(') {
      ++pos_;
      Result<double> v = Expr();
      if (!v.ok()) return v;
      if (!Eat(')')) return Error("missing ')'");
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return Number();
    if (std::isalpha(static_cast<unsigned char>(c))) return Name();
    if (c == '\0') return Error("the expression ends early");
    return Error("unexpected '" + std::string(1, c) + "'");
  }

  Result<double> Number() {
    const char* start = s_.c_str() + pos_;
    char* end = nullptr;
    double v = std::strtod(start, &end);
    if (end == start) return Error("a number is expected");
    // strtod also reads "inf", "nan" and hex; only decimal numbers are allowed here.
    for (const char* p = start; p < end; ++p)
      if (!std::isdigit(static_cast<unsigned char>(*p)) && *p != '.' && *p != 'e' && *p != 'E' && *p != '+' && *p != '-')
        return Error("'" + std::string(start, static_cast<size_t>(end - start)) + "' is not a decimal number");
    pos_ += static_cast<size_t>(end - start);
    return v;
  }

  Result<double> Name() {
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    std::string name = s_.substr(start, pos_ - start);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (name == "pi") return M_PI;
    if (name == "e") return M_E;
    if (!Eat('(')) {
      pos_ = start;
      return Error("unknown name '" + name + "' (numbers, + - * / % ^, parentheses and functions only)");
    }
    static const std::set<std::string> kFunctions = {"abs", "floor", "ceil", "exp", "sqrt", "ln", "log10",
                                                     "log", "round", "min", "max"};
    if (!kFunctions.count(name)) {
      pos_ = start;
      return Error("unknown function '" + name + "'");
    }
    std::vector<double> args;
    if (!Eat(')')) {
      do {
        Result<double> a = Expr();
        if (!a.ok()) return a;
        args.push_back(*a);
      } while (Eat(','));
      if (!Eat(')')) return Error("missing ')' after the arguments of " + name);
    }
    auto want = [&](size_t lo, size_t hi) -> Status {
      if (args.size() < lo || args.size() > hi)
        return Status::InvalidArgument(name + "() takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                                       " argument(s), got " + std::to_string(args.size()));
      return Status::OK();
    };
    auto one = [&](double (*f)(double)) -> Result<double> {
      if (Status st = want(1, 1); !st.ok()) return st;
      return f(args[0]);
    };
    if (name == "abs") return one(std::fabs);
    if (name == "floor") return one(std::floor);
    if (name == "ceil") return one(std::ceil);
    if (name == "exp") return one(std::exp);
    if (name == "sqrt" || name == "ln" || name == "log10" || name == "log") {
      if (Status st = want(1, 1); !st.ok()) return st;
      if (name == "sqrt" ? args[0] < 0 : args[0] <= 0) return Status::InvalidArgument(name + "() of " + FormatNumber(args[0]) + " is undefined");
      return name == "sqrt" ? std::sqrt(args[0]) : name == "log10" ? std::log10(args[0]) : std::log(args[0]);
    }
    if (name == "round") {
      if (Status st = want(1, 2); !st.ok()) return st;
      double scale = args.size() == 2 ? std::pow(10.0, std::round(args[1])) : 1;
      return std::round(args[0] * scale) / scale;
    }
    if (name == "min" || name == "max") {
      if (Status st = want(1, 1000); !st.ok()) return st;
      double v = args[0];
      for (double a : args) v = name == "min" ? std::min(v, a) : std::max(v, a);
      return v;
    }
    pos_ = start;
    return Error("unknown function '" + name + "'");
  }

  std::string s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<double> Calculate(std::string_view expression) {
  if (expression.size() > kMaxLength)
    return Status::InvalidArgument("the expression is longer than " + std::to_string(kMaxLength) + " characters");
  std::string s = Normalize(expression);
  bool blank = true;
  for (char c : s) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank) return Status::InvalidArgument("the expression is empty");
  return Parser(std::move(s)).Parse();
}

std::string FormatNumber(double value) {
  if (value == 0) return "0";  // also -0
  char buf[64];
  if (std::fabs(value) < 1e15 && value == std::round(value)) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.10g", value);
  }
  return buf;
}

}  // namespace ragd::agent
