#include "fakes.hpp"

#include <algorithm>
#include <tuple>

#include "core/error.hpp"

namespace emporium::order::testing {

namespace {

// The items ordered as the SQL store reads them: by name, then product id.
Order sorted(Order o) {
  std::sort(o.items.begin(), o.items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.product_name, a.product_id) < std::tie(b.product_name, b.product_id);
  });
  return o;
}

}  // namespace

std::optional<Order> FakeStore::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = orders_.find(id);
  if (it == orders_.end()) {
    return std::nullopt;
  }
  return sorted(it->second);
}

std::optional<Order> FakeStore::find_by_key(const std::string& user_id, const std::string& key) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, k] : keys_) {
    if (k == key && orders_.at(id).user_id == user_id) {
      return sorted(orders_.at(id));
    }
  }
  return std::nullopt;
}

OrderPage FakeStore::list(const OrderQuery& query, std::int64_t limit, std::int64_t offset) {
  std::lock_guard lock(mutex_);
  std::vector<Order> all;
  for (const auto& [id, o] : orders_) {
    if ((!query.user_id || o.user_id == *query.user_id) &&
        (!query.status || o.status == *query.status)) {
      all.push_back(sorted(o));
    }
  }
  std::sort(all.begin(), all.end(), [](const Order& a, const Order& b) {
    return std::tie(a.created_at, a.id) > std::tie(b.created_at, b.id);
  });
  OrderPage page;
  page.total = static_cast<std::int64_t>(all.size());
  for (auto i = offset; i < offset + limit && i < page.total; ++i) {
    page.orders.push_back(all[static_cast<std::size_t>(i)]);
  }
  return page;
}

core::Result<void, PlaceConflict> FakeStore::place(const Order& order,
                                                   const std::optional<std::string>& key,
                                                   const std::string& insurance_id,
                                                   const bus::Event& placed,
                                                   const ScheduledTask& follow_up) {
  std::lock_guard lock(mutex_);
  auto insurance = std::find_if(tasks_.begin(), tasks_.end(), [&](const StoredTask& t) {
    return t.task.id == insurance_id && !t.done_at;
  });
  if (insurance == tasks_.end()) {
    return core::fail(PlaceConflict::reservation_expired);
  }
  for (const auto& [id, k] : keys_) {
    if (key && k == key && orders_.at(id).user_id == order.user_id) {
      return core::fail(PlaceConflict::duplicate);
    }
  }
  insurance->done_at = order.created_at;
  orders_[order.id] = order;
  keys_[order.id] = key;
  events_.push_back(placed);
  tasks_.push_back(StoredTask{
      .task = follow_up.task, .due_at = follow_up.due_at, .created_at = order.created_at});
  return {};
}

core::Result<Order, Failure> FakeStore::change_status(const std::string& id, const Decide& decide) {
  std::lock_guard lock(mutex_);
  auto it = orders_.find(id);
  if (it == orders_.end()) {
    return core::fail(Failure{.code = Error::not_found});
  }
  const Status from = it->second.status;
  auto change = decide(sorted(it->second));
  if (!change) {
    return core::fail(std::move(change).error());
  }
  if (before_update) {
    before_update(it->second);
  }
  if (it->second.status != from) {
    return core::fail(Failure{.code = Error::changed_concurrently});
  }
  it->second.status = change->to;
  it->second.updated_at = change->at;
  if (change->task) {
    tasks_.push_back(StoredTask{
        .task = change->task->task, .due_at = change->task->due_at, .created_at = change->at});
  }
  events_.push_back(change->event);
  return sorted(it->second);
}

void FakeStore::add_task(const Task& task, std::int64_t due_at, const std::string& created_at) {
  std::lock_guard lock(mutex_);
  tasks_.push_back(StoredTask{.task = task, .due_at = due_at, .created_at = created_at});
}

void FakeStore::tasks_done(const std::vector<std::string>& task_ids, const std::string& at) {
  if (before_tasks_done) {
    before_tasks_done();
  }
  ++done_transactions;
  std::lock_guard lock(mutex_);
  for (auto& t : tasks_) {
    if (std::find(task_ids.begin(), task_ids.end(), t.task.id) != task_ids.end()) {
      t.done_at = at;
    }
  }
}

void FakeStore::task_failed(const std::string& task_id, std::int64_t next_attempt_at,
                            const std::string& error) {
  std::lock_guard lock(mutex_);
  for (auto& t : tasks_) {
    if (t.task.id == task_id) {
      ++t.attempts;
      t.due_at = next_attempt_at;
      t.last_error = error;
    }
  }
}

