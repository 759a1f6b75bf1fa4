#include "db/migrate.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "../scratch.hpp"

namespace emporium::db {
namespace {

std::string fresh_db() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (testing_support::scratch_dir(info->name()) / "test.db").string();
}

const std::string kData = EMPORIUM_TEST_DATA;

TEST(Migrate, AppliesInOrderAndASecondRunChangesNothing) {
  auto db = open_sqlite({.path = fresh_db()});
  const auto migrations = load_migrations(kData + "/migrations/good");
  ASSERT_EQ(migrations.size(), 2U);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[1].name, "add_stock");

  EXPECT_EQ(migrate(*db, "catalog", migrations), 2);
  {
    auto c = db->acquire();
    c->exec("INSERT INTO items (id, name, price_cents, stock) VALUES ($1, $2, $3, $4)",
            {std::string("p1"), std::string("Lamp"), std::int64_t{1999}, std::int64_t{3}});
  }
  EXPECT_EQ(migrate(*db, "catalog", migrations), 0);

  auto c = db->acquire();
  auto rows = c->exec("SELECT name, price_cents, stock FROM items").rows;
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].text(0), "Lamp");
  EXPECT_EQ(rows[0].integer(1), 1999);
  EXPECT_EQ(rows[0].integer(2), 3);
  auto recorded =
      c->exec("SELECT version, name FROM schema_migrations WHERE owner = $1 ORDER BY version",
              {std::string("catalog")})
          .rows;
  ASSERT_EQ(recorded.size(), 2U);
  EXPECT_EQ(recorded[0].text(1), "create_items");
  EXPECT_EQ(recorded[1].integer(0), 2);
}

TEST(Migrate, OwnersAreTrackedSeparately) {
  auto db = open_sqlite({.path = fresh_db()});
  std::vector<Migration> a = {{1, "a_table", "CREATE TABLE a (x INTEGER);"}};
  std::vector<Migration> b = {{1, "b_table", "CREATE TABLE b (x INTEGER);"}};
  EXPECT_EQ(migrate(*db, "alpha", a), 1);
  EXPECT_EQ(migrate(*db, "beta", b), 1);
  EXPECT_EQ(migrate(*db, "alpha", a), 0);
}

TEST(Migrate, FailingMigrationIsRolledBackWhole) {
  auto db = open_sqlite({.path = fresh_db()});
  const auto migrations = load_migrations(kData + "/migrations/broken");
  EXPECT_THROW(migrate(*db, "svc", migrations), DbError);
  auto c = db->acquire();
  // 0001 stays applied; nothing of 0002 (neither its table nor its record) remains.
  EXPECT_EQ(c->exec("SELECT count(*) FROM schema_migrations").rows[0].integer(0), 1);
  EXPECT_EQ(c->exec("SELECT count(*) FROM sqlite_master WHERE name = 'audit'").rows[0].integer(0),
            0);
}

TEST(Migrate, RenamedAppliedMigrationIsRefused) {
  auto db = open_sqlite({.path = fresh_db()});
  EXPECT_EQ(migrate(*db, "svc", {{1, "first", "CREATE TABLE t (x INTEGER);"}}), 1);
  EXPECT_THROW(migrate(*db, "svc", {{1, "renamed", "CREATE TABLE t (x INTEGER);"}}),
               std::runtime_error);
}

TEST(Sqlite, ConstraintViolationsAreReportedAsSuch) {
  auto db = open_sqlite({.path = fresh_db()});
  migrate(*db, "svc", load_migrations(kData + "/migrations/good"));
  auto c = db->acquire();
  c->exec("INSERT INTO items (id, name, price_cents) VALUES ($1, $2, $3)",
          {std::string("p1"), std::string("A"), std::int64_t{1}});
  try {
    c->exec("INSERT INTO items (id, name, price_cents) VALUES ($1, $2, $3)",
            {std::string("p1"), std::string("B"), std::int64_t{1}});
    FAIL() << "duplicate key accepted";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::constraint);
  }
  try {
    c->exec("INSERT INTO items (id, name, price_cents) VALUES ($1, $2, $3)",
            {std::string("p2"), std::string("B"), std::int64_t{-1}});
    FAIL() << "check constraint not enforced";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::constraint);
  }
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  auto db = open_sqlite({.path = fresh_db()});
  migrate(*db, "svc", load_migrations(kData + "/migrations/good"));
  auto c = db->acquire();
  {
    Transaction tx(*c);
    c->exec("INSERT INTO items (id, name, price_cents) VALUES ($1, $2, $3)",
            {std::string("gone"), std::string("A"), std::int64_t{1}});
  }
  {
    Transaction tx(*c);
    c->exec("INSERT INTO items (id, name, price_cents) VALUES ($1, $2, $3)",
            {std::string("kept"), std::string("B"), std::int64_t{2}});
    tx.commit();
  }
  auto rows = c->exec("SELECT id FROM items").rows;
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].text(0), "kept");
}

TEST(Sqlite, PoolWaitsThenFailsWhenExhausted) {
  auto db = open_sqlite({.path = fresh_db(), .pool_size = 1});
  auto held = db->acquire();
  EXPECT_THROW(db->acquire(std::chrono::milliseconds(50)), DbError);
  EXPECT_FALSE(db->ping());
}

}  // namespace
}  // namespace emporium::db
