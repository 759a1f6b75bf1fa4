#include "gateway/service.hpp"

#include "gateway/handlers.hpp"

namespace emporium::gateway {

namespace {

// The edge always reaches the services over HTTP, through clients of its
// own: their circuit breakers open for the gateway's traffic alone, not for
// the calls services make to each other. The clients are asynchronous: a
// proxied request waits for its upstream on the I/O thread that read it,
// holding no thread of the blocking pool. An upstream URL that is not
// http:// (https) is reached with the blocking client on the pool.
class GatewayService final : public Service {
 public:
  explicit GatewayService(ServiceContext& ctx) {
    const std::pair<std::string_view, std::string_view> prefixes[] = {{"/api/products", "product"},
                                                                      {"/api/users", "user"},
                                                                      {"/api/cart", "cart"},
                                                                      {"/api/orders", "order"}};
    for (const auto& [prefix, name] : prefixes) {
      auto options = upstream_options(ctx.config, name);
      if (!options.base_url.starts_with("http://")) {
        auto& upstream = *upstreams_.emplace_back(
            std::make_unique<svc::HttpUpstream>(std::move(options), &ctx.metrics));
        ctx.routes.add_edge_prefix(prefix, Proxy(std::string(name), upstream, ctx.tokens));
        continue;
      }
      auto& upstream = *upstreams_.emplace_back(
          std::make_unique<svc::AsyncHttpUpstream>(std::move(options), &ctx.metrics));
      const Proxy proxy(std::string(name), upstream, ctx.tokens);
      ctx.routes.add_edge_prefix(
          prefix, proxy,
          http::RouteOptions{.blocking = false,
                             .async = [proxy](http::Request& req) { return proxy.serve(req); }});
    }
  }

 private:
  std::vector<std::unique_ptr<svc::Upstream>> upstreams_;
};

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<GatewayService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{
      .name = "gateway", .default_listen = "0.0.0.0:8080", .mount = mount, .in_all = false};
  return m;
}

}  // namespace emporium::gateway
