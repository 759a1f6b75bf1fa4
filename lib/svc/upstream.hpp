#pragma once

#include <memory>
#include <string_view>

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
