#include "product/service.hpp"

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "product/cache.hpp"
#include "product/handlers.hpp"
#include "product/seed.hpp"
#include "product/store.hpp"

namespace emporium::product {

namespace {

using auth::Identity;
using http::Request;

// The route table: path -> guard -> body reader -> handler.
void add_routes(Routes& r, const auth::Tokens& tokens, Handlers& h) {
  // Reads answer from the in-process cache on the I/O thread when it holds
  // the body (RouteOptions::fast), else on the blocking pool.
  r.add_public("GET", "/api/products", [&h](Request& req) { return h.list(req); },
               {.fast = [&h](const Request& req) { return h.cached_list(req); }});
  r.add_public("GET", "/api/products/categories", [&h](Request& req) { return h.categories(req); },
               {.fast = [&h](const Request& req) { return h.cached_categories(req); }});
  r.add_public("GET", "/api/products/{id}", [&h](Request& req) { return h.get(req); },
               {.fast = [&h](const Request& req) { return h.cached_get(req); }});
  r.add_public("POST", "/api/products",
               admin_only(tokens, http::with_body<ProductInput>(
                                      read_new_product,
                                      [&h](Request& req, const Identity&, const ProductInput& in) {
                                        return h.create(req, in);
                                      })));
  r.add_public("PUT", "/api/products/{id}",
               admin_only(tokens, http::with_body<ProductInput>(
                                      read_product_replacement,
                                      [&h](Request& req, const Identity&, const ProductInput& in) {
                                        return h.update(req, in);
                                      })));
  r.add_public("PATCH", "/api/products/{id}",
               admin_only(tokens, http::with_body<ProductInput>(
                                      read_product_patch,
                                      [&h](Request& req, const Identity&, const ProductInput& in) {
                                        return h.update(req, in);
                                      })));
  r.add_public("DELETE", "/api/products/{id}",
               admin_only(tokens, [&h](Request& req, const Identity&) { return h.remove(req); }));

  r.add_internal("POST", "/internal/products/lookup",
                 service_only(tokens, http::with_body<LookupInput>(
                                          read_lookup, [&h](Request& req, const LookupInput& in) {
                                            return h.lookup(req, in);
                                          })));
  r.add_internal(
      "POST", "/internal/stock/reservations",
      service_only(tokens, http::with_body<ReservationInput>(
                               read_reservation, [&h](Request& req, ReservationInput in) {
                                 return h.reserve(req, std::move(in));
                               })));
  r.add_internal("DELETE", "/internal/stock/reservations/{orderId}",
                 service_only(tokens, [&h](Request& req) { return h.release(req); }));
}

class ProductService final : public Service {
 public:
  explicit ProductService(ServiceContext& ctx)
      : store_(ctx.database()),
        cache_(ctx.config, ctx.metrics),
        handlers_(store_, cache_, ctx.events_written) {
    add_routes(ctx.routes, ctx.tokens, handlers_);
    if (ctx.config.boolean("demo_catalog")) {
      if (const int added = load_demo_catalog(store_); added > 0) {
        obs::info("demo catalog loaded", {{"products", static_cast<std::int64_t>(added)}});
      }
    }
    // Entries a shared cache may hold from an earlier life of this catalog
    // (list pages; by-id entries expire after cache_ttl) are not trusted.
    cache_.invalidate({});
  }

 private:
  SqlStore store_;
  ProductCache cache_;
  Handlers handlers_;
};

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::product_migrations());
  m.push_back(bus::outbox_migration(3));
  return m;
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<ProductService>(ctx);
}

// `emporium seed`: the demo catalog into an empty product database.
int seed(db::Database& database) {
  SqlStore store(database);
  return load_demo_catalog(store);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "product",
                               .default_listen = "0.0.0.0:3001",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = true,
                               .seed = seed};
  return m;
}

}  // namespace emporium::product
