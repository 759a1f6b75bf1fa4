#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bus/event.hpp"
#include "core/result.hpp"
#include "db/db.hpp"
#include "order/domain.hpp"
#include "order/errors.hpp"
#include "order/tasks.hpp"

namespace emporium::order {

// An order as stored, with its lines (ordered by product name, then id).
struct Order {
  std::string id;
  std::string user_id;
  Status status = Status::pending;
  std::int64_t total_cents = 0;
  std::string currency;
  std::string shipping_address;  // JSON object text
  std::string created_at;
  std::string updated_at;
  std::vector<Item> items;
};

// Which orders a list shows: one user's (every user's when nullopt), in one
// status (every status when nullopt).
struct OrderQuery {
  std::optional<std::string> user_id;
  std::optional<Status> status;
};

// One page of orders, newest first, and how many there are in all.
struct OrderPage {
  std::vector<Order> orders;
  std::int64_t total = 0;
};

// A task to store, and when it is due (Unix seconds).
struct ScheduledTask {
  Task task;
  std::int64_t due_at = 0;
};

// A task that is due, and how often it has failed so far.
struct DueTask {
  Task task;
  std::int64_t attempts = 0;
};

// Why a new order was not stored.
enum class PlaceConflict {
  reservation_expired,  // its insurance task had been used: the stock is back
  duplicate,            // a constraint refused it (an Idempotency-Key taken meanwhile)
};

// What a status change writes, decided from the order as it is inside the
// change's transaction.
struct StatusChange {
  Status to = Status::pending;
  std::string at;  // ISO 8601: the order's new updated_at
  std::optional<ScheduledTask> task;
  bus::Event event;
};

// The order service's repository: orders, their items and the follow-up
// tasks. Every method throws db::DbError (a core::Error) when the database
// fails; expected outcomes are values.
class Store {
 public:
  virtual ~Store() = default;

  virtual std::optional<Order> find(const std::string& id) = 0;
  // The order `user_id` placed with Idempotency-Key `key`, if any.
  virtual std::optional<Order> find_by_key(const std::string& user_id, const std::string& key) = 0;
  // The orders `query` selects, newest first.
  virtual OrderPage list(const OrderQuery& query, std::int64_t limit, std::int64_t offset) = 0;

  // In one transaction: retires the task `insurance_id` (fails with
  // reservation_expired, storing nothing, when it is no longer pending),
  // stores `order` (status pending, created_at as updated_at) with `key`, the
  // outbox event `placed` and the task `follow_up`.
  virtual core::Result<void, PlaceConflict> place(const Order& order,
                                                  const std::optional<std::string>& key,
                                                  const std::string& insurance_id,
                                                  const bus::Event& placed,
                                                  const ScheduledTask& follow_up) = 0;

  // Decides a status change from the order as stored now.
  using Decide = std::function<core::Result<StatusChange, Failure>(const Order& current)>;
  // In one transaction: loads order `id` (not_found without it), asks
  // `decide` what to write, moves the status (changed_concurrently if it moved
  // meanwhile), stores the change's task and event; returns the order as
  // stored afterwards. Nothing is written when a step fails.
  virtual core::Result<Order, Failure> change_status(const std::string& id,
                                                     const Decide& decide) = 0;

  virtual void add_task(const Task& task, std::int64_t due_at, const std::string& created_at) = 0;
  // Marks each of `task_ids` done, in one transaction.
  virtual void tasks_done(const std::vector<std::string>& task_ids, const std::string& at) = 0;
  // Counts a failed try and sets when to try again.
  virtual void task_failed(const std::string& task_id, std::int64_t next_attempt_at,
                           const std::string& error) = 0;
  // At most 50 pending tasks due at `now` (Unix seconds), earliest first.
  virtual std::vector<DueTask> due_tasks(std::int64_t now) = 0;
};

class SqlStore final : public Store {
 public:
  explicit SqlStore(db::Database& db) : db_(db) {}

  std::optional<Order> find(const std::string& id) override;
  std::optional<Order> find_by_key(const std::string& user_id, const std::string& key) override;
  OrderPage list(const OrderQuery& query, std::int64_t limit, std::int64_t offset) override;
  core::Result<void, PlaceConflict> place(const Order& order, const std::optional<std::string>& key,
                                          const std::string& insurance_id, const bus::Event& placed,
                                          const ScheduledTask& follow_up) override;
  core::Result<Order, Failure> change_status(const std::string& id, const Decide& decide) override;
  void add_task(const Task& task, std::int64_t due_at, const std::string& created_at) override;
  void tasks_done(const std::vector<std::string>& task_ids, const std::string& at) override;
  void task_failed(const std::string& task_id, std::int64_t next_attempt_at,
                   const std::string& error) override;
  std::vector<DueTask> due_tasks(std::int64_t now) override;

 private:
  db::Database& db_;
};

}  // namespace emporium::order
