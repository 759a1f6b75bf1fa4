#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string_view>

#include "http/async_client.hpp"
#include "http/client.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"

namespace emporium::svc {

// How one service reaches another: over HTTP in the split shape, or by
// dispatching to the in-process router in the all-in-one shape. Both go
// through the same handlers and the same middleware.
class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual http::ClientResult call(std::string_view method, std::string_view target,
                                  std::string_view body, const http::CallOptions& options) = 0;
  // The same call from a coroutine; co_await it at once (the arguments are
  // read until it completes). By default the blocking call, on the caller's
  // thread: only AsyncHttpUpstream does not block.
  virtual boost::asio::awaitable<http::ClientResult> async_call(std::string_view method,
                                                                std::string_view target,
                                                                std::string_view body,
                                                                const http::CallOptions& options);
};

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(http::ClientOptions options, obs::Registry* metrics)
      : client_(std::move(options), metrics) {}
  http::ClientResult call(std::string_view method, std::string_view target, std::string_view body,
                          const http::CallOptions& options) override {
    return client_.call(method, target, body, options);
  }

 private:
  http::Client client_;
};

// Over HTTP without blocking: async_call() runs on the caller's I/O thread
// with a keep-alive pool per I/O thread (http::AsyncClient). call() works
// too, on a private event loop and a new connection each time.
class AsyncHttpUpstream final : public Upstream {
 public:
  AsyncHttpUpstream(http::ClientOptions options, obs::Registry* metrics)
      : client_(std::move(options), metrics) {}
  http::ClientResult call(std::string_view method, std::string_view target, std::string_view body,
                          const http::CallOptions& options) override {
    return client_.call_blocking(method, target, body, options);
  }
  boost::asio::awaitable<http::ClientResult> async_call(std::string_view method,
                                                        std::string_view target,
                                                        std::string_view body,
                                                        const http::CallOptions& options) override {
    return client_.call(method, target, body, options);
  }

 private:
  http::AsyncClient client_;
};

class LocalUpstream final : public Upstream {
 public:
  LocalUpstream(const http::Router& router, const http::Pipeline& pipeline)
      : router_(router), pipeline_(pipeline) {}
  http::ClientResult call(std::string_view method, std::string_view target, std::string_view body,
                          const http::CallOptions& options) override;

 private:
  const http::Router& router_;
  const http::Pipeline& pipeline_;
};

}  // namespace emporium::svc
