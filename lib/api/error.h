#pragma once
// kai::Error: the one exception type that crosses codec -> client -> command.
// Thrown inside libraries, caught once in cli (exit code) and once in the server (HTTP Status).

#include <stdexcept>
#include <string>
#include <vector>

namespace kai {

/// What went wrong, in the terms of a Kubernetes Status reason.
enum class ErrorKind {
  Usage,          ///< the command line is wrong (exit 2)
  Invalid,        ///< an object or input file is invalid (422 Invalid / BadRequest)
  NotFound,       ///< 404
  AlreadyExists,  ///< 409 AlreadyExists
  Conflict,       ///< 409 Conflict (stale resourceVersion)
  Gone,           ///< 410 Expired (a resourceVersion older than the change log goes back)
  Unavailable,    ///< backend not reachable / not supported yet
  Internal,       ///< a bug or an unexpected failure of a library (500)
};

/// One field-level cause of an Invalid error: `spec.tasks[1].replicas` + `Invalid value: -1: must be ...`.
struct FieldCause {
  std::string field;
  std::string message;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::vector<FieldCause> causes = {})
      : std::runtime_error(message), kind_(kind), causes_(std::move(causes)) {}

  ErrorKind kind() const { return kind_; }
  const std::vector<FieldCause>& causes() const { return causes_; }

  /// Convenience constructors.
  static Error usage(std::string m) { return Error(ErrorKind::Usage, std::move(m)); }
  static Error invalid(std::string m, std::vector<FieldCause> c = {}) {
    return Error(ErrorKind::Invalid, std::move(m), std::move(c));
  }
  static Error not_found(std::string m) { return Error(ErrorKind::NotFound, std::move(m)); }
  static Error already_exists(std::string m) { return Error(ErrorKind::AlreadyExists, std::move(m)); }
  static Error conflict(std::string m) { return Error(ErrorKind::Conflict, std::move(m)); }
  static Error gone(std::string m) { return Error(ErrorKind::Gone, std::move(m)); }
  static Error unavailable(std::string m) { return Error(ErrorKind::Unavailable, std::move(m)); }
  static Error internal(std::string m) { return Error(ErrorKind::Internal, std::move(m)); }

 private:
  ErrorKind kind_;
  std::vector<FieldCause> causes_;
};

}  // namespace kai