std::vector<DueTask> FakeStore::due_tasks(std::int64_t now) {
  std::lock_guard lock(mutex_);
  std::vector<StoredTask> due;
  for (const auto& t : tasks_) {
    if (!t.done_at && t.due_at <= now) {
      due.push_back(t);
    }
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const StoredTask& a, const StoredTask& b) { return a.due_at < b.due_at; });
  std::vector<DueTask> out;
  for (const auto& t : due) {
    if (out.size() < 50) {
      out.push_back({t.task, t.attempts});
    }
  }
  return out;
}

void FakeStore::insert(const Order& order, const std::optional<std::string>& key) {
  std::lock_guard lock(mutex_);
  orders_[order.id] = order;
  keys_[order.id] = key;
}

void FakeStore::make_due() {
  std::lock_guard lock(mutex_);
  for (auto& t : tasks_) {
    t.due_at = 0;
  }
}

void FakeStore::finish_pending(TaskKind kind) {
  std::lock_guard lock(mutex_);
  for (auto& t : tasks_) {
    if (t.task.kind == kind && !t.done_at) {
      t.done_at = "by the runner";
    }
  }
}

std::vector<StoredTask> FakeStore::tasks_of(TaskKind kind) const {
  std::lock_guard lock(mutex_);
  std::vector<StoredTask> out;
  for (const auto& t : tasks_) {
    if (t.task.kind == kind) {
      out.push_back(t);
    }
  }
  return out;
}

std::vector<bus::Event> FakeStore::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::size_t FakeStore::order_count() const {
  std::lock_guard lock(mutex_);
  return orders_.size();
}

std::variant<std::vector<svc::ReservedLine>, svc::Shortage> FakeProducts::reserve(
    const std::string& order_id, const std::vector<svc::Line>& lines, const std::string&) {
  {
    std::lock_guard lock(mutex_);
    ++reserve_calls;
    if (auto it = reservations_.find(order_id); it != reservations_.end()) {
      return it->second;
    }
    std::vector<svc::ReservedLine> taken;
    for (const auto& l : lines) {
      auto it = products_.find(l.product_id);
      if (it == products_.end()) {
        return svc::Shortage{l.product_id, "", 0, l.quantity};
      }
      if (it->second.stock < l.quantity) {
        return svc::Shortage{l.product_id, it->second.name, it->second.stock, l.quantity};
      }
      taken.push_back(
          {l.product_id, it->second.name, it->second.currency, it->second.price_cents, l.quantity});
    }
    for (const auto& t : taken) {
      products_[t.product_id].stock -= t.quantity;
    }
    reservations_[order_id] = taken;
  }
  if (after_reserve) {
    after_reserve();
  }
  std::lock_guard lock(mutex_);
  return reservations_[order_id];
}

void FakeProducts::release(const std::string& order_id, const std::string&) {
  std::lock_guard lock(mutex_);
  if (fail_releases > 0) {
    --fail_releases;
    throw core::Error("stock release: connection refused", true);
  }
  auto it = reservations_.find(order_id);
  if (it == reservations_.end()) {
    return;
  }
  for (const auto& l : it->second) {
    products_[l.product_id].stock += l.quantity;
  }
  reservations_.erase(it);
  ++releases;
}

void FakeProducts::add(const std::string& id, Product p) {
  std::lock_guard lock(mutex_);
  products_[id] = std::move(p);
}

std::int64_t FakeProducts::stock_of(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return products_.at(id).stock;
}

std::vector<svc::Line> FakeCarts::items(const std::string& user_id, const std::string&) {
  return lines_of(user_id);
}

void FakeCarts::clear(const std::string& user_id, const std::string&) {
  std::lock_guard lock(mutex_);
  if (fail_clears_ > 0) {
    --fail_clears_;
    throw core::Error("cart clear: connection refused", true);
  }
  carts_.erase(user_id);
}

void FakeCarts::remove_bought(const std::string& user_id, const std::string& order_id,
                              const std::vector<svc::Line>& lines, const std::string&) {
  std::lock_guard lock(mutex_);
  if (fail_clears_ > 0) {
    --fail_clears_;
    throw core::Error("cart checkout: connection refused", true);
  }
  if (!checkouts_.insert(order_id).second) {
    return;
  }
  auto& cart = carts_[user_id];
  for (const auto& bought : lines) {
    for (auto& line : cart) {
      if (line.product_id == bought.product_id) {
        line.quantity -= bought.quantity;
      }
    }
  }
  std::erase_if(cart, [](const svc::Line& l) { return l.quantity <= 0; });
}

void FakeCarts::put(const std::string& user_id, std::vector<svc::Line> lines) {
  std::lock_guard lock(mutex_);
  carts_[user_id] = std::move(lines);
}

std::vector<svc::Line> FakeCarts::lines_of(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = carts_.find(user_id);
  return it == carts_.end() ? std::vector<svc::Line>{} : it->second;
}

void FakeCarts::fail_next_clears(int n) {
  std::lock_guard lock(mutex_);
  fail_clears_ = n;
}

}  // namespace emporium::order::testing
