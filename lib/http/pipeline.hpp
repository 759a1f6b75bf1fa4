#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
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

  // The same for a route with an asynchronous handler (RouteOptions::async),
  // which it co_awaits on the caller's executor.
  boost::asio::awaitable<Response> handle_async(Request& req, const Router::Match& match) const;

 private:
  using Clock = std::chrono::steady_clock;
  // Before the handler: the request id and the in-flight gauge.
  void begin(Request& req) const;
  // The answer when the handler is not to run (CORS preflight, 400, 404,
  // 405); otherwise sets the request's route and parameters, and nullopt.
  std::optional<Response> answer_without_handler(Request& req, const Router::Match& match) const;
  // The exception guard: the answer for an exception the handler threw.
  static Response failure(const Request& req, const std::exception_ptr& thrown);
  // After the handler: the headers on the way out, the gauge, metrics and
  // access log.
  Response finish(const Request& req, const Router::Match& match, Response res,
                  Clock::time_point start) const noexcept;
  Response dispatch(Request& req, const Router::Match& match) const;
  void decorate(const Request& req, Response& res) const;

  CorsPolicy cors_;
  obs::Family<obs::Counter>& requests_;
  obs::Family<obs::Histogram>& latency_;
  obs::Gauge& in_flight_;
};

// Returns `candidate` when it is an acceptable client-supplied request id
// (1-128 characters of [A-Za-z0-9._:-]), otherwise a fresh random id.
std::string request_id_from(std::string_view candidate);

}  // namespace emporium::http
