#pragma once

#include <utility>

#include "auth/auth.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"

namespace emporium {

// Wraps a handler taking (Request&, const Identity&) so that it runs only for
// a verified end-user token; otherwise the 401 for why it was refused.
template <class F>
http::Handler signed_in(const auth::Tokens& tokens, F f) {
  return [&tokens, f = std::move(f)](http::Request& req) -> http::Response {
    auto who = auth::authenticate(req, tokens);
    if (!who) {
      return auth::unauthorized(who.error());
    }
    return f(req, *who);
  };
}

// As signed_in, and the identity must be an admin (else 403).
template <class F>
http::Handler admin_only(const auth::Tokens& tokens, F f) {
  return signed_in(tokens, [f = std::move(f)](http::Request& req, const auth::Identity& who) {
    if (!who.is_admin()) {
      return http::problem(403, "Admin access required");
    }
    return f(req, who);
  });
}

// For internal endpoints: a service credential is required (else 401).
template <class F>
http::Handler service_only(const auth::Tokens& tokens, F f) {
  return [&tokens, f = std::move(f)](http::Request& req) -> http::Response {
    auto who = auth::authenticate_service(req, tokens);
    if (!who) {
      return auth::unauthorized(who.error());
    }
    return f(req);
  };
}

}  // namespace emporium
