#include "order/tasks.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "obs/log.hpp"
#include "order/store.hpp"

namespace emporium::order {

std::string_view to_string(TaskKind kind) noexcept {
  switch (kind) {
    case TaskKind::clear_cart:
      return "clear_cart";
    case TaskKind::release_stock:
      return "release_stock";
    case TaskKind::remove_bought:
      return "remove_bought";
  }
  return "unknown";
}

std::optional<TaskKind> parse_task_kind(std::string_view text) noexcept {
  if (text == "clear_cart") {
    return TaskKind::clear_cart;
  }
  if (text == "release_stock") {
    return TaskKind::release_stock;
  }
  if (text == "remove_bought") {
    return TaskKind::remove_bought;
  }
  return std::nullopt;
}

std::int64_t retry_delay_seconds(std::int64_t attempts) noexcept {
  return std::min<std::int64_t>(15, std::int64_t{1} << std::clamp<std::int64_t>(attempts, 0, 4));
}

Task Tasks::schedule(TaskKind kind, const std::string& subject, std::int64_t delay_seconds) {
  Task task{core::new_id(), kind, subject};
  store_.add_task(task, core::unix_seconds() + delay_seconds, core::now_iso8601());
  return task;
}

void Tasks::done(const Task& task) {
  mark_done(task.id);
}

void Tasks::mark_done(const std::string& task_id) {
  std::unique_lock lock(done_mutex_);
  done_queue_.push_back(task_id);
  if (done_writing_) {
    return;  // the writer in progress takes it along
  }
  done_writing_ = true;
  while (!done_queue_.empty()) {
    const auto batch = std::exchange(done_queue_, {});
    lock.unlock();
    try {
      store_.tasks_done(batch, core::now_iso8601());
    } catch (...) {
      lock.lock();
      done_writing_ = false;
      throw;
    }
    lock.lock();
  }
  done_writing_ = false;
}

void Tasks::run(const Task& task, const Order* known) {
  const std::string request_id = "task-" + task.id;
  switch (task.kind) {
    case TaskKind::clear_cart:
      carts_.clear(task.subject, request_id);
      break;
    case TaskKind::release_stock:
      products_.release(task.subject, request_id);
      break;
    case TaskKind::remove_bought:
      remove_bought(task.subject, known, request_id);
      break;
  }
}

void Tasks::remove_bought(const std::string& order_id, const Order* known,
                          const std::string& request_id) {
  const auto stored = known != nullptr ? std::optional<Order>() : store_.find(order_id);
  const Order* order = known != nullptr ? known : (stored ? &*stored : nullptr);
  if (order == nullptr) {
    return;  // never stored: nothing was bought
  }
  std::vector<svc::Line> lines;
  for (const auto& item : order->items) {
    lines.push_back({item.product_id, item.quantity});
  }
  carts_.remove_bought(order->user_id, order->id, lines, request_id);
}

void Tasks::attempt(const Task& task, std::int64_t attempts, const Order* known) noexcept {
  std::string error;
  try {
    run(task, known);
  } catch (const std::exception& e) {
    error = e.what();
  }
  const std::string kind(to_string(task.kind));
  try {
    if (error.empty()) {
      mark_done(task.id);
      outcomes_.with({kind, "done"}).inc();
      return;
    }
    store_.task_failed(task.id, core::unix_seconds() + retry_delay_seconds(attempts),
                       error.substr(0, 500));
    outcomes_.with({kind, "retry"}).inc();
    obs::warn("order task failed; will retry",
              {{"task", kind}, {"subject", task.subject}, {"error", error}});
  } catch (const std::exception& e) {
    obs::warn("order task bookkeeping failed", {{"task", kind}, {"error", e.what()}});
  }
}

void Tasks::run_due() noexcept {
  try {
    for (const auto& due : store_.due_tasks(core::unix_seconds())) {
      attempt(due.task, due.attempts);
    }
  } catch (const std::exception& e) {
    obs::warn("order task runner", {{"error", e.what()}});
  }
}

void Tasks::release_or_schedule(const std::string& order_id,
                                const std::string& request_id) noexcept {
  try {
    products_.release(order_id, request_id);
  } catch (const std::exception& e) {
    obs::error("stock release failed; scheduling it",
               {{"order_id", order_id}, {"error", e.what()}});
    try {
      schedule(TaskKind::release_stock, order_id, 0);
    } catch (const std::exception& e2) {
      obs::error("could not schedule stock release",
                 {{"order_id", order_id}, {"error", e2.what()}});
    }
  }
}

TaskRunner::TaskRunner(Tasks& tasks, std::chrono::milliseconds interval)
    : tasks_(tasks), interval_(interval), worker_("order-tasks", [this](core::Worker& w) {
        while (w.wait_for(interval_)) {
          tasks_.run_due();
        }
      }) {}

}  // namespace emporium::order
