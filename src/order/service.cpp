#include "order/service.hpp"

#include <boost/json.hpp>
#include <condition_variable>
#include <thread>

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "order/domain.hpp"
#include "svc/clients.hpp"

namespace emporium::order {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view kInsertOrder =
    "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_address, "
    "idempotency_key, created_at, updated_at) VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $7)";
constexpr std::string_view kInsertItem =
    "INSERT INTO order_items (order_id, product_id, product_name, quantity, price_cents) "
    "VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kById =
    "SELECT id, user_id, status, total_cents, currency, shipping_address, created_at, updated_at "
    "FROM orders WHERE id = $1";
constexpr std::string_view kByIdempotencyKey =
    "SELECT id FROM orders WHERE user_id = $1 AND idempotency_key = $2";
constexpr std::string_view kItems =
    "SELECT product_id, product_name, quantity, price_cents FROM order_items WHERE order_id = $1 "
    "ORDER BY product_name, product_id";
constexpr std::string_view kListForUser =
    "SELECT id, user_id, status, total_cents, currency, shipping_address, created_at, updated_at "
    "FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3";
constexpr std::string_view kCountForUser = "SELECT count(*) FROM orders WHERE user_id = $1";
constexpr std::string_view kListAll =
    "SELECT id, user_id, status, total_cents, currency, shipping_address, created_at, updated_at "
    "FROM orders ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
constexpr std::string_view kCountAll = "SELECT count(*) FROM orders";
constexpr std::string_view kSetStatus =
    "UPDATE orders SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2";

constexpr std::string_view kAddTask =
    "INSERT INTO order_tasks (id, kind, subject, next_attempt_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kDueTasks =
    "SELECT id, kind, subject, attempts FROM order_tasks WHERE done_at IS NULL "
    "AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 50";
constexpr std::string_view kTaskDone = "UPDATE order_tasks SET done_at = $2 WHERE id = $1";
constexpr std::string_view kRetireTask =
    "UPDATE order_tasks SET done_at = $2 WHERE id = $1 AND done_at IS NULL";
constexpr std::string_view kTaskFailed =
    "UPDATE order_tasks SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 "
    "WHERE id = $1";

// Seconds before the task runner retries work that a request tries inline first.
constexpr std::int64_t kInlineGrace = 2;
// Seconds a checkout may take between reserving stock and storing its order
// before its reservation is given back.
constexpr std::int64_t kReservationGrace = 60;

json::object item_json(const std::string& product_id, const std::string& name,
                       std::int64_t quantity, std::int64_t price_cents) {
  return json::object{{"productId", product_id},
                      {"productName", name},
                      {"quantity", quantity},
                      {"price", http::money(price_cents)},
                      {"subtotal", http::money(price_cents * quantity)}};
}

// An order as the API shows it.
json::object order_json(const std::string& id, const std::string& user_id, json::array items,
                        std::int64_t total_cents, const std::string& currency,
                        const std::string& status, json::value address,
                        const std::string& created_at, const std::string& updated_at) {
  return json::object{{"id", id},
                      {"userId", user_id},
                      {"items", std::move(items)},
                      {"total", http::money(total_cents)},
                      {"currency", currency},
                      {"status", status},
                      {"shippingAddress", std::move(address)},
                      {"createdAt", created_at},
                      {"updatedAt", updated_at}};
}

struct Task {
  std::string id;
  std::string kind;
  std::string subject;
};

class OrderService final : public Service {
 public:
  explicit OrderService(ServiceContext& ctx)
      : db_(ctx.database()),
        tokens_(ctx.tokens),
        products_(ctx.upstream("product"), ctx.tokens, "order"),
        carts_(ctx.upstream("cart"), ctx.tokens, "order"),
        task_interval_(ctx.config.duration("task_interval")),
        tasks_done_(ctx.metrics.counter(
            "emporium_order_tasks_total",
            "Follow-up tasks run by the order service, by kind and outcome.", {"kind", "outcome"})),
        orders_placed_(
            ctx.metrics.counter("emporium_orders_placed_total", "Orders placed.").with({})),
        events_written_(ctx.events_written) {
    auto& r = ctx.routes;
    r.add_public("POST", "/api/orders",
                 signed_in(tokens_, [this](Request& req, const auth::Identity& who) {
                   return place(req, who);
                 }));
    r.add_public("GET", "/api/orders",
                 signed_in(tokens_, [this](Request& req, const auth::Identity& who) {
                   return list(req, who);
                 }));
    r.add_public("GET", "/api/orders/{id}",
                 signed_in(tokens_, [this](Request& req, const auth::Identity& who) {
                   return get(req, who);
                 }));
    r.add_public("PUT", "/api/orders/{id}/status",
                 admin_only(tokens_, [this](Request& req, const auth::Identity&) {
                   return set_status(req);
                 }));
    r.add_public("DELETE", "/api/orders/{id}",
                 signed_in(tokens_, [this](Request& req, const auth::Identity& who) {
                   return cancel(req, who);
                 }));
    worker_ = std::thread([this] { run_tasks(); });
  }

