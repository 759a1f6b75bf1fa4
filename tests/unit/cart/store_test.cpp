#include "cart/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "../scratch.hpp"
#include "cart/service.hpp"
#include "db/migrate.hpp"

namespace emporium::cart::testing {
namespace {

// A fresh, migrated SQLite file of the test's own.
std::unique_ptr<db::Database> fresh_db() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = testing_support::scratch_dir(info->name());
  auto db = db::open_sqlite({.path = (dir / "cart.db").string()});
  db::migrate(*db, "cart", module().migrations());
  return db;
}

class CartSqlStore : public ::testing::Test {
 protected:
  SqlStore& store() { return store_; }

  std::unique_ptr<db::Database> db_ = fresh_db();
  SqlStore store_{*db_};
};

TEST_F(CartSqlStore, WritesCommitAndListLinesInTheOrderAdded) {
  store().write([](Writer& w) {
    EXPECT_TRUE(w.insert_cart("u1", "2026-01-01T00:00:01.000Z"));
    EXPECT_FALSE(w.insert_cart("u1", "2026-01-01T00:00:02.000Z"));
    w.insert_item("u1", "mug", 2, "2026-01-01T00:00:03.000Z");
    w.insert_item("u1", "bag", 1, "2026-01-01T00:00:03.000Z");
    w.insert_item("u1", "axe", 4, "2026-01-01T00:00:04.000Z");
    w.set_item("u1", "mug", 5);
    EXPECT_EQ(w.item_quantity("u1", "mug"), 5);
    EXPECT_EQ(w.item_quantity("u1", "pen"), std::nullopt);
    return true;
  });
  const auto cart = store().cart("u1");
  EXPECT_EQ(cart.updated_at, "2026-01-01T00:00:01.000Z");
  ASSERT_EQ(cart.lines.size(), 3u);
  EXPECT_EQ(cart.lines[0].product_id, "bag");
  EXPECT_EQ(cart.lines[1].product_id, "mug");
  EXPECT_EQ(cart.lines[1].quantity, 5);
  EXPECT_EQ(cart.lines[2].product_id, "axe");
  EXPECT_EQ(store().items("u1").size(), 3u);
  EXPECT_EQ(store().cart("u2").updated_at, std::nullopt);
  EXPECT_TRUE(store().items("u2").empty());
}

TEST_F(CartSqlStore, ARefusedOrFailedWriteRollsBack) {
  store().write([](Writer& w) {
    w.insert_cart("u1", "2026-01-01T00:00:01.000Z");
    w.insert_item("u1", "mug", 2, "2026-01-01T00:00:01.000Z");
    return false;
  });
  EXPECT_EQ(store().cart("u1").updated_at, std::nullopt);
  EXPECT_THROW(store().write([](Writer& w) -> bool {
    w.insert_cart("u1", "2026-01-01T00:00:01.000Z");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(store().cart("u1").updated_at, std::nullopt);
}

TEST_F(CartSqlStore, DeletingClearingAndTouching) {
  store().write([](Writer& w) {
    w.insert_cart("u1", "2026-01-01T00:00:01.000Z");
    w.insert_item("u1", "mug", 2, "2026-01-01T00:00:01.000Z");
    w.insert_item("u1", "bag", 1, "2026-01-01T00:00:01.000Z");
    return true;
  });
  store().write([](Writer& w) {
    EXPECT_TRUE(w.delete_item("u1", "mug"));
    EXPECT_FALSE(w.delete_item("u1", "mug"));
    w.touch_cart("u1", "2026-01-01T00:00:09.000Z");
    return true;
  });
  EXPECT_EQ(store().items("u1").size(), 1u);
  store().write([](Writer& w) {
    w.clear("u1");
    return true;
  });
  const auto cart = store().cart("u1");
  EXPECT_TRUE(cart.lines.empty());
  EXPECT_EQ(cart.updated_at, "2026-01-01T00:00:09.000Z");
}

}  // namespace
}  // namespace emporium::cart::testing
