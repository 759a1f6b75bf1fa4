#pragma once

#include <map>
#include <memory>
#include <string>

#include "auth/auth.hpp"
#include "http/client.hpp"
#include "http/router.hpp"

namespace emporium::gateway {

// True when a request to `method path` needs a signed-in user; the services
// check roles and ownership themselves.
bool requires_auth(std::string_view method, std::string_view path);

// The edge in the split shape: routes /api/products, /api/users, /api/cart
// and /api/orders to their services over HTTP, verifies tokens first (a
// protected route without a valid token never reaches a service), and
// answers 503/504 problem+json when an upstream is down or slow. /internal
// paths are not routed.
class Gateway {
 public:
  // `upstreams` maps a service name (product, user, cart, order) to its client.
  Gateway(http::Router& router, const auth::Tokens& tokens,
          std::map<std::string, std::unique_ptr<http::Client>> upstreams);

 private:
  http::Response proxy(http::Client& upstream, std::string_view name, http::Request& req);

  const auth::Tokens& tokens_;
  std::map<std::string, std::unique_ptr<http::Client>> upstreams_;
};

}  // namespace emporium::gateway