  ~OrderService() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

 private:
  // ---- reading ---------------------------------------------------------------

  std::optional<json::object> load(db::Connection& c, const std::string& id) {
    auto rows = c.exec(kById, {id}).rows;
    if (rows.empty()) {
      return std::nullopt;
    }
    return render(c, rows[0]);
  }

  json::object render(db::Connection& c, const db::Row& r) {
    json::array items;
    for (const auto& i : c.exec(kItems, {r.text(0)}).rows) {
      items.push_back(item_json(i.text(0), i.text(1), i.integer(2), i.integer(3)));
    }
    return order_json(r.text(0), r.text(1), std::move(items), r.integer(3), r.text(4), r.text(2),
                      json::parse(r.text(5)), r.text(6), r.text(7));
  }

  // ---- placing ---------------------------------------------------------------

  Response place(Request& req, const auth::Identity& who) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    const auto& o = *body;
    http::Fields f(o, {"userId", "shippingAddress"});
    auto user_id = f.string("userId", 1, 64);
    if (!f.ok()) {
      return f.problem();
    }
    if (!who.may_act_for(*user_id)) {
      return http::problem(403, "Cannot place an order for another user");
    }
    // The address: 422 when missing or malformed, with every field named.
    http::Fields a(o, {"userId", "shippingAddress"});
    const auto* addr = a.object("shippingAddress");
    json::object address;
    if (addr != nullptr) {
      http::Fields af(*addr, {"street", "city", "state", "zipCode", "country"});
      for (const char* field : {"street", "city", "state", "zipCode", "country"}) {
        if (auto v = af.string(field, 1, 200)) {
          address[field] = *v;
        }
      }
      for (const auto& e : af.errors()) {
        a.add_error("shippingAddress." + e.field, e.msg);
      }
    }
    if (!a.ok()) {
      return a.problem(422);
    }
    std::optional<std::string> key;
    if (auto k = req.headers.get("Idempotency-Key")) {
      if (k->empty() || k->size() > 200) {
        return http::problem(400, "Idempotency-Key must be 1 to 200 characters");
      }
      key = std::string(*k);
      if (auto existing = find_by_key(*user_id, *key)) {
        auto res = http::json_response(201, *existing);
        res.headers.set("Idempotent-Replayed", "true");
        return res;
      }
    }

