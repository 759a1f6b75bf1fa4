#include "cart/pruning.hpp"

#include <exception>

#include "core/ids.hpp"
#include "obs/log.hpp"

namespace emporium::cart {

std::int64_t CheckoutPruning::run_once() {
  return store_.prune_checkouts(core::to_iso8601(clock_() - retention_));
}

CheckoutPruner::CheckoutPruner(CheckoutPruning& pruning, std::chrono::milliseconds interval)
    : pruning_(pruning), interval_(interval), worker_("cart-prune", [this](core::Worker& w) {
        do {
          try {
            if (const auto n = pruning_.run_once(); n > 0) {
              obs::info("old cart checkouts pruned", {{"rows", n}});
            }
          } catch (const std::exception& e) {
            obs::warn("cart checkout pruning failed", {{"error", e.what()}});
          }
        } while (w.wait_for(interval_));
      }) {}

}  // namespace emporium::cart
