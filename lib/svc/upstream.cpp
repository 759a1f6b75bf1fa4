#include "svc/upstream.hpp"

namespace emporium::svc {

boost::asio::awaitable<http::ClientResult> Upstream::async_call(std::string_view method,
                                                                std::string_view target,
                                                                std::string_view body,
                                                                const http::CallOptions& options) {
  co_return call(method, target, body, options);
}

http::ClientResult LocalUpstream::call(std::string_view method, std::string_view target,
                                       std::string_view body, const http::CallOptions& options) {
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.remote = "in-process";
  req.headers = options.headers;
  if (!options.request_id.empty()) {
    req.headers.set("X-Request-Id", options.request_id);
  }
  if (!body.empty()) {
    req.headers.set("Content-Type", "application/json");
  }
  req.body = std::string(body);
  http::Router::Match match;
  if (!http::parse_target(req.target, req)) {
    match.status = 400;
  } else {
    match = router_.match(req.method, req.path);
  }
  return pipeline_.handle(req, match);
}

}  // namespace emporium::svc
