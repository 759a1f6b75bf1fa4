#include "gateway/gateway.hpp"

#include "http/problem.hpp"

namespace emporium::gateway {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

constexpr std::string_view kForwardedRequestHeaders[] = {
    "Authorization", "Cookie", "Content-Type", "Accept", "Idempotency-Key", "Origin", "User-Agent"};

bool hop_by_hop(std::string_view name) {
  for (std::string_view h : {"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
                             "Date", "TE", "Trailer", "Upgrade", "Proxy-Connection"}) {
    if (http::iequals(name, h)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool requires_auth(std::string_view method, std::string_view path) {
  if (starts_with(path, "/api/cart") || starts_with(path, "/api/orders")) {
    return true;
  }
  if (starts_with(path, "/api/products")) {
    return method != "GET" && method != "HEAD";
  }
  if (starts_with(path, "/api/users")) {
    for (std::string_view open :
         {"/api/users/register", "/api/users/login", "/api/users/refresh", "/api/users/logout"}) {
      if (path == open || (path.size() == open.size() + 1 && starts_with(path, open))) {
        return false;
      }
    }
    return true;
  }
  return false;
}

Gateway::Gateway(http::Router& router, const auth::Tokens& tokens,
                 std::map<std::string, std::unique_ptr<http::Client>> upstreams)
    : tokens_(tokens), upstreams_(std::move(upstreams)) {
  const std::pair<std::string_view, std::string_view> prefixes[] = {{"/api/products", "product"},
                                                                    {"/api/users", "user"},
                                                                    {"/api/cart", "cart"},
                                                                    {"/api/orders", "order"}};
  for (const auto& [prefix, name] : prefixes) {
    auto& upstream = *upstreams_.at(std::string(name));
    router.add_prefix(prefix, [this, &upstream, name = name](http::Request& req) {
      return proxy(upstream, name, req);
    });
  }
}

http::Response Gateway::proxy(http::Client& upstream, std::string_view name, http::Request& req) {
  // Verify at the edge on protected routes (services verify again). Open
  // routes (login, refresh, catalog reads) pass whatever token they carry,
  // so a client holding an expired token can still refresh it.
  if (requires_auth(req.method, req.path)) {
    auto who = auth::authenticate(req, tokens_);
    if (auto* refused = std::get_if<http::Response>(&who)) {
      return std::move(*refused);
    }
  }
  http::CallOptions opts;
  opts.request_id = req.request_id;
  for (auto h : kForwardedRequestHeaders) {
    if (auto v = req.headers.get(h)) {
      opts.headers.set(h, *v);
    }
  }
  const auto ip = req.remote.substr(0, req.remote.rfind(':'));
  if (auto xff = req.headers.get("X-Forwarded-For")) {
    opts.headers.set("X-Forwarded-For", std::string(*xff) + ", " + ip);
  } else {
    opts.headers.set("X-Forwarded-For", ip);
  }
  auto result = upstream.call(req.method, req.target, req.body, opts);
  if (!result.has_value()) {
    const bool timeout = result.error().code == http::ClientErrc::timeout;
    auto res = http::problem(timeout ? 504 : 503,
                             std::string("The ") + std::string(name) + " service is " +
                                 (timeout ? "not answering in time" : "unavailable"));
    res.headers.set("Retry-After", "1");
    return res;
  }
  http::Response out;
  out.status = result->status;
  out.body = std::move(result->body);
  for (const auto& [k, v] : result->headers.fields()) {
    if (!hop_by_hop(k)) {
      out.headers.add(k, v);
    }
  }
  return out;
}

}  // namespace emporium::gateway
