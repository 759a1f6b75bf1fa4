#pragma once

#include <chrono>
#include <functional>

#include "cart/store.hpp"
#include "core/worker.hpp"

namespace emporium::cart {

// Forgets old checkouts. The cart service remembers each order whose lines
// it took out of a cart (cart_checkouts) so that a repeated request from the
// order service is applied once; the order service stops repeating within
// seconds, so a row older than `retention` is never needed again.
class CheckoutPruning {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  CheckoutPruning(Store& store, std::chrono::milliseconds retention,
                  Clock clock = std::chrono::system_clock::now)
      : store_(store), retention_(retention), clock_(std::move(clock)) {}

  // Deletes the checkouts applied more than `retention` ago; returns how
  // many. Throws db::DbError on a database fault.
  std::int64_t run_once();

 private:
  Store& store_;
  std::chrono::milliseconds retention_;
  Clock clock_;
};

// Runs `pruning` at start-up and then every `interval` on a worker of its
// own; a failure is logged and tried again at the next interval.
class CheckoutPruner {
 public:
  CheckoutPruner(CheckoutPruning& pruning, std::chrono::milliseconds interval);

 private:
  CheckoutPruning& pruning_;
  std::chrono::milliseconds interval_;
  core::Worker worker_;  // last: starts once the rest exists
};

}  // namespace emporium::cart
