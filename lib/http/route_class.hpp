#pragma once

#include <string_view>

namespace emporium::http {

// What a request costs and how much an abuser gains from repeating it: the
// unit of the edge's rate limits and of the server's per-class concurrency
// limits. Decided from the method and path alone, so the gateway (which
// proxies by prefix) and the services classify the same request alike.
enum class RouteClass {
  ops,       // /healthz, /readyz, /metrics: never limited, never queued
  sign_in,   // POST /api/users/login
  signup,    // POST /api/users/register
  refresh,   // POST /api/users/refresh
  password,  // PUT /api/users/profile (may change the password)
  internal,  // /internal/...: service to service
  read,      // any other GET or HEAD
  write,     // any other method
};

RouteClass classify(std::string_view method, std::string_view path) noexcept;

// "sign_in", "read", ...: for metrics labels and configuration keys.
std::string_view name(RouteClass c) noexcept;

}  // namespace emporium::http
