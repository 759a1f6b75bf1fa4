#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/call_policy.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

// The inter-service client of http/client.hpp for coroutines: the same
// options, deadlines, retries (which calls, after which failures, with the
// same jittered backoff), circuit breaker and metrics, on Boost.Beast
// without blocking a thread. An attempt runs on the calling coroutine's
// executor (an I/O thread's io_context); the keep-alive connections it
// leaves idle are kept per execution context, so a connection is only ever
// used by the thread that runs its context, and closed when that context is
// destroyed. A reused connection that turns out closed before any byte of
// the answer arrived (the upstream dropped it while idle) is replaced by a
// new one within the same attempt. http:// upstreams only.
// Thread-safe: call() may run on any number of contexts at once.
class AsyncClient {
 public:
  // Throws std::invalid_argument when base_url is not http://host[:port].
  explicit AsyncClient(ClientOptions options, obs::Registry* metrics = nullptr);
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // As Client::call. The arguments are read until the call completes:
  // co_await it at once. No default arguments: a temporary bound to a
  // coroutine's reference parameter inside a co_await expression is destroyed
  // twice by GCC 12; callers pass named objects.
  boost::asio::awaitable<ClientResult> call(std::string_view method, std::string_view path,
                                            std::string_view body, const CallOptions& options);

  // The same call for a thread that runs no event loop: on a private
  // io_context, with a new connection (closed afterwards).
  ClientResult call_blocking(std::string_view method, std::string_view path,
                             std::string_view body = {}, const CallOptions& options = {});

  BreakerState breaker_state() const { return policy_.state(); }

 private:
  struct Connection;
  boost::asio::awaitable<ClientResult> attempt(std::string_view method, std::string_view path,
                                               std::string_view body, const CallOptions& options,
                                               std::chrono::steady_clock::time_point deadline);

  ClientOptions options_;
  std::string host_;  // for connecting
  std::string port_;
  std::string authority_;  // the Host header
  std::string prefix_;     // the base URL's path, before each call's path
  std::uint64_t id_;       // the key of this client's idle connections in each context
  CallPolicy policy_;      // refers to options_
};

}  // namespace emporium::http
