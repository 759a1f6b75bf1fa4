// db::open_postgres against a real PostgreSQL 15 server.
//
// Needs EMPORIUM_TEST_DATABASE_URL and EMPORIUM_TEST_SERVICES_DIR, as printed by
//   eval "$(scripts/local-services.sh start DIR)"
// Without them the tests fail: the test command always starts the servers.
// Each test works in a database of its own, created and dropped around it, so
// tests may run in parallel. The restart test runs a private server of its own
// (under EMPORIUM_TEST_SERVICES_DIR) so stopping it disturbs no other test.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <thread>

#include "db/db.hpp"
#include "db/migrate.hpp"
#include "support.hpp"

namespace emporium::db {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Replaces the database name (the path) of a postgres:// URL.
std::string with_database(const std::string& url, const std::string& name) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) {
    return url + "/" + name;
  }
  const auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

// Adds a password to the user of a postgres://user@host URL.
std::string with_password(const std::string& url, const std::string& password) {
  const auto at = url.find('@');
  return at == std::string::npos ? url : url.substr(0, at) + ":" + password + url.substr(at);
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", rd());
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + buf;
}

const char* const kMissingEnv =
    " is not set. Start the test servers first:\n"
    "  eval \"$(scripts/local-services.sh start /tmp/emporium-services)\"\n"
    "(the test command does this; these tests never skip)";