    const auto cart = carts_.items(*user_id, req.request_id);
    if (cart.empty()) {
      return http::problem(422, "Cart is empty");
    }
    const std::string order_id = core::new_id();
    // Insurance, written before any stock is taken: if this request dies, or
    // the reservation's answer is lost, between reserving and storing the
    // order, the task runner gives the stock back after the grace period.
    const Task insurance{core::new_id(), "release_stock", order_id};
    {
      auto c = db_.acquire();
      c->exec(kAddTask, {insurance.id, insurance.kind, insurance.subject,
                         core::unix_seconds() + kReservationGrace, core::now_iso8601()});
    }
    auto reserved = products_.reserve(order_id, cart, req.request_id);
    if (auto* shortage = std::get_if<svc::Shortage>(&reserved)) {
      {
        auto c = db_.acquire();  // nothing was reserved
        c->exec(kTaskDone, {insurance.id, core::now_iso8601()});
      }
      auto res =
          http::problem(409, shortage->name.empty()
                                 ? "Product " + shortage->product_id + " is no longer available"
                                 : "Insufficient stock for " + shortage->name + ": " +
                                       std::to_string(shortage->available) + " available, " +
                                       std::to_string(shortage->requested) + " requested");
      return res;
    }
    const auto& lines = std::get<std::vector<svc::ReservedLine>>(reserved);
    std::int64_t total = 0;
    for (const auto& l : lines) {
      total += l.price_cents * l.quantity;
    }
    const std::string currency = lines.empty() ? "USD" : lines.front().currency;
    const auto now = core::now_iso8601();

    const Task clear_task{core::new_id(), "clear_cart", *user_id};
    bool committed = false;
    try {
      auto c = db_.acquire();
      db::Transaction tx(*c, true);
      // Retire the insurance with the order. Should the runner have used it
      // already (a request slower than the grace period), the stock is back
      // on the shelf and this order must not be stored.
      if (c->exec(kRetireTask, {insurance.id, now}).affected != 1) {
        throw core::Error("stock reservation for order " + order_id + " expired", true);
      }
      c->exec(kInsertOrder, {order_id, *user_id, total, currency, http::dump(address),
                             key ? db::Value(*key) : db::Value(nullptr), now});
      json::array event_items;
      for (const auto& l : lines) {
        c->exec(kInsertItem, {order_id, l.product_id, l.name, l.quantity, l.price_cents});
        event_items.push_back(json::object{{"product_id", l.product_id},
                                           {"product_name", l.name},
                                           {"quantity", l.quantity},
                                           {"price_cents", l.price_cents}});
      }
      bus::add_event(*c,
                     bus::make_event(bus::types::order_placed,
                                     http::dump(json::object{{"order_id", order_id},
                                                             {"user_id", *user_id},
                                                             {"total_cents", total},
                                                             {"currency", currency},
                                                             {"items", std::move(event_items)}})));
      // The first try is made inline below; the runner picks the task up
      // only if that fails (or this process dies before making it).
      c->exec(kAddTask, {clear_task.id, clear_task.kind, clear_task.subject,
                         core::unix_seconds() + kInlineGrace, now});
      tx.commit();
      committed = true;
    } catch (const db::DbError& e) {
      if (committed) {
        throw;  // stored: the order stands whatever failed after the commit
      }
      // Not stored: give the stock back (the insurance task covers a failure here).
      release_or_schedule(order_id, req.request_id);
      if (e.kind() == db::ErrorKind::constraint && key) {
        // A concurrent request with the same key won the race.
        if (auto existing = find_by_key(*user_id, *key)) {
          auto res = http::json_response(201, *existing);
          res.headers.set("Idempotent-Replayed", "true");
          return res;
        }
      }
      throw;
    }
    events_written_();
    orders_placed_.inc();
    obs::info("order placed", {{"order_id", order_id},
                               {"user_id", *user_id},
                               {"total_cents", total},
                               {"request_id", req.request_id}});
    attempt(clear_task, 0);  // empty the cart now; the task runner retries if this fails
    // Answer from what was just stored: no read after the commit that could
    // fail and turn a placed order into an error answer.
    json::array items;
    for (const auto& l : lines) {
      items.push_back(item_json(l.product_id, l.name, l.quantity, l.price_cents));
    }
    const auto order = order_json(order_id, *user_id, std::move(items), total, currency, "pending",
                                  address, now, now);
    auto res = http::json_response(201, order);
    res.headers.set("Location", "/api/orders/" + order_id);
    return res;
  }

