#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
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

// Admits a request before it is handled (the edge's rate limits), or answers
// it (a 429). Fields put in `extra` are added to the answer either way.
// `on_pool` is true when the request's handler runs on the blocking pool, so
// the gate may wait briefly on the network; false on an I/O thread.
using Gate =
    std::function<std::optional<Response>(const Request& req, bool on_pool, Headers& extra)>;

// The middleware every request passes through, in this order: request id,
// metrics and access log, the gate (when set), CORS preflight, routing
// (404/405), the exception guard around the handler, then security and CORS
// headers on the way out.
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

  // As handle() for a route with an asynchronous handler
  // (RouteOptions::async), which it co_awaits on the caller's executor; the
  // gate is asked as on an I/O thread.
  boost::asio::awaitable<Response> handle_async(Request& req, const Router::Match& match) const;

  // Installs the gate; call before serving.
  void set_gate(Gate gate) { gate_ = std::move(gate); }

 private:
  using Clock = std::chrono::steady_clock;

  // The middleware around `produce` (a callable returning an optional
  // response); an empty result passes through untouched and uncounted. A
  // `fast` answer is admitted by the gate after it is produced, any other
  // before.
  template <class Produce>
  std::optional<Response> run(Request& req, const Router::Match& match, bool fast,
                              Produce&& produce) const noexcept;
  // The answer when the handler is not to run (CORS preflight, 400, 404,
  // 405); otherwise sets the request's route and parameters, and nullopt.
  std::optional<Response> answer_without_handler(Request& req, const Router::Match& match) const;
  // The exception guard: the answer for an exception the handler threw.
  static Response failure(const Request& req, const std::exception_ptr& thrown);
  Response dispatch(Request& req, const Router::Match& match) const;
  std::optional<Response> dispatch_fast(Request& req, const Router::Match& match) const;
  void decorate(const Request& req, Response& res) const;
  // The gate's fields, then the security and CORS headers, on the answer.
  void complete(const Request& req, Response& res, const Headers& extra) const;
  // observe(), which must never fail the request.
  void record(const Request& req, const Router::Match& match, const Response& res,
              Clock::time_point start) const noexcept;
  // Metrics and the access-log line of one answered request.
  void observe(const Request& req, const Router::Match& match, const Response& res,
               Clock::time_point start) const;

  const std::uint64_t id_;  // tells apart pipelines in per-thread caches
  CorsPolicy cors_;
  Gate gate_;
  obs::Family<obs::Counter>& requests_;
  obs::Family<obs::Histogram>& latency_;
  obs::Gauge& in_flight_;
};

// Returns `candidate` when it is an acceptable client-supplied request id
// (1-128 characters of [A-Za-z0-9._:-]), otherwise a fresh random id.
std::string request_id_from(std::string_view candidate);

}  // namespace emporium::http
