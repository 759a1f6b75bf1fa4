#include "gateway/service.hpp"

#include "gateway/handlers.hpp"

namespace emporium::gateway {

namespace {

// The edge always reaches the services over HTTP, through clients of its
// own: their circuit breakers open for the gateway's traffic alone, not for
// the calls services make to each other.
class GatewayService final : public Service {
 public:
  explicit GatewayService(ServiceContext& ctx) {
    const std::pair<std::string_view, std::string_view> prefixes[] = {{"/api/products", "product"},
                                                                      {"/api/users", "user"},
                                                                      {"/api/cart", "cart"},
                                                                      {"/api/orders", "order"}};
    for (const auto& [prefix, name] : prefixes) {
      auto& upstream = *upstreams_.emplace_back(
          std::make_unique<svc::HttpUpstream>(upstream_options(ctx.config, name), &ctx.metrics));
      ctx.routes.add_edge_prefix(prefix, Proxy(std::string(name), upstream, ctx.tokens));
    }
  }

 private:
  std::vector<std::unique_ptr<svc::HttpUpstream>> upstreams_;
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
