#include "gateway/service.hpp"

#include "gateway/handlers.hpp"

namespace emporium::gateway {

namespace {

class GatewayService final : public Service {
 public:
  explicit GatewayService(ServiceContext& ctx) {
    const std::pair<std::string_view, std::string_view> prefixes[] = {{"/api/products", "product"},
                                                                      {"/api/users", "user"},
                                                                      {"/api/cart", "cart"},
                                                                      {"/api/orders", "order"}};
    for (const auto& [prefix, name] : prefixes) {
      ctx.routes.add_edge_prefix(prefix, Proxy(std::string(name), ctx.upstream(name), ctx.tokens));
    }
  }
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
