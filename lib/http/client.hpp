#pragma once

#include <atomic>
#include <boost/system/result.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

// A blocking HTTP/1.1 client for calls between services, on libcurl. Keeps a
// pool of keep-alive connections to one upstream. Every call has a deadline.
// Calls with a safe method (GET, HEAD, OPTIONS) or an Idempotency-Key
// header are retried with jittered exponential backoff after a
// transport failure or a 502/503/504, within the deadline. A circuit breaker
// opens after `breaker_threshold` consecutive failures (transport errors and
// 5xx answers), fails calls fast while open, then lets one probe through.
// Thread-safe; calls may be made from any number of threads.
class Client {
 public:
  explicit Client(ClientOptions options, obs::Registry* metrics = nullptr);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `method path` (path includes any query) with `body` as
  // application/json when non-empty. A response of any status is a value;
  // only a failure to get one is an error.
  ClientResult call(std::string_view method, std::string_view path, std::string_view body = {},
                    const CallOptions& options = {});

  enum class BreakerState { closed, open, half_open };
  BreakerState breaker_state() const;

 private:
  struct Pool;
  ClientResult attempt(std::string_view method, const std::string& url, std::string_view body,
                       const CallOptions& options, std::chrono::milliseconds budget);
  bool admit();
  void record(bool success);

  ClientOptions options_;
  std::unique_ptr<Pool> pool_;
  mutable std::mutex breaker_mutex_;
  BreakerState state_ = BreakerState::closed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point open_until_{};
  obs::Family<obs::Counter>* calls_ = nullptr;
  obs::Gauge* breaker_open_ = nullptr;
};

}  // namespace emporium::http
