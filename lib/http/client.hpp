#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/call_policy.hpp"
#include "http/message.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

// A blocking HTTP/1.1 client for calls between services, on libcurl. Keeps a
// pool of keep-alive connections to one upstream. Every call has a deadline.
// Calls with a safe method (GET, HEAD, OPTIONS) or an Idempotency-Key
// header are retried with jittered exponential backoff after a
// transport failure or a 502/503/504, within the deadline. A circuit breaker
// opens after `breaker_threshold` consecutive failures (transport errors and
// 5xx answers), fails calls fast while open, then lets one probe through.
// Thread-safe; calls may be made from any number of threads. AsyncClient
// (http/async_client.hpp) is the same client for coroutines on an I/O thread.
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

  using BreakerState = http::BreakerState;
  BreakerState breaker_state() const { return policy_.state(); }

 private:
  struct Pool;
  ClientResult attempt(std::string_view method, const std::string& url, std::string_view body,
                       const CallOptions& options, std::chrono::milliseconds budget);

  ClientOptions options_;
  std::unique_ptr<Pool> pool_;
  CallPolicy policy_;  // refers to options_
};

}  // namespace emporium::http