ErrorKind kind_of_throw(const std::function<void()>& f) {
  try {
    f();
  } catch (const DbError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no DbError thrown";
  return ErrorKind::other;
}

std::int64_t count(Database& db, const std::string& sql) {
  auto c = db.acquire();
  return c->exec(sql).rows.at(0).integer(0);
}

// A fresh database per test, on the shared server.
class Postgres : public ::testing::Test {
 protected:
  void SetUp() override {
    base_url_ = env("EMPORIUM_TEST_DATABASE_URL");
    ASSERT_FALSE(base_url_.empty()) << "EMPORIUM_TEST_DATABASE_URL" << kMissingEnv;
    admin_ = open_postgres({.url = base_url_, .pool_size = 1});
    name_ = unique_name("emporium_t");
    admin_->acquire()->exec_script("CREATE DATABASE " + name_);
    url_ = with_database(base_url_, name_);
  }

  void TearDown() override {
    if (admin_ != nullptr && !name_.empty()) {
      admin_->acquire()->exec_script("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
  }

  std::unique_ptr<Database> open(std::size_t pool_size = 8,
                                 std::chrono::milliseconds statement_timeout = 5'000ms) {
    return open_postgres(
        {.url = url_, .pool_size = pool_size, .statement_timeout = statement_timeout});
  }

  std::string base_url_;
  std::string url_;
  std::string name_;
  std::unique_ptr<Database> admin_;
};

TEST_F(Postgres, EveryValueTypeRoundTrips) {
  auto db = open();
  auto c = db->acquire();
  EXPECT_EQ(c->dialect(), "postgres");
  c->exec_script(
      "CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA,"
      " flag BOOLEAN, n NUMERIC, small SMALLINT, r REAL, ts TIMESTAMPTZ);");

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) {
    all_bytes.push_back(static_cast<char>(i));
  }
  const std::string text = "h\xC3\xA9llo 'quoted' \"x\"; DROP TABLE v; -- $2 \\ \t\n";
  const char* insert =
      "INSERT INTO v (id, i, d, t, b, flag, n, small, r, ts)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
  auto r = c->exec(insert, {std::int64_t{1}, std::numeric_limits<std::int64_t>::max(), 0.1, text,
                            all_bytes, std::int64_t{1}, std::string("12.5"), std::int64_t{-32768},
                            1.5, std::string("2024-02-15T12:00:00Z")});
  EXPECT_EQ(r.affected, 1);
  c->exec(insert, {std::int64_t{2}, std::numeric_limits<std::int64_t>::min(),
                   -1.7976931348623157e308, std::string(), std::string(), std::int64_t{0},
                   std::int64_t{7}, std::int64_t{0}, 0.25, nullptr});
  c->exec(insert, {std::int64_t{3}, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                   nullptr, nullptr});
  c->exec(insert, {std::int64_t{4}, std::int64_t{0}, 5e-324, std::string("\xF0\x9F\x9B\x92"),
                   std::string(1, '\0'), nullptr, 0.1, nullptr, nullptr, nullptr});

  const auto res = c->exec("SELECT id, i, d, t, b, flag, n, small, r, ts FROM v ORDER BY id");
  EXPECT_EQ(res.columns,
            (std::vector<std::string>{"id", "i", "d", "t", "b", "flag", "n", "small", "r", "ts"}));
  ASSERT_EQ(res.rows.size(), 4U);

  const auto& a = res.rows[0];
  EXPECT_EQ(a.integer(0), 1);
  EXPECT_EQ(a.integer(1), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(a.real(2), 0.1);
  EXPECT_EQ(a.text(3), text);
  EXPECT_EQ(a.text(4), all_bytes);
  EXPECT_EQ(a.integer(5), 1);
  EXPECT_EQ(a.real(6), 12.5);
  EXPECT_EQ(a.integer(7), -32768);
  EXPECT_EQ(a.real(8), 1.5);
  EXPECT_TRUE(std::holds_alternative<std::string>(a.values[9]));  // other types come as text
  EXPECT_EQ(a.text(9).substr(0, 7), "2024-02");

  const auto& b = res.rows[1];
  EXPECT_EQ(b.integer(1), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(b.real(2), -1.7976931348623157e308);
  EXPECT_EQ(b.text(3), "");
  EXPECT_EQ(b.text(4), "");
  EXPECT_EQ(b.integer(5), 0);
  EXPECT_EQ(b.real(6), 7.0);
  EXPECT_EQ(b.integer(7), 0);
  EXPECT_EQ(b.real(8), 0.25);
  EXPECT_TRUE(b.is_null(9));

  for (std::size_t i = 1; i < 10; ++i) {
    EXPECT_TRUE(res.rows[2].is_null(i)) << "column " << i;
  }

  const auto& d = res.rows[3];
  EXPECT_EQ(d.real(2), 5e-324);
  EXPECT_EQ(d.text(3), "\xF0\x9F\x9B\x92");
  EXPECT_EQ(d.text(4), std::string(1, '\0'));
  EXPECT_EQ(d.real(6), 0.1);

  // Exact formatting of doubles both ways, special values included.
  for (double x :
       {0.1, 1.0 / 3.0, -2.5e-300, 123456789.123456789, -0.0,
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    const auto row = c->exec("SELECT $1::float8", {x}).rows.at(0);
    EXPECT_EQ(row.real(0), x);
    EXPECT_EQ(std::signbit(row.real(0)), std::signbit(x));
  }
  EXPECT_TRUE(std::isnan(c->exec("SELECT $1::float8", {std::nan("")}).rows.at(0).real(0)));
  const auto typed = c->exec("SELECT $1::int4 + 1, $2::int2, true, false, NULL::text, 'x'::text",
                             {std::int64_t{41}, std::int64_t{-5}})
                         .rows.at(0);
  EXPECT_EQ(typed.integer(0), 42);
  EXPECT_EQ(typed.integer(1), -5);
  EXPECT_EQ(typed.integer(2), 1);
  EXPECT_EQ(typed.integer(3), 0);
  EXPECT_TRUE(typed.is_null(4));
  EXPECT_EQ(typed.text(5), "x");

  EXPECT_EQ(c->exec("UPDATE v SET small = 1 WHERE id >= $1", {std::int64_t{2}}).affected, 3);
  EXPECT_EQ(c->exec("DELETE FROM v WHERE id = $1", {std::int64_t{99}}).affected, 0);
  // A cached statement runs again with other values.
  EXPECT_EQ(c->exec("DELETE FROM v WHERE id = $1", {std::int64_t{4}}).affected, 1);
}

TEST_F(Postgres, TransactionsCommitAndRollBack) {
  auto db = open();
  db->acquire()->exec_script("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)");
  const char* insert = "INSERT INTO acct (id, balance) VALUES ($1, $2)";
  {
    auto c = db->acquire();
    Transaction tx(*c);
    c->exec(insert, {std::int64_t{1}, std::int64_t{100}});
    // Not visible to another connection before commit (READ COMMITTED).
    EXPECT_EQ(count(*db, "SELECT count(*) FROM acct"), 0);
    tx.commit();
  }
  {
    auto c = db->acquire();
    Transaction tx(*c);
    c->exec(insert, {std::int64_t{2}, std::int64_t{200}});
  }  // rolled back by the guard
  {
    auto c = db->acquire();
    c->begin(true);
    c->exec(insert, {std::int64_t{3}, std::int64_t{300}});
    c->rollback();
    c->rollback();  // outside a transaction: nothing happens
  }
  {
    auto c = db->acquire();
    c->begin(true);
    c->exec(insert, {std::int64_t{4}, std::int64_t{400}});
  }  // lease returned inside a transaction: the pool rolls it back
  {
    // A failed statement poisons the transaction; commit reports it.
    auto c = db->acquire();
    Transaction tx(*c);
    c->exec(insert, {std::int64_t{5}, std::int64_t{500}});
    EXPECT_EQ(kind_of_throw([&] {
                c->exec(insert, {std::int64_t{1}, std::int64_t{1}});
              }),
              ErrorKind::constraint);
    EXPECT_EQ(kind_of_throw([&] { tx.commit(); }), ErrorKind::other);
    // The connection is usable again.
    EXPECT_EQ(c->exec("SELECT 1").rows.at(0).integer(0), 1);
  }
  auto c = db->acquire();
  const auto rows = c->exec("SELECT id, balance FROM acct ORDER BY id").rows;
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].integer(0), 1);
  EXPECT_EQ(rows[0].integer(1), 100);
}

TEST_F(Postgres, ErrorsAreClassified) {
  auto db = open();
  auto c = db->acquire();
  c->exec_script(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent (id),"
      " qty INTEGER NOT NULL CHECK (qty > 0), email TEXT UNIQUE);"
      "INSERT INTO parent VALUES (1);");
  const char* insert = "INSERT INTO child (id, parent, qty, email) VALUES ($1, $2, $3, $4)";
  c->exec(insert,
          {std::int64_t{1}, std::int64_t{1}, std::int64_t{1}, std::string("a@example.com")});

  EXPECT_EQ(kind_of_throw([&] {  // primary key
              c->exec(insert, {std::int64_t{1}, std::int64_t{1}, std::int64_t{1}, nullptr});
            }),
            ErrorKind::constraint);
  try {  // unique; the row's values stay out of the message
    c->exec(insert,
            {std::int64_t{2}, std::int64_t{1}, std::int64_t{1}, std::string("a@example.com")});
    ADD_FAILURE() << "no error";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::constraint);
    EXPECT_NE(std::string(e.what()).find("23505"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("a@example.com"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of_throw([&] {  // foreign key
              c->exec(insert, {std::int64_t{3}, std::int64_t{9}, std::int64_t{1}, nullptr});
            }),
            ErrorKind::constraint);
  EXPECT_EQ(kind_of_throw([&] {  // check
              c->exec(insert, {std::int64_t{4}, std::int64_t{1}, std::int64_t{0}, nullptr});
            }),
            ErrorKind::constraint);
  EXPECT_EQ(kind_of_throw([&] {  // not null
              c->exec(insert, {std::int64_t{5}, nullptr, std::int64_t{1}, nullptr});
            }),
            ErrorKind::constraint);
  EXPECT_EQ(kind_of_throw([&] { c->exec("SELEC 1"); }), ErrorKind::other);
  EXPECT_EQ(kind_of_throw([&] { c->exec("SELECT * FROM no_such_table"); }), ErrorKind::other);
  EXPECT_EQ(kind_of_throw([&] { c->exec("SELECT $1::int", {std::string("abc")}); }),
            ErrorKind::other);
  EXPECT_EQ(kind_of_throw([&] { c->exec(insert, {std::int64_t{6}}); }), ErrorKind::other);
  EXPECT_EQ(kind_of_throw([&] { c->exec_script("SELECT 1; SELECT nope;"); }), ErrorKind::other);
  // None of that broke the connection.
  EXPECT_EQ(c->exec("SELECT count(*) FROM child").rows.at(0).integer(0), 1);
}

TEST_F(Postgres, MigrateTwiceAppliesOnce) {
  auto db = open();
  const auto migrations = migrations_from({
      {"0001_items.sql", "CREATE TABLE items (id TEXT PRIMARY KEY, stock INTEGER NOT NULL);"},
      {"0002_seed.sql",
       "INSERT INTO items VALUES ('a', 1), ('b', 2);\nCREATE INDEX items_stock ON items (stock);"},
  });
  EXPECT_EQ(migrate(*db, "catalog", migrations), 2);
  EXPECT_EQ(migrate(*db, "catalog", migrations), 0);
  EXPECT_EQ(count(*db, "SELECT count(*) FROM items"), 2);
  EXPECT_EQ(count(*db, "SELECT count(*) FROM schema_migrations WHERE owner = 'catalog'"), 2);

  // A failing migration leaves nothing behind (DDL is transactional).
  auto broken = migrations;
  broken.push_back(
      {3, "broken", "CREATE TABLE extra (x INTEGER); SELECT no_such_column FROM items;"});
  EXPECT_THROW(migrate(*db, "catalog", broken), DbError);
  EXPECT_EQ(count(*db, "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'"), 0);
  EXPECT_EQ(count(*db, "SELECT count(*) FROM schema_migrations WHERE owner = 'catalog'"), 2);
}

TEST_F(Postgres, ConcurrentConditionalUpdatesNeverOversell) {
  auto db = open(8);
  {
    auto c = db->acquire();
    c->exec_script("CREATE TABLE t (id TEXT PRIMARY KEY, stock INTEGER NOT NULL)");
    c->exec("INSERT INTO t (id, stock) VALUES ($1, $2)", {std::string("p1"), std::int64_t{50}});
  }
  std::atomic<int> sold{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        try {
          auto c = db->acquire(10'000ms);
          sold += static_cast<int>(
              c->exec("UPDATE t SET stock = stock - 1 WHERE id = $1 AND stock >= 1",
                      {std::string("p1")})
                  .affected);
        } catch (const DbError&) {
          ++errors;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(sold.load(), 50);
  EXPECT_EQ(count(*db, "SELECT stock FROM t WHERE id = 'p1'"), 0);
}

TEST_F(Postgres, ExhaustedPoolFailsAfterTheDeadline) {
  auto db = open(2);
  auto first = db->acquire();
  auto second = db->acquire();
  const auto start = Clock::now();
  try {
    db->acquire(300ms);
    ADD_FAILURE() << "acquired a third connection from a pool of two";
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unavailable);
  }
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 290ms);
  EXPECT_LT(waited, 2'000ms);

  // A waiter gets the connection released while it waits.
  std::thread releaser([lease = std::move(first)]() mutable {
    std::this_thread::sleep_for(100ms);
    { auto gone = std::move(lease); }
  });
  auto third = db->acquire(5'000ms);
  EXPECT_EQ(third->exec("SELECT 1").rows.at(0).integer(0), 1);
  releaser.join();
}

TEST_F(Postgres, StatementTimeoutIsBusy) {
  auto db = open(1, 200ms);
  auto c = db->acquire();
  const auto start = Clock::now();
  EXPECT_EQ(kind_of_throw([&] { c->exec("SELECT pg_sleep(5)"); }), ErrorKind::busy);
  EXPECT_LT(Clock::now() - start, 2'000ms);
  EXPECT_EQ(c->exec("SELECT 1").rows.at(0).integer(0), 1);
}

TEST_F(Postgres, BrokenConnectionsAreReplaced) {
  auto db = open(1);
  std::int64_t pid = 0;
  {
    // Killed while leased: the query fails as unavailable, the pool drops it.
    auto c = db->acquire();
    pid = c->exec("SELECT pg_backend_pid()").rows.at(0).integer(0);
    admin_->acquire()->exec("SELECT pg_terminate_backend($1::int, 5000)", {pid});
    EXPECT_EQ(kind_of_throw([&] { c->exec("SELECT 1"); }), ErrorKind::unavailable);
  }
  {
    auto c = db->acquire();
    const auto pid2 = c->exec("SELECT pg_backend_pid()").rows.at(0).integer(0);
    EXPECT_NE(pid2, pid);
    pid = pid2;
  }
  // Killed while idle in the pool: noticed at acquire, never handed out.
  admin_->acquire()->exec("SELECT pg_terminate_backend($1::int, 5000)", {pid});
  auto c = db->acquire();
  EXPECT_NE(c->exec("SELECT pg_backend_pid()").rows.at(0).integer(0), pid);
  EXPECT_TRUE(c->exec("SELECT 1").rows.size() == 1);
}

TEST_F(Postgres, ConnectFailuresHideThePassword) {
  const std::string secret = "Sup3rSecretPw";
  const std::vector<std::string> urls = {
      "postgres://emporium:" + secret + "@127.0.0.1:1/x",
      "postgres://emporium:" + secret + "%zz@127.0.0.1:1/x",
      "postgresql://emporium@127.0.0.1:1/x?password=" + secret + "&sslmode=disable",
      "host=127.0.0.1 port=1 user=emporium password=" + secret,
      with_password(with_database(base_url_, "no_such_database"), secret),
  };
  for (const auto& url : urls) {
    const auto start = Clock::now();
    try {
      open_postgres({.url = url, .connect_timeout = 1'000ms});
      ADD_FAILURE() << "connected to " << url;
    } catch (const DbError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::unavailable) << e.what();
      EXPECT_EQ(std::string(e.what()).find("Secret"), std::string::npos) << e.what();
      EXPECT_TRUE(e.transient());
    }
    EXPECT_LT(Clock::now() - start, 1'500ms) << url;
  }
}

TEST_F(Postgres, SchemasKeepServicesApart) {
  // Several processes opening one schema at once all succeed.
  std::vector<std::thread> openers;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    openers.emplace_back([&] {
      try {
        open_postgres({.url = url_, .pool_size = 1, .schema = "Mixed-Case \"x\""});
        ++opened;
      } catch (const DbError& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : openers) {
    t.join();
  }
  EXPECT_EQ(opened.load(), 4);

  auto alpha = open_postgres({.url = url_, .pool_size = 2, .schema = "alpha"});
  auto beta = open_postgres({.url = url_, .pool_size = 2, .schema = "Mixed-Case \"x\""});
  const auto items = [](const char* name) {
    return migrations_from(
        {{"0001_items.sql", "CREATE TABLE items (name TEXT NOT NULL);"}, {"0002_seed.sql", name}});
  };
  EXPECT_EQ(migrate(*alpha, "svc", items("INSERT INTO items VALUES ('from alpha');")), 2);
  EXPECT_EQ(migrate(*beta, "svc", items("INSERT INTO items VALUES ('from beta');")), 2);
  EXPECT_EQ(migrate(*alpha, "svc", items("INSERT INTO items VALUES ('from alpha');")), 0);
  EXPECT_EQ(alpha->acquire()->exec("SELECT name FROM items").rows.at(0).text(0), "from alpha");
  EXPECT_EQ(beta->acquire()->exec("SELECT name FROM items").rows.at(0).text(0), "from beta");
  EXPECT_EQ(count(*alpha, "SELECT count(*) FROM items"), 1);
  // Nothing landed in public.
  EXPECT_EQ(count(*alpha, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
}

// --- a private server that the test stops and restarts ---------------------

class PostgresRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = test::PrivateServer::postgres();
    url_ = server_->url();
  }

  // Runs the script for this test's server alone; returns its stdout.
  std::string services(const std::string& verb) { return server_->run(verb); }

  std::unique_ptr<test::PrivateServer> server_;
  std::string url_;
};

TEST_F(PostgresRestart, TheSamePoolReconnectsAfterARestart) {
  auto db = open_postgres({.url = url_, .pool_size = 4, .connect_timeout = 1'000ms});
  const auto query = [&] { return db->acquire()->exec("SELECT 41 + 1").rows.at(0).integer(0); };
  {
    // Fill the pool with several idle connections.
    auto a = db->acquire();
    auto b = db->acquire();
    auto c = db->acquire();
    for (auto* l : {&a, &b, &c}) {
      EXPECT_EQ((**l).exec("SELECT 1").rows.at(0).integer(0), 1);
    }
  }

  // A planned restart: idle connections are dead; the pool notices at
  // acquire and the very first query after it succeeds.
  services("restart");
  EXPECT_EQ(query(), 42);
  EXPECT_TRUE(db->ping());

  // An outage: every attempt fails fast as unavailable, including one on a
  // connection leased across the stop, which then leaves the pool.
  auto held = db->acquire();
  services("stop");
  EXPECT_EQ(kind_of_throw([&] { held->exec("SELECT 1"); }), ErrorKind::unavailable);
  { auto gone = std::move(held); }
  for (int i = 0; i < 8; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(kind_of_throw([&] { query(); }), ErrorKind::unavailable);
    EXPECT_LT(Clock::now() - start, 1'000ms) << "attempt " << i;
    if (i % 2 == 1) {
      std::this_thread::sleep_for(200ms);  // past the connect backoff now and then
    }
  }
  auto start = Clock::now();
  EXPECT_FALSE(db->ping());
  EXPECT_LT(Clock::now() - start, 1'000ms);

  // Back up: the same Database object serves queries again.
  services("start");
  start = Clock::now();
  std::int64_t answer = 0;
  while (Clock::now() - start < 10s) {
    try {
      answer = query();
      break;
    } catch (const DbError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::unavailable) << e.what();
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_EQ(answer, 42);
  EXPECT_LT(Clock::now() - start, 1'000ms);
  // All of the pool works, not just one connection.
  std::vector<Database::Lease> leases;
  for (int i = 0; i < 4; ++i) {
    leases.push_back(db->acquire());
    EXPECT_EQ(leases.back()->exec("SELECT 2").rows.at(0).integer(0), 2);
  }
}

}  // namespace
}  // namespace emporium::db
