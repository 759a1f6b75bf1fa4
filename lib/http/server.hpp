#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/ops.hpp"
#include "http/pipeline.hpp"
#include "http/route_class.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

// How many RouteClass values there are (write is the last).
inline constexpr std::size_t kRouteClasses = static_cast<std::size_t>(RouteClass::write) + 1;

// The per-class concurrency limits a server starts with: sign-in,
// registration and password changes (argon2id) at one fewer than the
// cores (0), the rest sized to share the blocking pool's queue.
constexpr std::array<std::size_t, kRouteClasses> default_class_limits() {
  std::array<std::size_t, kRouteClasses> l{};
  l[static_cast<std::size_t>(RouteClass::ops)] = 0;  // unused: never limited
  l[static_cast<std::size_t>(RouteClass::sign_in)] = 0;
  l[static_cast<std::size_t>(RouteClass::signup)] = 0;
  l[static_cast<std::size_t>(RouteClass::password)] = 0;
  l[static_cast<std::size_t>(RouteClass::refresh)] = 32;
  l[static_cast<std::size_t>(RouteClass::internal)] = 256;
  l[static_cast<std::size_t>(RouteClass::read)] = 192;
  l[static_cast<std::size_t>(RouteClass::write)] = 128;
  return l;
}

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;            // 0 picks a free port
  unsigned io_threads = 0;              // 0: one per core
  unsigned blocking_threads = 16;       // pool for RouteOptions::blocking handlers
  std::size_t max_connections = 10000;  // further connections are closed at once
  // Open connections from one client address at most (0: no cap); more are
  // closed at once. Above 90 % of max_connections, the connection idle
  // longest between keep-alive requests is closed for each new one.
  std::size_t max_connections_per_client = 256;
  // Blocking requests waiting for a pool thread at most; more get a 503.
  std::size_t blocking_queue = 256;
  // Requests of each RouteClass (indexed by the enum) in flight or queued on
  // the blocking pool at most; more get a 503. 0: one fewer than the cores
  // (at least 1).
  // Ops requests are never limited: they run on a small pool of their own.
  std::array<std::size_t, kRouteClasses> class_limits = default_class_limits();
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // larger: 431
  std::size_t max_body_bytes = std::size_t{1024} * 1024;  // larger: 413
  std::chrono::milliseconds header_timeout{5'000};        // accept to the first request line
  std::chrono::milliseconds read_timeout{10'000};         // whole request, first byte to last
  std::chrono::milliseconds idle_timeout{60'000};         // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10'000};        // whole response
  std::chrono::milliseconds shutdown_delay{0};            // readiness 503 before listeners close
  std::chrono::milliseconds drain_timeout{20'000};        // in-flight requests get this long
};

// An HTTP/1.1 server on Boost.Beast with C++20 coroutines: one acceptor, one
// io_context per I/O thread, and a thread pool for blocking handlers.
//
// Shutdown (SIGTERM/SIGINT, or shutdown()): readiness turns false at once;
// after shutdown_delay the listener closes (new connections are refused);
// idle keep-alive connections are closed; requests in flight complete and are
// answered with `Connection: close`; after they finish, or at drain_timeout,
// run() returns.
class Server {
 public:
  Server(ServerOptions options, const Router& router, const Pipeline& pipeline,
         Readiness& readiness, obs::Registry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns the bound port. Throws std::system_error when
  // the address cannot be resolved or bound.
  std::uint16_t listen();

  // Serves until shutdown completes. Installs SIGINT/SIGTERM handlers when
  // `handle_signals` is set. Call listen() first.
  void run(bool handle_signals = true);

  // Starts a graceful shutdown. Thread-safe and idempotent.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emporium::http
