#include "cart/pruning.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "../scratch.hpp"
#include "cart/service.hpp"
#include "core/ids.hpp"
#include "db/migrate.hpp"

namespace emporium::cart::testing {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

std::unique_ptr<db::Database> fresh_db() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = testing_support::scratch_dir(info->name());
  auto db = db::open_sqlite({.path = (dir / "cart.db").string()});
  db::migrate(*db, "cart", module().migrations());
  return db;
}

class CartCheckoutPruning : public ::testing::Test {
 protected:
  // Records order `order_id` as taken out of u1's cart at `at`.
  bool record(const std::string& order_id, Clock::time_point at) {
    bool applied = false;
    store_.write([&](Writer& w) {
      applied = w.record_checkout(order_id, "u1", core::to_iso8601(at));
      return true;
    });
    return applied;
  }
  std::int64_t rows() {
    auto c = db_->acquire();
    return c->exec("SELECT count(*) FROM cart_checkouts").rows.at(0).integer(0);
  }

  const Clock::time_point now_ = Clock::now();
  std::unique_ptr<db::Database> db_ = fresh_db();
  SqlStore store_{*db_};
};

TEST_F(CartCheckoutPruning, ForgetsCheckoutsOlderThanTheRetentionAndKeepsTheRest) {
  ASSERT_TRUE(record("old-1", now_ - hours(30)));
  ASSERT_TRUE(record("old-2", now_ - hours(25)));
  ASSERT_TRUE(record("recent", now_ - hours(23)));
  ASSERT_TRUE(record("just-now", now_));
  CheckoutPruning pruning(store_, hours(24), [this] { return now_; });

  EXPECT_EQ(pruning.run_once(), 2);
  EXPECT_EQ(rows(), 2);
  // What is kept still deduplicates a repeat; what was pruned is forgotten.
  EXPECT_FALSE(record("recent", now_)) << "a kept checkout must still be applied only once";
  EXPECT_FALSE(record("just-now", now_));
  EXPECT_TRUE(record("old-1", now_)) << "a pruned checkout is forgotten";
  EXPECT_EQ(pruning.run_once(), 0);
}

TEST_F(CartCheckoutPruning, ThePrunerRunsOnItsWorkerAtStartUp) {
  ASSERT_TRUE(record("old", now_ - hours(48)));
  ASSERT_TRUE(record("recent", now_ - hours(1)));
  CheckoutPruning pruning(store_, hours(24));
  {
    CheckoutPruner pruner(pruning, milliseconds(20));
    for (int i = 0; i < 250 && rows() != 1; ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_EQ(rows(), 1) << "the pruner did not remove the 48-hour-old checkout within 5 s";
  EXPECT_FALSE(record("recent", now_));
}

}  // namespace
}  // namespace emporium::cart::testing
