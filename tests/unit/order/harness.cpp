#include "harness.hpp"

namespace emporium::order::testing {

namespace json = boost::json;

Shop::Shop()
    : tasks(store, products, carts,
            metrics.counter("order_tasks", "Order tasks.", {"kind", "outcome"})),
      handlers(store, products, carts, tasks,
               Handlers::Hooks{.orders_placed = metrics.counter("orders", "Orders.").with({}),
                               .events_written = [this] { ++events_written; }}) {
  products.add("mug", {.name = "Mug", .price_cents = 999, .stock = 5});
  products.add("lamp", {.name = "Lamp", .price_cents = 2500, .stock = 2});
}

http::Response Shop::place(const auth::Identity& who, const std::string& body,
                           const std::string& idempotency_key) {
  http::Request req;
  req.method = "POST";
  req.body = body;
  req.request_id = "test-request";
  if (!idempotency_key.empty()) {
    req.headers.set("Idempotency-Key", idempotency_key);
  }
  auto handler = http::with_body<PlaceOrder>(
      read_place_order, [this](http::Request& r, const auth::Identity& w, PlaceOrder in) {
        return handlers.place(r, w, std::move(in));
      });
  return handler(req, who);
}

http::Response Shop::place_for(const auth::Identity& who, const std::string& idempotency_key) {
  return place(who, order_body(who.subject), idempotency_key);
}

http::Response Shop::get(const auth::Identity& who, const std::string& id) {
  http::Request req;
  req.params = {{"id", id}};
  return handlers.get(req, who);
}

http::Response Shop::list(const auth::Identity& who, const std::string& user_id) {
  http::Request req;
  if (!user_id.empty()) {
    req.query = {{"userId", user_id}};
  }
  return handlers.list(req, who);
}

http::Response Shop::set_status(const std::string& id, const std::string& body) {
  http::Request req;
  req.params = {{"id", id}};
  req.body = body;
  auto handler = http::with_body<Status>(
      read_status_change, [this](http::Request& r, const auth::Identity&, Status to) {
        return handlers.set_status(r, to);
      });
  return handler(req, admin());
}

http::Response Shop::cancel(const auth::Identity& who, const std::string& id) {
  http::Request req;
  req.params = {{"id", id}};
  return handlers.cancel(req, who);
}

auth::Identity customer(const std::string& id) {
  return auth::Identity{.subject = id, .role = "customer", .jti = "j-" + id};
}

auth::Identity admin() {
  return auth::Identity{.subject = "root", .role = std::string(auth::kRoleAdmin), .jti = "j-root"};
}

std::string order_body(const std::string& user_id) {
  return http::dump(json::object{{"userId", user_id},
                                 {"shippingAddress", json::object{{"street", " 1 Main St "},
                                                                  {"city", "Springfield"},
                                                                  {"state", "IL"},
                                                                  {"zipCode", "62701"},
                                                                  {"country", "US"}}}});
}

json::object body_of(const http::Response& res) {
  return json::parse(res.body).as_object();
}

}  // namespace emporium::order::testing
