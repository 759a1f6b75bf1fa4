#pragma once

#include <stdexcept>
#include <string>

namespace emporium::core {

// An infrastructure failure (database, upstream service). `transient` ones —
// a server down, a pool exhausted, a deadline passed — are answered 503 (504
// for a timeout) with Retry-After; the rest are bugs and answered 500. The
// message is logged, never sent to clients.
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, bool transient, bool timeout = false)
      : std::runtime_error(what), transient_(transient), timeout_(timeout) {}
  bool transient() const noexcept { return transient_; }
  bool timeout() const noexcept { return timeout_; }

 private:
  bool transient_;
  bool timeout_;
};

}  // namespace emporium::core
