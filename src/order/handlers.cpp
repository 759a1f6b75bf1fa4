#include "order/handlers.hpp"

#include <boost/json.hpp>
#include <utility>

#include "bus/event.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"

namespace emporium::order {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

// An order as the API shows it.
json::object order_json(const Order& o) {
  json::array items;
  for (const auto& i : o.items) {
    items.push_back(json::object{{"productId", i.product_id},
                                 {"productName", i.product_name},
                                 {"quantity", i.quantity},
                                 {"price", http::money(i.price_cents)},
                                 {"subtotal", http::money(i.price_cents * i.quantity)}});
  }
  return json::object{{"id", o.id},
                      {"_id", o.id},
                      {"userId", o.user_id},
                      {"items", std::move(items)},
                      {"total", http::money(o.total_cents)},
                      {"currency", o.currency},
                      {"status", to_string(o.status)},
                      {"shippingAddress", json::parse(o.shipping_address)},
                      {"createdAt", o.created_at},
                      {"updatedAt", o.updated_at}};
}

// The Idempotency-Key header, if sent: 1 to 200 characters.
core::Result<std::optional<std::string>, Failure> idempotency_key(const Request& req) {
  auto k = req.headers.get("Idempotency-Key");
  if (!k) {
    return std::optional<std::string>();
  }
  if (k->empty() || k->size() > 200) {
    return core::fail(Failure{.code = Error::bad_idempotency_key});
  }
  return std::optional<std::string>(std::string(*k));
}

std::string shortage_message(const svc::Shortage& s) {
  if (s.name.empty()) {
    return "Product " + s.product_id + " is no longer available";
  }
  return "Insufficient stock for " + s.name + ": " + std::to_string(s.available) + " available, " +
         std::to_string(s.requested) + " requested";
}

// A new order of `user_id` for the reserved `lines`, as it will be stored.
Order priced(std::string id, std::string user_id, const Address& address,
             const std::vector<svc::ReservedLine>& lines, const std::string& now) {
  Order o{.id = std::move(id),
          .user_id = std::move(user_id),
          .status = Status::pending,
          .total_cents = 0,
          .currency = lines.empty() ? std::string(kDefaultCurrency) : lines.front().currency,
          .shipping_address = http::dump(address_json(address)),
          .created_at = now,
          .updated_at = now,
          .items = {}};
  for (const auto& l : lines) {
    o.items.push_back(Item{l.product_id, l.name, l.quantity, l.price_cents});
  }
  o.total_cents = total_cents(o.items);
  return o;
}

bus::Event placed_event(const Order& o) {
  json::array items;
  for (const auto& i : o.items) {
    items.push_back(json::object{{"product_id", i.product_id},
                                 {"product_name", i.product_name},
                                 {"quantity", i.quantity},
                                 {"price_cents", i.price_cents}});
  }
  return bus::make_event(bus::types::order_placed,
                         http::dump(json::object{{"order_id", o.id},
                                                 {"user_id", o.user_id},
                                                 {"total_cents", o.total_cents},
                                                 {"currency", o.currency},
                                                 {"items", std::move(items)}}));
}

bus::Event status_event(const Order& o, Status to) {
  if (to == Status::cancelled) {
    return bus::make_event(bus::types::order_cancelled,
                           http::dump(json::object{{"order_id", o.id}, {"user_id", o.user_id}}));
  }
  return bus::make_event(bus::types::order_status_changed,
                         http::dump(json::object{{"order_id", o.id},
                                                 {"user_id", o.user_id},
                                                 {"from", to_string(o.status)},
                                                 {"to", to_string(to)}}));
}

// What moving `current` to `to` writes, or why it may not move: only its
// owner (or an admin) when `owner` is set, and only as the life cycle allows.
core::Result<StatusChange, Failure> decide_change(const Order& current, Status to,
                                                  const auth::Identity* owner,
                                                  const Task& release) {
  if (owner != nullptr && !owner->may_act_for(current.user_id)) {
    return core::fail(Failure{.code = Error::order_forbidden});
  }
  if (!transition_allowed(current.status, to)) {
    return core::fail(Failure{.code = Error::transition_refused,
                              .detail = "Cannot change an order from " +
                                        std::string(to_string(current.status)) + " to " +
                                        std::string(to_string(to))});
  }
  StatusChange change{.to = to,
                      .at = core::now_iso8601(),
                      .task = std::nullopt,
                      .event = status_event(current, to)};
  if (releases_stock(to)) {
    change.task = ScheduledTask{release, core::unix_seconds() + kInlineGrace};
  }
  return change;
}

}  // namespace