  std::optional<json::object> find_by_key(const std::string& user_id, const std::string& key) {
    auto c = db_.acquire();
    auto rows = c->exec(kByIdempotencyKey, {user_id, key}).rows;
    if (rows.empty()) {
      return std::nullopt;
    }
    return load(*c, rows[0].text(0));
  }

  // ---- queries ---------------------------------------------------------------

  Response list(const Request& req, const auth::Identity& who) {
    std::vector<http::FieldError> errors;
    const auto page = http::page_request(req, errors);
    if (!errors.empty()) {
      return http::query_problem(std::move(errors));
    }
    std::optional<std::string> user_id;
    if (auto u = req.query_param("userId"); u && !u->empty()) {
      user_id = std::string(*u);
    } else if (!who.is_admin()) {
      user_id = who.subject;
    }
    if (user_id && !who.may_act_for(*user_id)) {
      return http::problem(403, "Access denied to these orders");
    }
    auto c = db_.acquire();
    const auto rows = user_id ? c->exec(kListForUser, {*user_id, page.limit, page.offset()}).rows
                              : c->exec(kListAll, {page.limit, page.offset()}).rows;
    const auto total = user_id ? c->exec(kCountForUser, {*user_id}).rows.at(0).integer(0)
                               : c->exec(kCountAll).rows.at(0).integer(0);
    json::array orders;
    for (const auto& r : rows) {
      orders.push_back(render(*c, r));
    }
    return http::json_response(200, json::object{{"orders", std::move(orders)},
                                                 {"pagination", http::pagination(page, total)}});
  }

  Response get(const Request& req, const auth::Identity& who) {
    auto c = db_.acquire();
    auto order = load(*c, std::string(req.param("id")));
    if (!order) {
      return http::problem(404, "Order not found");
    }
    if (!who.may_act_for(order->at("userId").as_string())) {
      return http::problem(403, "Access denied to this order");
    }
    return http::json_response(200, *order);
  }

  // ---- status changes --------------------------------------------------------

  // Moves `id` from its current status to `to` if allowed; schedules the
  // stock release in the same transaction when cancelling.
  Response transition(const std::string& id, const std::string& to, const Request& req,
                      const auth::Identity* owner_check) {
    json::object order;
    const Task release_task{core::new_id(), "release_stock", id};
    {
      auto c = db_.acquire();
      db::Transaction tx(*c, true);
      auto current = load(*c, id);
      if (!current) {
        return http::problem(404, "Order not found");
      }
      if (owner_check != nullptr && !owner_check->may_act_for(current->at("userId").as_string())) {
        return http::problem(403, "Access denied to this order");
      }
      const std::string from(current->at("status").as_string());
      if (!transition_allowed(from, to)) {
        return http::problem(409, "Cannot change an order from " + from + " to " + to);
      }
      const auto now = core::now_iso8601();
      if (c->exec(kSetStatus, {id, from, to, now}).affected != 1) {
        return http::problem(409, "Order changed concurrently; try again");
      }
      if (releases_stock(to)) {
        c->exec(kAddTask, {release_task.id, release_task.kind, release_task.subject,
                           core::unix_seconds() + kInlineGrace, now});
      }
      const std::string user_id(current->at("userId").as_string());
      if (to == "cancelled") {
        bus::add_event(
            *c, bus::make_event(bus::types::order_cancelled,
                                http::dump(json::object{{"order_id", id}, {"user_id", user_id}})));
      } else {
        bus::add_event(
            *c, bus::make_event(
                    bus::types::order_status_changed,
                    http::dump(json::object{
                        {"order_id", id}, {"user_id", user_id}, {"from", from}, {"to", to}})));
      }
      tx.commit();
      order = *load(*c, id);
    }
    events_written_();
    obs::info("order status changed",
              {{"order_id", id}, {"status", to}, {"request_id", req.request_id}});
    if (releases_stock(to)) {
      attempt(release_task, 0);
    }
    return http::json_response(200, order);
  }

