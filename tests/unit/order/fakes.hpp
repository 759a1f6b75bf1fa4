#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "order/peers.hpp"
#include "order/store.hpp"

namespace emporium::order::testing {

// A task as the fake store keeps it.
struct StoredTask {
  Task task;
  std::int64_t due_at = 0;
  std::string created_at;
  std::int64_t attempts = 0;
  std::optional<std::string> done_at{};
  std::string last_error{};
};

// The order store in memory, with its state open to the tests. Thread-safe
// (the task runner's thread reads it too).
class FakeStore final : public Store {
 public:
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

  // Stores `order` as if placed with `key`, outside any checkout.
  void insert(const Order& order, const std::optional<std::string>& key);
  // Every pending task becomes due now (time passing, for the runner).
  void make_due();
  // Marks every pending task of `kind` done (the runner having used it).
  void finish_pending(TaskKind kind);
  std::vector<StoredTask> tasks_of(TaskKind kind) const;
  std::vector<bus::Event> events() const;
  std::size_t order_count() const;

  // Called inside change_status between the decision and the update, to
  // stand for a concurrent change.
  std::function<void(Order&)> before_update;
  // Called first in tasks_done (outside the store's lock), to hold a writer.
  std::function<void()> before_tasks_done;
  std::atomic<int> done_transactions{0};  // calls of tasks_done

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Order> orders_;
  std::map<std::string, std::optional<std::string>> keys_;  // order id -> Idempotency-Key
  std::vector<StoredTask> tasks_;
  std::vector<bus::Event> events_;
};

// The product service's stock: reservations are per order id, idempotent.
class FakeProducts final : public Products {
 public:
  struct Product {
    std::string name;
    std::int64_t price_cents = 0;
    std::int64_t stock = 0;
    std::string currency = "USD";
  };

  std::variant<std::vector<svc::ReservedLine>, svc::Shortage> reserve(
      const std::string& order_id, const std::vector<svc::Line>& lines,
      const std::string& request_id) override;
  void release(const std::string& order_id, const std::string& request_id) override;

  void add(const std::string& id, Product p);
  std::int64_t stock_of(const std::string& id) const;

  int reserve_calls = 0;
  int releases = 0;       // releases that gave stock back
  int fail_releases = 0;  // releases to fail (a transient core::Error) before one succeeds
  // Called after a reservation is taken (before it is answered).
  std::function<void()> after_reserve;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Product> products_;
  std::map<std::string, std::vector<svc::ReservedLine>> reservations_;  // open ones
  std::map<std::string, bool> reserved_orders_;
};

// The cart service: each user's lines. `fail_clears` clears throw a
// transient core::Error (the cart service down) before they succeed again.
class FakeCarts final : public Carts {
 public:
  std::vector<svc::Line> items(const std::string& user_id, const std::string& request_id) override;
  void clear(const std::string& user_id, const std::string& request_id) override;
  // As the cart service: takes each line's quantity out, once per order id.
  void remove_bought(const std::string& user_id, const std::string& order_id,
                     const std::vector<svc::Line>& lines, const std::string& request_id) override;

  void put(const std::string& user_id, std::vector<svc::Line> lines);
  std::vector<svc::Line> lines_of(const std::string& user_id) const;
  void fail_next_clears(int n);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<svc::Line>> carts_;
  std::set<std::string> checkouts_;  // orders whose lines came out
  int fail_clears_ = 0;
};

}  // namespace emporium::order::testing
