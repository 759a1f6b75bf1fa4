#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

struct ClientOptions {
  std::string name = "upstream";                   // metric label, e.g. "product"
  std::string base_url;                            // "http://127.0.0.1:3001", no trailing slash
  std::chrono::milliseconds timeout{2'000};        // default deadline per call, all attempts
  std::chrono::milliseconds connect_timeout{500};  // per attempt
  int max_attempts = 3;                            // for retryable calls
  std::chrono::milliseconds backoff_base{25};      // full jitter: U(0, base * 2^attempt)
  std::chrono::milliseconds backoff_max{500};
  int breaker_threshold = 5;                          // consecutive failures that open it
  std::chrono::milliseconds breaker_open_for{5'000};  // then one probe is let through
  std::size_t max_idle_connections = 64;
};

struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout;  // overrides ClientOptions::timeout
  std::string request_id;                            // sent as X-Request-Id
  Headers headers;                                   // extra request headers
};

enum class ClientErrc {
  connect_failed,  // no connection could be made
  timeout,         // the deadline passed
  circuit_open,    // the breaker refused the call without trying
  transport,       // any other network or protocol failure
};

struct ClientError {
  ClientErrc code;
  std::string message;
};

// Needed by boost::system::result to report an unchecked error.
[[noreturn]] void throw_exception_from_error(const ClientError& e,
                                             const boost::source_location& loc);

using ClientResult = boost::system::result<Response, ClientError>;

enum class BreakerState { closed, open, half_open };

// What the blocking and the asynchronous clients share: which calls are
// retried and after what, the jittered backoff, the circuit breaker and the
// metrics. A call is a loop of attempts: admit() before each (false: fail
// fast with circuit_open()), finished() after each, then pause_before_retry()
// says whether and how long to wait before the next. Thread-safe.
class CallPolicy {
 public:
  CallPolicy(const ClientOptions& options, obs::Registry* metrics);

  // Calls with a safe method (GET, HEAD, OPTIONS) or an Idempotency-Key header.
  static bool may_retry(std::string_view method, const CallOptions& options);

  // The error a call returns when no attempt could start before its deadline.
  static ClientError deadline_passed();

  // True when the breaker lets an attempt through (one probe when half open).
  bool admit();
  // The error for a call the breaker refused; counts it.
  ClientError circuit_open();
  // Records an attempt's outcome: a failure is a transport error or a 5xx.
  void finished(const ClientResult& result);
  // After attempt `n` (from 0): the pause before the next one, or nullopt
  // when the call ends with `result` (not retryable, out of attempts, or the
  // pause would reach the deadline).
  std::optional<std::chrono::milliseconds> pause_before_retry(
      const ClientResult& result, bool may_retry, int n,
      std::chrono::steady_clock::time_point deadline) const;

  BreakerState state() const;

 private:
  void record(bool success);

  const ClientOptions& options_;
  mutable std::mutex mutex_;
  BreakerState state_ = BreakerState::closed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point open_until_{};
  obs::Family<obs::Counter>* calls_ = nullptr;
  obs::Gauge* breaker_open_ = nullptr;
};

}  // namespace emporium::http
