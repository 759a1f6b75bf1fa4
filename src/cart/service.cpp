#include "cart/service.hpp"

#include "cart/handlers.hpp"
#include "cart/pruning.hpp"
#include "cart/store.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "svc/clients.hpp"

namespace emporium::cart {

using http::Request;

namespace {

// How often old checkouts are pruned (cart_checkout_retention says which).
constexpr std::chrono::hours kPruneInterval{1};

// The catalog as the product service's internal lookup.
class ProductCatalog final : public Catalog {
 public:
  ProductCatalog(svc::Upstream& upstream, const auth::Tokens& tokens)
      : api_(upstream, tokens, "cart") {}
  std::map<std::string, svc::ProductSummary> lookup(const std::vector<std::string>& ids,
                                                    const std::string& request_id) override {
    return api_.lookup(ids, request_id);
  }

 private:
  svc::ProductApi api_;
};

class CartService final : public Service {
 public:
  explicit CartService(ServiceContext& ctx)
      : store_(ctx.database()),
        catalog_(ctx.upstream("product"), ctx.tokens),
        handlers_(store_, catalog_, core::now_iso8601),
        pruning_(store_, ctx.config.duration("cart_checkout_retention")),
        pruner_(pruning_, kPruneInterval) {
    const auto& t = ctx.tokens;
    auto& h = handlers_;
    auto& r = ctx.routes;
    r.add_public("GET", "/api/cart/{userId}",
                 cart_owner(t, [&h](Request& q, const std::string& u) { return h.view(q, u); }));
    r.add_public(
        "POST", "/api/cart/{userId}/items",
        cart_owner(t, http::with_body<AddItem>(read_add_item,
                                               [&h](Request& q, const std::string& u, AddItem in) {
                                                 return h.add(q, u, std::move(in));
                                               })));
    r.add_public(
        "PUT", "/api/cart/{userId}/items/{productId}",
        cart_owner(t, http::with_body<SetQuantity>(
                          read_set_quantity, [&h](Request& q, const std::string& u,
                                                  SetQuantity in) { return h.set(q, u, in); })));
    r.add_public("DELETE", "/api/cart/{userId}/items/{productId}",
                 cart_owner(t, [&h](Request& q, const std::string& u) { return h.remove(q, u); }));
    r.add_public("DELETE", "/api/cart/{userId}",
                 cart_owner(t, [&h](Request& q, const std::string& u) { return h.clear(q, u); }));
    r.add_internal("GET", "/internal/carts/{userId}",
                   service_only(t, [&h](Request& q) { return h.internal_items(q); }));
    r.add_internal("DELETE", "/internal/carts/{userId}",
                   service_only(t, [&h](Request& q) { return h.internal_clear(q); }));
    r.add_internal("POST", "/internal/carts/{userId}/checkouts",
                   service_only(t, http::with_body<Checkout>(read_checkout,
                                                             [&h](Request& q, const Checkout& in) {
                                                               return h.internal_checkout(q, in);
                                                             })));
  }

 private:
  SqlStore store_;
  ProductCatalog catalog_;
  Handlers handlers_;
  CheckoutPruning pruning_;
  CheckoutPruner pruner_;  // last: stopped first, before the store it uses
};

std::vector<db::Migration> migrations() {
  return db::migrations_from(embedded::cart_migrations());
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<CartService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "cart",
                               .default_listen = "0.0.0.0:3003",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = false};
  return m;
}

}  // namespace emporium::cart
