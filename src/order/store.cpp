#include "order/store.hpp"

#include <string_view>

#include "bus/outbox.hpp"
#include "core/error.hpp"

namespace emporium::order {

namespace {

// ---- orders and their items -------------------------------------------------

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
// $2 is the status to show, NULL for every status.
constexpr std::string_view kListForUser =
    "SELECT id, user_id, status, total_cents, currency, shipping_address, created_at, updated_at "
    "FROM orders WHERE user_id = $1 AND status = coalesce($2, status) "
    "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";
constexpr std::string_view kCountForUser =
    "SELECT count(*) FROM orders WHERE user_id = $1 AND status = coalesce($2, status)";
// $1 is the status to show, NULL for every status.
constexpr std::string_view kListAll =
    "SELECT id, user_id, status, total_cents, currency, shipping_address, created_at, updated_at "
    "FROM orders WHERE status = coalesce($1, status) "
    "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3";
constexpr std::string_view kCountAll =
    "SELECT count(*) FROM orders WHERE status = coalesce($1, status)";
constexpr std::string_view kSetStatus =
    "UPDATE orders SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2";

// ---- follow-up tasks --------------------------------------------------------

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

// An order row (the columns of kById) with its items.
Order order_from(db::Connection& c, const db::Row& r) {
  const auto status = parse_status(r.text(2));
  if (!status) {
    throw core::Error("order " + r.text(0) + " has unknown status " + r.text(2), false);
  }
  Order o{.id = r.text(0),
          .user_id = r.text(1),
          .status = *status,
          .total_cents = r.integer(3),
          .currency = r.text(4),
          .shipping_address = r.text(5),
          .created_at = r.text(6),
          .updated_at = r.text(7),
          .items = {}};
  for (const auto& i : c.exec(kItems, {o.id}).rows) {
    o.items.push_back(Item{i.text(0), i.text(1), i.integer(2), i.integer(3)});
  }
  return o;
}

std::optional<Order> load(db::Connection& c, const std::string& id) {
  auto rows = c.exec(kById, {id}).rows;
  if (rows.empty()) {
    return std::nullopt;
  }
  return order_from(c, rows[0]);
}

void insert_task(db::Connection& c, const Task& task, std::int64_t due_at,
                 const std::string& created_at) {
  c.exec(kAddTask, {task.id, std::string(to_string(task.kind)), task.subject, due_at, created_at});
}

}  // namespace

std::optional<Order> SqlStore::find(const std::string& id) {
  auto c = db_.acquire();
  return load(*c, id);
}

std::optional<Order> SqlStore::find_by_key(const std::string& user_id, const std::string& key) {
  auto c = db_.acquire();
  auto rows = c->exec(kByIdempotencyKey, {user_id, key}).rows;
  if (rows.empty()) {
    return std::nullopt;
  }
  return load(*c, rows[0].text(0));
}

OrderPage SqlStore::list(const OrderQuery& query, std::int64_t limit, std::int64_t offset) {
  auto c = db_.acquire();
  const db::Value status =
      query.status ? db::Value(std::string(to_string(*query.status))) : db::Value(nullptr);
  const auto& user = query.user_id;
  const auto rows = user ? c->exec(kListForUser, {*user, status, limit, offset}).rows
                         : c->exec(kListAll, {status, limit, offset}).rows;
  OrderPage page;
  page.total = user ? c->exec(kCountForUser, {*user, status}).rows.at(0).integer(0)
                    : c->exec(kCountAll, {status}).rows.at(0).integer(0);
  for (const auto& r : rows) {
    page.orders.push_back(order_from(*c, r));
  }
  return page;
}

core::Result<void, PlaceConflict> SqlStore::place(const Order& order,
                                                  const std::optional<std::string>& key,
                                                  const std::string& insurance_id,
                                                  const bus::Event& placed,
                                                  const ScheduledTask& follow_up) {
  try {
    auto c = db_.acquire();
    db::Transaction tx(*c, true);
    if (c->exec(kRetireTask, {insurance_id, order.created_at}).affected != 1) {
      return core::fail(PlaceConflict::reservation_expired);
    }
    c->exec(kInsertOrder,
            {order.id, order.user_id, order.total_cents, order.currency, order.shipping_address,
             key ? db::Value(*key) : db::Value(nullptr), order.created_at});
    for (const auto& i : order.items) {
      c->exec(kInsertItem, {order.id, i.product_id, i.product_name, i.quantity, i.price_cents});
    }
    bus::add_event(*c, placed);
    insert_task(*c, follow_up.task, follow_up.due_at, order.created_at);
    tx.commit();
  } catch (const db::DbError& e) {
    if (e.kind() != db::ErrorKind::constraint) {
      throw;
    }
    return core::fail(PlaceConflict::duplicate);
  }
  return {};
}

core::Result<Order, Failure> SqlStore::change_status(const std::string& id, const Decide& decide) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  auto current = load(*c, id);
  if (!current) {
    return core::fail(Failure{.code = Error::not_found});
  }
  auto change = decide(*current);
  if (!change) {
    return core::fail(std::move(change).error());
  }
  const std::string from(to_string(current->status));
  if (c->exec(kSetStatus, {id, from, std::string(to_string(change->to)), change->at}).affected !=
      1) {
    return core::fail(Failure{.code = Error::changed_concurrently});
  }
  if (change->task) {
    insert_task(*c, change->task->task, change->task->due_at, change->at);
  }
  bus::add_event(*c, change->event);
  tx.commit();
  return *load(*c, id);
}

void SqlStore::add_task(const Task& task, std::int64_t due_at, const std::string& created_at) {
  auto c = db_.acquire();
  insert_task(*c, task, due_at, created_at);
}

void SqlStore::tasks_done(const std::vector<std::string>& task_ids, const std::string& at) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  for (const auto& id : task_ids) {
    c->exec(kTaskDone, {id, at});
  }
  tx.commit();
}

void SqlStore::task_failed(const std::string& task_id, std::int64_t next_attempt_at,
                           const std::string& error) {
  auto c = db_.acquire();
  c->exec(kTaskFailed, {task_id, next_attempt_at, error});
}

std::vector<DueTask> SqlStore::due_tasks(std::int64_t now) {
  auto c = db_.acquire();
  std::vector<DueTask> due;
  for (const auto& r : c->exec(kDueTasks, {now}).rows) {
    // The table's CHECK admits only the kinds parse_task_kind knows.
    if (auto kind = parse_task_kind(r.text(1))) {
      due.push_back({Task{r.text(0), *kind, r.text(2)}, r.integer(3)});
    }
  }
  return due;
}

}  // namespace emporium::order
