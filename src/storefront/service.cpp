#include "storefront/service.hpp"

#include "common/embedded.hpp"
#include "obs/log.hpp"
#include "storefront/handlers.hpp"

namespace emporium::storefront {

namespace {

const Assets& built() {
  static const Assets assets(embedded::storefront_assets());
  return assets;
}

class StorefrontService final : public Service {
 public:
  explicit StorefrontService(ServiceContext& ctx) : handlers_(built()) {
    if (built().empty()) {
      obs::warn("storefront not built into this binary (scripts/web.sh); / answers 404", {});
    }
    ctx.routes.add_edge_prefix(
        "/", [this](http::Request& req) { return handlers_.serve(req); },
        http::RouteOptions{.blocking = false});
  }

 private:
  Handlers handlers_;
};

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<StorefrontService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "storefront",
                               .default_listen = "0.0.0.0:8080",
                               .mount = mount,
                               .with_gateway = true,
                               .switch_setting = "storefront"};
  return m;
}

}  // namespace emporium::storefront
