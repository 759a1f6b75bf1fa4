#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace emporium::http {

struct CorsPolicy {
  // Allowed origins ("https://shop.example"), or "*" for any. Empty: CORS off.
  std::vector<std::string> origins;
};

// The middleware every request passes through, in this order: request id,
// metrics and access log, CORS preflight, routing (404/405), the exception
// guard around the handler, then security and CORS headers on the way out.
// Socket-free, so it is tested without a server.
class Pipeline {
 public:
  Pipeline(CorsPolicy cors, obs::Registry& metrics);

  // Produces the response for `req` given the router's `match`. Never throws:
  // an exception escaping the handler becomes a 500 problem that names only
  // the request id, and the exception text goes to the error log.
  Response handle(Request& req, const Router::Match& match) const noexcept;

  // Answers `req` with the matched route's RouteOptions::fast handler,
  // through the same middleware as handle() (same headers, metrics and
  // access log). Nothing when the route has none or it declined: then
  // nothing was counted or logged, and handle() is to answer. Never throws.
  std::optional<Response> handle_fast(Request& req, const Router::Match& match) const noexcept;

 private:
  using Clock = std::chrono::steady_clock;

  // The middleware around `produce` (a callable returning an optional
  // response); an empty result passes through untouched and uncounted.
  template <class Produce>
  std::optional<Response> run(Request& req, const Router::Match& match,
                              Produce&& produce) const noexcept;
  Response dispatch(Request& req, const Router::Match& match) const;
  std::optional<Response> dispatch_fast(Request& req, const Router::Match& match) const;
  void decorate(const Request& req, Response& res) const;
  // Metrics and the access-log line of one answered request.
  void observe(const Request& req, const Router::Match& match, const Response& res,
               Clock::time_point start) const;

  const std::uint64_t id_;  // tells apart pipelines in per-thread caches
  CorsPolicy cors_;
  obs::Family<obs::Counter>& requests_;
  obs::Family<obs::Histogram>& latency_;
  obs::Gauge& in_flight_;
};

// Returns `candidate` when it is an acceptable client-supplied request id
// (1-128 characters of [A-Za-z0-9._:-]), otherwise a fresh random id.
std::string request_id_from(std::string_view candidate);

}  // namespace emporium::http
