#include "http/route_class.hpp"

namespace emporium::http {

namespace {

// The path without one trailing slash, as the router matches it.
std::string_view trimmed(std::string_view path) noexcept {
  if (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  return path;
}

}  // namespace

RouteClass classify(std::string_view method, std::string_view path) noexcept {
  path = trimmed(path.substr(0, path.find('?')));
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    return RouteClass::ops;
  }
  if (path.starts_with("/internal/")) {
    return RouteClass::internal;
  }
  if (method == "POST") {
    if (path == "/api/users/login") {
      return RouteClass::sign_in;
    }
    if (path == "/api/users/register") {
      return RouteClass::signup;
    }
    if (path == "/api/users/refresh") {
      return RouteClass::refresh;
    }
  }
  if (method == "PUT" && path == "/api/users/profile") {
    return RouteClass::password;
  }
  return method == "GET" || method == "HEAD" ? RouteClass::read : RouteClass::write;
}

std::string_view name(RouteClass c) noexcept {
  switch (c) {
    case RouteClass::ops:
      return "ops";
    case RouteClass::sign_in:
      return "sign_in";
    case RouteClass::signup:
      return "signup";
    case RouteClass::refresh:
      return "refresh";
    case RouteClass::password:
      return "password";
    case RouteClass::internal:
      return "internal";
    case RouteClass::read:
      return "read";
    case RouteClass::write:
      return "write";
  }
  return "write";
}

}  // namespace emporium::http
