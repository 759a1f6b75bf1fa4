#include "order/service.hpp"

#include <algorithm>

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "http/json.hpp"
#include "order/domain.hpp"
#include "order/handlers.hpp"
#include "order/peers.hpp"
#include "order/store.hpp"
#include "order/tasks.hpp"
#include "svc/clients.hpp"

namespace emporium::order {

using http::Request;

namespace {

// The product service through its internal API.
class ProductPeer final : public Products {
 public:
  ProductPeer(svc::Upstream& upstream, const auth::Tokens& tokens)
      : api_(upstream, tokens, "order") {}
  std::variant<std::vector<svc::ReservedLine>, svc::Shortage> reserve(
      const std::string& order_id, const std::vector<svc::Line>& lines,
      const std::string& request_id) override {
    return api_.reserve(order_id, lines, request_id);
  }
  void release(const std::string& order_id, const std::string& request_id) override {
    api_.release(order_id, request_id);
  }

 private:
  svc::ProductApi api_;
};

// The cart service through its internal API.
class CartPeer final : public Carts {
 public:
  CartPeer(svc::Upstream& upstream, const auth::Tokens& tokens) : api_(upstream, tokens, "order") {}
  std::vector<svc::Line> items(const std::string& user_id, const std::string& request_id) override {
    return api_.items(user_id, request_id);
  }
  void clear(const std::string& user_id, const std::string& request_id) override {
    api_.clear(user_id, request_id);
  }
  void remove_bought(const std::string& user_id, const std::string& order_id,
                     const std::vector<svc::Line>& lines, const std::string& request_id) override {
    api_.remove_bought(user_id, order_id, lines, request_id);
  }

 private:
  svc::CartApi api_;
};

class OrderService final : public Service {
 public:
  explicit OrderService(ServiceContext& ctx)
      : store_(ctx.database()),
        products_(ctx.upstream("product"), ctx.tokens),
        carts_(ctx.upstream("cart"), ctx.tokens),
        tasks_(store_, products_, carts_,
               ctx.metrics.counter("emporium_order_tasks_total",
                                   "Follow-up tasks run by the order service, by kind and outcome.",
                                   {"kind", "outcome"})),
        handlers_(
            store_, products_, carts_, tasks_,
            Handlers::Hooks{
                .orders_placed =
                    ctx.metrics.counter("emporium_orders_placed_total", "Orders placed.").with({}),
                .events_written = ctx.events_written}),
        runner_(tasks_, ctx.config.duration("task_interval")) {
    add_routes(ctx.routes, ctx.tokens);
  }

 private:
  void add_routes(Routes& r, const auth::Tokens& tokens) {
    r.add_public(
        "POST", "/api/orders",
        signed_in(tokens, http::with_body<PlaceOrder>(
                              read_place_order,
                              [this](Request& req, const auth::Identity& who, PlaceOrder in) {
                                return handlers_.place(req, who, std::move(in));
                              })));
    r.add_public("GET", "/api/orders",
                 signed_in(tokens, [this](Request& req, const auth::Identity& who) {
                   return handlers_.list(req, who);
                 }));
    r.add_public("GET", "/api/orders/{id}",
                 signed_in(tokens, [this](Request& req, const auth::Identity& who) {
                   return handlers_.get(req, who);
                 }));
    r.add_public("PUT", "/api/orders/{id}/status",
                 admin_only(tokens, http::with_body<Status>(
                                        read_status_change,
                                        [this](Request& req, const auth::Identity&, Status to) {
                                          return handlers_.set_status(req, to);
                                        })));
    r.add_public("DELETE", "/api/orders/{id}",
                 signed_in(tokens, [this](Request& req, const auth::Identity& who) {
                   return handlers_.cancel(req, who);
                 }));
  }

  SqlStore store_;
  ProductPeer products_;
  CartPeer carts_;
  Tasks tasks_;
  Handlers handlers_;
  TaskRunner runner_;  // last: stopped first, before what its tasks use
};

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::order_migrations());
  m.push_back(bus::outbox_migration(2));
  std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return m;
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<OrderService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "order",
                               .default_listen = "0.0.0.0:3004",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = true};
  return m;
}

}  // namespace emporium::order