Response Handlers::place(const Request& req, const auth::Identity& who, PlaceOrder in) {
  if (!who.may_act_for(in.user_id)) {
    return problem(Failure{.code = Error::foreign_user});
  }
  if (!in.address) {
    return http::problem(in.address.error());
  }
  const auto key = idempotency_key(req);
  if (!key) {
    return problem(key.error());
  }
  if (auto earlier = replay(in.user_id, *key)) {
    return std::move(*earlier);
  }
  const auto cart = carts_.items(in.user_id, req.request_id);
  if (cart.empty()) {
    return problem(Failure{.code = Error::cart_empty});
  }
  const std::string order_id = core::new_id();
  const auto reserved = reserve(order_id, cart, req.request_id);
  if (!reserved) {
    return problem(reserved.error());
  }
  const Order order =
      priced(order_id, in.user_id, *in.address, reserved->lines, core::now_iso8601());
  const Task take_from_cart{core::new_id(), TaskKind::remove_bought, order_id};
  const auto stored = store(order, *key, reserved->insurance, take_from_cart, req.request_id);
  if (!stored) {
    return not_stored(stored.error(), order, *key, req);
  }
  return placed(order, take_from_cart, req);
}

Response Handlers::not_stored(PlaceConflict why, const Order& order,
                              const std::optional<std::string>& key, const Request& req) {
  if (why == PlaceConflict::duplicate) {
    // A concurrent request with the same key won the race.
    if (auto earlier = replay(order.user_id, key)) {
      return std::move(*earlier);
    }
    throw core::Error("order " + order.id + " refused by a database constraint", false);
  }
  obs::warn("stock reservation expired before the order was stored",
            {{"order_id", order.id}, {"request_id", req.request_id}});
  return problem(Failure{.code = Error::reservation_expired});
}

Response Handlers::placed(const Order& order, const Task& take_from_cart, const Request& req) {
  hooks_.events_written();
  hooks_.orders_placed.inc();
  obs::info("order placed", {{"order_id", order.id},
                             {"user_id", order.user_id},
                             {"total_cents", order.total_cents},
                             {"request_id", req.request_id}});
  // Take what it bought out of the cart now; the runner retries if this fails.
  tasks_.attempt(take_from_cart, 0, &order);
  // Answer from what was just stored: no read after the commit that could
  // fail and turn a placed order into an error answer.
  auto res = http::json_response(201, order_json(order));
  res.headers.set("Location", "/api/orders/" + order.id);
  return res;
}

std::optional<Response> Handlers::replay(const std::string& user_id,
                                         const std::optional<std::string>& key) {
  if (!key) {
    return std::nullopt;
  }
  auto existing = store_.find_by_key(user_id, *key);
  if (!existing) {
    return std::nullopt;
  }
  auto res = http::json_response(201, order_json(*existing));
  res.headers.set("Idempotent-Replayed", "true");
  return res;
}