  Response set_status(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"status"});
    auto status = f.string("status", 1, 20);
    if (status && !valid_status(*status)) {
      f.add_error("status", "Must be one of pending, processing, shipped, delivered, cancelled");
    }
    if (!f.ok()) {
      return f.problem();
    }
    return transition(std::string(req.param("id")), *status, req, nullptr);
  }

  Response cancel(const Request& req, const auth::Identity& who) {
    return transition(std::string(req.param("id")), "cancelled", req, &who);
  }

  // ---- follow-up tasks -------------------------------------------------------

  void release_or_schedule(const std::string& order_id, const std::string& request_id) {
    try {
      products_.release(order_id, request_id);
    } catch (const std::exception& e) {
      obs::error("stock release failed; scheduling it",
                 {{"order_id", order_id}, {"error", e.what()}});
      try {
        auto c = db_.acquire();
        c->exec(kAddTask, {core::new_id(), std::string("release_stock"), order_id,
                           core::unix_seconds(), core::now_iso8601()});
      } catch (const std::exception& e2) {
        obs::error("could not schedule stock release",
                   {{"order_id", order_id}, {"error", e2.what()}});
      }
    }
  }

  bool run(const Task& t) {
    const std::string request_id = "task-" + t.id;
    if (t.kind == "clear_cart") {
      carts_.clear(t.subject, request_id);
    } else if (t.kind == "release_stock") {
      products_.release(t.subject, request_id);
    }
    return true;
  }

  // Runs one task; records it done, or schedules the next try with backoff
  // (1 s, 2 s, 4 s ... capped at 15 s). Never throws.
  void attempt(const Task& task, std::int64_t attempts) noexcept {
    std::string error;
    try {
      run(task);
    } catch (const std::exception& e) {
      error = e.what();
    }
    try {
      auto c = db_.acquire();
      if (error.empty()) {
        c->exec(kTaskDone, {task.id, core::now_iso8601()});
        tasks_done_.with({task.kind, "done"}).inc();
        return;
      }
      const std::int64_t delay =
          std::min<std::int64_t>(15, std::int64_t{1} << std::min<std::int64_t>(attempts, 4));
      c->exec(kTaskFailed, {task.id, core::unix_seconds() + delay, error.substr(0, 500)});
      tasks_done_.with({task.kind, "retry"}).inc();
      obs::warn("order task failed; will retry",
                {{"task", task.kind}, {"subject", task.subject}, {"error", error}});
    } catch (const std::exception& e) {
      obs::warn("order task bookkeeping failed", {{"task", task.kind}, {"error", e.what()}});
    }
  }

  // Runs every task that is due. Safe to call from several threads (and
  // replicas): each task is idempotent, so running one twice is harmless.
  void run_due_tasks() noexcept {
    try {
      std::vector<std::pair<Task, std::int64_t>> due;
      {
        auto c = db_.acquire();
        for (const auto& r : c->exec(kDueTasks, {core::unix_seconds()}).rows) {
          due.push_back({Task{r.text(0), r.text(1), r.text(2)}, r.integer(3)});
        }
      }
      for (const auto& [task, attempts] : due) {
        attempt(task, attempts);
      }
    } catch (const std::exception& e) {
      obs::warn("order task runner", {{"error", e.what()}});
    }
  }

  void run_tasks() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, task_interval_, [this] { return stopping_; });
      if (stopping_) {
        break;
      }
      lock.unlock();
      run_due_tasks();
      lock.lock();
    }
  }

  db::Database& db_;
  const auth::Tokens& tokens_;
  svc::ProductApi products_;
  svc::CartApi carts_;
  std::chrono::milliseconds task_interval_;
  obs::Family<obs::Counter>& tasks_done_;
  obs::Counter& orders_placed_;
  std::function<void()> events_written_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace

namespace {

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::order_migrations());
  m.push_back(bus::outbox_migration(2));
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
