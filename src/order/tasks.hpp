#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/worker.hpp"
#include "obs/metrics.hpp"
#include "order/peers.hpp"

namespace emporium::order {

class Store;
struct Order;

// Follow-up work that must happen after a commit even if a peer service is
// down. Each kind is idempotent, so running a task twice is harmless.
enum class TaskKind {
  clear_cart,     // subject: a user id; empties that user's cart (tasks stored by
                  // earlier versions; new orders use remove_bought)
  release_stock,  // subject: an order id; gives its reserved stock back
  remove_bought,  // subject: an order id; takes what it bought out of the cart, once
};
std::string_view to_string(TaskKind kind) noexcept;
std::optional<TaskKind> parse_task_kind(std::string_view text) noexcept;

struct Task {
  std::string id;
  TaskKind kind = TaskKind::clear_cart;
  std::string subject;
};

// Seconds before the runner retries work that a request tries inline first.
inline constexpr std::int64_t kInlineGrace = 2;
// Seconds a checkout may take between reserving stock and storing its order
// before its reservation is given back.
inline constexpr std::int64_t kReservationGrace = 60;

// Seconds until the next try after `attempts` failed ones: 1, 2, 4, 8, then 15.
std::int64_t retry_delay_seconds(std::int64_t attempts) noexcept;

// Runs follow-up tasks and keeps their book in the store.
class Tasks {
 public:
  Tasks(Store& store, Products& products, Carts& carts, obs::Family<obs::Counter>& outcomes)
      : store_(store), products_(products), carts_(carts), outcomes_(outcomes) {}

  // A new task of `kind` on `subject`, stored to run `delay_seconds` from now
  // unless it is done first. Throws on a database failure.
  Task schedule(TaskKind kind, const std::string& subject, std::int64_t delay_seconds);
  // Records `task` done without running it (mark_done). Throws on a database
  // failure when it writes the mark itself.
  void done(const Task& task);
  // Runs one task; records it done, or schedules the next try with backoff.
  // `known` is the task's order when the caller holds it (a remove_bought
  // right after the order was stored), so it is not read back. Never throws.
  void attempt(const Task& task, std::int64_t attempts, const Order* known = nullptr) noexcept;
  // Runs every task that is due. Safe to call from several threads (and
  // replicas). Never throws.
  void run_due() noexcept;
  // Gives an order's stock back now, or schedules it when that fails. Never
  // throws.
  void release_or_schedule(const std::string& order_id, const std::string& request_id) noexcept;

 private:
  void run(const Task& task, const Order* known);
  // Records task `task_id` done. Written at once when no other mark is
  // being written; else left for the writer in progress, which takes every
  // mark queued meanwhile in its next transaction (a group commit: one
  // transaction for many orders under load). A mark lost to a failure or a
  // crash only lets its task run once more, which is harmless.
  void mark_done(const std::string& task_id);
  void remove_bought(const std::string& order_id, const Order* known,
                     const std::string& request_id);

  Store& store_;
  Products& products_;
  Carts& carts_;
  obs::Family<obs::Counter>& outcomes_;
  std::mutex done_mutex_;
  std::vector<std::string> done_queue_;  // marks waiting for the writer in progress
  bool done_writing_ = false;
};

// The background loop: runs the due tasks every `interval`, or sooner after
// wake(). Destroying it (or stop()) ends the loop and joins its thread.
class TaskRunner {
 public:
  TaskRunner(Tasks& tasks, std::chrono::milliseconds interval);

  void wake() noexcept { worker_.wake(); }
  void stop() noexcept { worker_.stop(); }

 private:
  Tasks& tasks_;
  std::chrono::milliseconds interval_;
  core::Worker worker_;  // last: starts once everything above exists
};

}  // namespace emporium::order
