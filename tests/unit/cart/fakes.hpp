#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cart/handlers.hpp"
#include "cart/store.hpp"

namespace emporium::cart::testing {

// One line as the fake keeps it.
struct FakeLine {
  std::string product_id;
  std::int64_t quantity = 0;
  std::string added_at;
};

// One cart as the fake keeps it.
struct FakeCart {
  std::string updated_at;
  std::vector<FakeLine> lines;
};

using FakeCarts = std::map<std::string, FakeCart>;
// The orders whose lines came out of a cart: order id -> user id.
using FakeCheckouts = std::map<std::string, std::string>;

// The Writer on a working copy of the fake's carts.
class FakeWriter final : public Writer {
 public:
  FakeWriter(FakeCarts& carts, FakeCheckouts& checkouts) : carts_(carts), checkouts_(checkouts) {}

  bool insert_cart(const std::string& user_id, const std::string& now) override {
    return carts_.emplace(user_id, FakeCart{.updated_at = now, .lines = {}}).second;
  }
  void touch_cart(const std::string& user_id, const std::string& now) override {
    if (auto it = carts_.find(user_id); it != carts_.end()) {
      it->second.updated_at = now;
    }
  }
  std::optional<std::int64_t> item_quantity(const std::string& user_id,
                                            const std::string& product_id) override {
    if (auto* l = line(user_id, product_id)) {
      return l->quantity;
    }
    return std::nullopt;
  }
  void insert_item(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                   const std::string& now) override {
    carts_.at(user_id).lines.push_back(
        {.product_id = product_id, .quantity = quantity, .added_at = now});
  }
  void set_item(const std::string& user_id, const std::string& product_id,
                std::int64_t quantity) override {
    if (auto* l = line(user_id, product_id)) {
      l->quantity = quantity;
    }
  }
  bool delete_item(const std::string& user_id, const std::string& product_id) override {
    auto it = carts_.find(user_id);
    if (it == carts_.end()) {
      return false;
    }
    return std::erase_if(it->second.lines,
                         [&](const FakeLine& l) { return l.product_id == product_id; }) > 0;
  }
  void clear(const std::string& user_id) override {
    if (auto it = carts_.find(user_id); it != carts_.end()) {
      it->second.lines.clear();
    }
  }
  bool record_checkout(const std::string& order_id, const std::string& user_id,
                       const std::string&) override {
    return checkouts_.emplace(order_id, user_id).second;
  }

 private:
  FakeLine* line(const std::string& user_id, const std::string& product_id) {
    auto it = carts_.find(user_id);
    if (it == carts_.end()) {
      return nullptr;
    }
    for (auto& l : it->second.lines) {
      if (l.product_id == product_id) {
        return &l;
      }
    }
    return nullptr;
  }

  FakeCarts& carts_;
  FakeCheckouts& checkouts_;
};

// An in-memory Store. A write works on a copy of the carts that replaces
// them only when the body commits, so a refused or failed write leaves no
// trace, as a rolled-back transaction.
class FakeStore final : public Store {
 public:
  std::vector<Line> items(const std::string& user_id) override {
    std::vector<Line> out;
    auto it = carts.find(user_id);
    if (it == carts.end()) {
      return out;
    }
    auto lines = it->second.lines;
    std::sort(lines.begin(), lines.end(), [](const FakeLine& a, const FakeLine& b) {
      return std::tie(a.added_at, a.product_id) < std::tie(b.added_at, b.product_id);
    });
    for (const auto& l : lines) {
      out.push_back({.product_id = l.product_id, .quantity = l.quantity});
    }
    return out;
  }
  StoredCart cart(const std::string& user_id) override {
    StoredCart out{.lines = items(user_id), .updated_at = std::nullopt};
    if (auto it = carts.find(user_id); it != carts.end()) {
      out.updated_at = it->second.updated_at;
    }
    return out;
  }
  void write(const std::function<bool(Writer&)>& body) override {
    auto copy = carts;
    auto checkouts_copy = checkouts;
    FakeWriter w(copy, checkouts_copy);
    if (body(w)) {
      carts = std::move(copy);
      checkouts = std::move(checkouts_copy);
      ++commits;
    }
  }
  std::int64_t prune_checkouts(const std::string&) override { return 0; }

  // Puts a line straight into the store (creating the cart, stamped `at`).
  void put(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
           const std::string& at = "2026-01-01T00:00:00.000Z") {
    auto& c = carts[user_id];
    c.updated_at = at;
    c.lines.push_back({.product_id = product_id, .quantity = quantity, .added_at = at});
  }
  // The line's quantity now; nullopt when it is not in the cart.
  std::optional<std::int64_t> quantity(const std::string& user_id,
                                       const std::string& product_id) const {
    auto it = carts.find(user_id);
    if (it == carts.end()) {
      return std::nullopt;
    }
    for (const auto& l : it->second.lines) {
      if (l.product_id == product_id) {
        return l.quantity;
      }
    }
    return std::nullopt;
  }

  FakeCarts carts;
  FakeCheckouts checkouts;
  int commits = 0;
};

// A catalog of the products put into it; records every lookup.
class FakeCatalog final : public Catalog {
 public:
  std::map<std::string, svc::ProductSummary> lookup(const std::vector<std::string>& ids,
                                                    const std::string& request_id) override {
    lookups.push_back(ids);
    request_ids.push_back(request_id);
    std::map<std::string, svc::ProductSummary> out;
    for (const auto& id : ids) {
      if (auto it = products.find(id); it != products.end()) {
        out.emplace(id, it->second);
      }
    }
    return out;
  }

  void put(const std::string& id, const std::string& name, std::int64_t price_cents,
           std::int64_t stock) {
    products[id] = {
        .id = id, .name = name, .currency = "USD", .price_cents = price_cents, .stock = stock};
  }

  std::map<std::string, svc::ProductSummary> products;
  std::vector<std::vector<std::string>> lookups;
  std::vector<std::string> request_ids;
};

// A clock that ticks one second per reading, from 2026-01-01T00:00:01.000Z
// (up to an hour of readings).
class FakeClock {
 public:
  std::string operator()() {
    ++seconds_;
    return last();
  }
  // What the last reading returned.
  std::string last() const {
    auto two = [](int n) { return std::string(n < 10 ? "0" : "") + std::to_string(n); };
    return "2026-01-01T00:" + two(seconds_ / 60) + ":" + two(seconds_ % 60) + ".000Z";
  }

 private:
  int seconds_ = 0;
};

}  // namespace emporium::cart::testing
