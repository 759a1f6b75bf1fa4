#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
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
// headers. serve() does the same without blocking the thread when the
// upstream is asynchronous (svc::AsyncHttpUpstream).
class Proxy {
 public:
  Proxy(std::string name, svc::Upstream& upstream, const auth::Tokens& tokens)
      : name_(std::move(name)), upstream_(upstream), tokens_(tokens) {}

  http::Response operator()(http::Request& req) const;
  boost::asio::awaitable<http::Response> serve(http::Request& req) const;

 private:
  // The 401 for a protected route without a valid token; nullopt to forward.
  std::optional<http::Response> refuse(const http::Request& req) const;
  // The client's answer: the upstream's, or 503/504 when there is none.
  http::Response answer(http::ClientResult result) const;

  std::string name_;
  svc::Upstream& upstream_;
  const auth::Tokens& tokens_;
};

}  // namespace emporium::gateway
