#pragma once

#include <string>
#include <string_view>

#include "auth/auth.hpp"
#include "http/message.hpp"
#include "svc/upstream.hpp"

namespace emporium::gateway {

// The edge in the split shape: forwards a request to the service `name`
// through `upstream`, after verifying the token on protected routes (a
// protected route without a valid token never reaches a service). Answers
// 503/504 problem+json, with Retry-After, when the upstream is down or slow.
// Copies the request's end-to-end headers that the services read, adds
// X-Forwarded-For, and returns the upstream's answer without hop-by-hop
// headers.
class Proxy {
 public:
  Proxy(std::string name, svc::Upstream& upstream, const auth::Tokens& tokens)
      : name_(std::move(name)), upstream_(upstream), tokens_(tokens) {}

  http::Response operator()(http::Request& req) const;

 private:
  std::string name_;
  svc::Upstream& upstream_;
  const auth::Tokens& tokens_;
};

}  // namespace emporium::gateway