core::Result<Handlers::Reservation, Failure> Handlers::reserve(const std::string& order_id,
                                                               const std::vector<svc::Line>& cart,
                                                               const std::string& request_id) {
  // Insurance, written before any stock is taken: if this request dies, or
  // the reservation's answer is lost, between reserving and storing the
  // order, the task runner gives the stock back after the grace period.
  Reservation r{tasks_.schedule(TaskKind::release_stock, order_id, kReservationGrace), {}};
  auto reserved = products_.reserve(order_id, cart, request_id);
  if (const auto* shortage = std::get_if<svc::Shortage>(&reserved)) {
    tasks_.done(r.insurance);  // nothing was reserved
    return core::fail(Failure{.code = Error::out_of_stock, .detail = shortage_message(*shortage)});
  }
  r.lines = std::get<std::vector<svc::ReservedLine>>(std::move(reserved));
  return r;
}

core::Result<void, PlaceConflict> Handlers::store(const Order& order,
                                                  const std::optional<std::string>& key,
                                                  const Task& insurance, const Task& take_from_cart,
                                                  const std::string& request_id) {
  // The first try is made inline after the commit; the runner picks the
  // task up only if that fails (or this process dies before making it).
  const ScheduledTask follow_up{take_from_cart, core::unix_seconds() + kInlineGrace};
  try {
    auto stored = store_.place(order, key, insurance.id, placed_event(order), follow_up);
    // An expired reservation's stock is back already (the insurance ran).
    if (!stored && stored.error() == PlaceConflict::duplicate) {
      tasks_.release_or_schedule(order.id, request_id);
    }
    return stored;
  } catch (const core::Error&) {
    // Not stored: give the stock back (the insurance task covers a failure here).
    tasks_.release_or_schedule(order.id, request_id);
    throw;
  }
}

Response Handlers::list(const Request& req, const auth::Identity& who) {
  std::vector<http::FieldError> errors;
  const auto page = http::page_request(req, errors);
  OrderQuery query;
  if (auto s = req.query_param("status"); s && !s->empty()) {
    query.status = parse_status(*s);
    if (!query.status) {
      errors.push_back(
          {"status", "Must be one of pending, processing, shipped, delivered, cancelled"});
    }
  }
  if (!errors.empty()) {
    return http::query_problem(std::move(errors));
  }
  if (auto u = req.query_param("userId"); u && !u->empty()) {
    query.user_id = std::string(*u);
  } else if (!who.is_admin()) {
    query.user_id = who.subject;
  }
  if (query.user_id && !who.may_act_for(*query.user_id)) {
    return problem(Failure{.code = Error::orders_forbidden});
  }
  const auto found = store_.list(query, page.limit, page.offset());
  json::array orders;
  for (const auto& o : found.orders) {
    orders.push_back(order_json(o));
  }
  auto res = http::json_response(200, std::move(orders));
  http::add_paging_headers(res, req, page, found.total);
  return res;
}

Response Handlers::get(const Request& req, const auth::Identity& who) {
  const auto order = store_.find(std::string(req.param("id")));
  if (!order) {
    return problem(Failure{.code = Error::not_found});
  }
  if (!who.may_act_for(order->user_id)) {
    return problem(Failure{.code = Error::order_forbidden});
  }
  return http::json_response(200, order_json(*order));
}

Response Handlers::set_status(const Request& req, Status to) {
  return transition(std::string(req.param("id")), to, req, nullptr);
}

Response Handlers::cancel(const Request& req, const auth::Identity& who) {
  return transition(std::string(req.param("id")), Status::cancelled, req, &who);
}

// Moves order `id` to `to` if allowed; schedules the stock release in the
// same transaction when cancelling, and tries it at once after the commit.
Response Handlers::transition(const std::string& id, Status to, const Request& req,
                              const auth::Identity* owner) {
  const Task release{core::new_id(), TaskKind::release_stock, id};
  auto changed = store_.change_status(
      id, [&](const Order& current) { return decide_change(current, to, owner, release); });
  if (!changed) {
    return problem(changed.error());
  }
  hooks_.events_written();
  obs::info("order status changed",
            {{"order_id", id}, {"status", to_string(to)}, {"request_id", req.request_id}});
  if (releases_stock(to)) {
    tasks_.attempt(release, 0);
  }
  return http::json_response(200, order_json(*changed));
}

}  // namespace emporium::order
