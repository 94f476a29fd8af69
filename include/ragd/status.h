// Status and Result<T>: how libragd reports errors. The library never prints
// or exits; every failure comes back as a value whose message a user can act on.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace ragd {

enum class StatusCode {
  kOk = 0,
  kNotFound,         // a named thing (file, knowledge base, document) does not exist
  kInvalidArgument,  // the caller's input is wrong (bad flag, malformed file)
  kIOError,          // the operating system refused (permissions, disk full)
  kCorruption,       // stored data is damaged or of an unknown format version
  kUnavailable,      // a model or server could not be reached or loaded
  kCancelled,        // the caller asked to stop
  kAlreadyExists,    // creating a thing (knowledge base) that is already there
  kInternal,         // a bug in ragd: please report it with the message
};

// [[nodiscard]]: dropping a Status or Result unread is a compiler warning;
// where ignoring one is right, the code says so with (void).
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(StatusCode::kCorruption, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(StatusCode::kUnavailable, std::move(msg)); }
  static Status Cancelled(std::string msg) { return Status(StatusCode::kCancelled, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(StatusCode::kAlreadyExists, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not found: knowledge base 'x' does not exist" — for logs and the CLI.
  std::string ToString() const;
  // Returns a copy with "context: " put before the message.
  Status WithContext(const std::string& context) const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

const char* StatusCodeName(StatusCode code);

// Thrown by Result::value() (and ->, *) when there is no value: reading a
// value without checking ok() first is a bug in the caller, like
// std::optional::value() on an empty optional.
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Status& s)
      : std::logic_error("Result::value() called on an error: " + s.ToString()) {}
};

// A value or the Status explaining why there is none. Never both, never
// neither: built from an OK Status it holds an Internal error instead.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status)                          // NOLINT
      : status_(status.ok() ? Status::Internal("a Result was made from an OK status without a value")
                            : std::move(status)) {}
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return Get(); }
  const T& value() const& { return Get(); }
  // By value, so `for (x : f().value())` cannot dangle.
  T value() && { return std::move(Get()); }
  T* operator->() { return &Get(); }
  const T* operator->() const { return &Get(); }
  T& operator*() & { return Get(); }

 private:
  T& Get() {
    if (!value_) throw BadResultAccess(status_);
    return *value_;
  }
  const T& Get() const {
    if (!value_) throw BadResultAccess(status_);
    return *value_;
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace ragd
