#include "gateway/handlers.hpp"

#include "gateway/domain.hpp"
#include "gateway/errors.hpp"

namespace emporium::gateway {

namespace {

constexpr std::string_view kForwardedRequestHeaders[] = {
    "Authorization", "Cookie", "Content-Type", "Accept", "Idempotency-Key", "Origin", "User-Agent"};

http::CallOptions forwarded(const http::Request& req) {
  http::CallOptions opts;
  opts.request_id = req.request_id;
  for (auto h : kForwardedRequestHeaders) {
    if (auto v = req.headers.get(h)) {
      opts.headers.set(h, *v);
    }
  }
  if (auto host = req.headers.get("Host")) {
    opts.headers.set("X-Forwarded-Host", *host);  // the origin cookie writes are checked against
  }
  const auto ip = req.remote.substr(0, req.remote.rfind(':'));
  if (auto xff = req.headers.get("X-Forwarded-For")) {
    opts.headers.set("X-Forwarded-For", std::string(*xff) + ", " + ip);
  } else {
    opts.headers.set("X-Forwarded-For", ip);
  }
  return opts;
}

}  // namespace

const http::ErrorSpec& spec(Error code) noexcept {
  static constexpr http::ErrorSpec kUnavailable{503, {}, "unavailable"};
  static constexpr http::ErrorSpec kTimeout{504, {}, "not answering in time"};
  return code == Error::upstream_timeout ? kTimeout : kUnavailable;
}

std::optional<http::Response> Proxy::refuse(const http::Request& req) const {
  // Verify at the edge on protected routes (services verify again). Open
  // routes (login, refresh, catalog reads) pass whatever token they carry,
  // so a client holding an expired token can still refresh it.
  if (requires_auth(req.method, req.path)) {
    auto who = auth::authenticate(req, tokens_);
    if (!who) {
      return auth::unauthorized(who.error());
    }
  }
  return std::nullopt;
}

http::Response Proxy::answer(http::ClientResult result) const {
  if (!result.has_value()) {
    const auto code = result.error().code == http::ClientErrc::timeout
                          ? Error::upstream_timeout
                          : Error::upstream_unavailable;
    auto res = http::problem(http::Failure<Error>{
        .code = code, .detail = "The " + name_ + " service is " + std::string(spec(code).error)});
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

http::Response Proxy::operator()(http::Request& req) const {
  if (auto refused = refuse(req)) {
    return std::move(*refused);
  }
  return answer(upstream_.call(req.method, req.target, req.body, forwarded(req)));
}

boost::asio::awaitable<http::Response> Proxy::serve(http::Request& req) const {
  if (auto refused = refuse(req)) {
    co_return std::move(*refused);
  }
  const auto options = forwarded(req);
  co_return answer(co_await upstream_.async_call(req.method, req.target, req.body, options));
}

}  // namespace emporium::gateway
