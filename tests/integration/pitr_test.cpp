// Backup and restore of the PostgreSQL shape with scripts/pg-backup.sh: the
// point-in-time drill on a cluster of the test's own with WAL archiving, and
// the logical dump drill on the suite's server (EMPORIUM_TEST_DATABASE_URL).
//
// Needs EMPORIUM_TEST_SERVICES_DIR, EMPORIUM_TEST_DATABASE_URL,
// EMPORIUM_TEST_SMTP_URL and EMPORIUM_TEST_MAILDEV_URL, as scripts/test.sh
// exports them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "db/db.hpp"
#include "drill.hpp"

namespace emporium::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string query(const std::string& url, const std::string& sql) {
  auto database = db::open_postgres({.url = url, .pool_size = 1});
  auto c = database->acquire();
  const auto r = c->exec(sql);
  return r.rows.empty() || r.rows[0].is_null(0) ? std::string() : r.rows[0].text(0);
}

void script(const std::string& url, const std::string& sql) {
  auto database = db::open_postgres({.url = url, .pool_size = 1});
  database->acquire()->exec_script(sql);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The drill: orders A, base backup (shop serving), orders B, note the time,
// orders C, stop the server and wipe its directory, restore to the noted
// time, start: exactly A and B, stock as they left it, users as they were,
// the journey works, no email twice.
TEST(BackupPostgres, PointInTimeDrillRestoresToTheNotedTime) {
  auto pg = PrivateServer::postgres();
  const auto archive = (pg->dir() / "archive").string();
  const auto base = (pg->dir() / "base").string();
  const auto pgdata = pg->dir() / "pg" / "data";
  auto on = run_pg_backup({"archive-on", pg->url(), archive});
  ASSERT_EQ(on.code, 0) << on.output;
  pg->run("restart");
  ASSERT_EQ(query(pg->url(), "SELECT current_setting('archive_mode')"), "on");

  const auto storage = Storage::postgres_on(pg->url());
  Maildev mail;
  const auto ann_mail = unique_address("ann");
  const auto bob_mail = unique_address("bob");
  std::string lamp, noted, late_mail;
  std::vector<std::string> ann_ab;
  {
    AllInOneShop shop(storage, smtp_args());
    lamp = shop.create_product("PITR Lamp", 10.00, 100);
    auto ann = shop.register_and_login(ann_mail);
    auto bob = shop.register_and_login(bob_mail);
    ann_ab.push_back(buy(shop, ann, lamp, 2));  // A
    const auto b = run_pg_backup({"base", pg->url(), base});
    ASSERT_EQ(b.code, 0) << b.output;
    ann_ab.push_back(buy(shop, ann, lamp, 3));  // B
    buy(shop, bob, lamp, 1);                    // B
    mail.wait(ann_mail, 3);
    mail.wait(bob_mail, 2);
    std::this_thread::sleep_for(1100ms);
    noted = query(pg->url(), "SELECT clock_timestamp()::text");
    std::this_thread::sleep_for(1100ms);
    buy(shop, ann, lamp, 4);  // C: after the noted time
    late_mail = unique_address("late");
    shop.register_and_login(late_mail);
    ASSERT_EQ(mail.wait(ann_mail, 4).size(), 4u);
    const auto f = run_pg_backup({"flush", pg->url()});
    ASSERT_EQ(f.code, 0) << f.output;
  }
  pg->run("stop");
  fs::remove_all(pgdata);  // the disaster

  const auto r = run_pg_backup({"restore", base, archive, pgdata.string(), "--time", noted});
  ASSERT_EQ(r.code, 0) << r.output;
  pg->run("start");
  ASSERT_TRUE(eventually(
      [&] { return query(pg->url(), "SELECT pg_is_in_recovery()::text") == "false"; }, 30s));
  const auto held = run_pg_backup({"hold-events", storage.database_url});
  ASSERT_EQ(held.code, 0) << held.output;

  AllInOneShop shop(storage, smtp_args());
  auto ann = login(shop, ann_mail);
  EXPECT_EQ(order_ids(shop, ann), sorted(ann_ab)) << "exactly A and B";
  EXPECT_EQ(shop.stock_of(lamp), 100 - 2 - 3 - 1);
  EXPECT_EQ(login_status(shop, late_mail), 401) << "a user registered after the noted time is gone";
  auto bob = login(shop, bob_mail);
  EXPECT_FALSE(buy(shop, bob, lamp, 1).empty());  // the journey works again
  EXPECT_EQ(shop.stock_of(lamp), 100 - 2 - 3 - 1 - 1);
  ASSERT_EQ(with_subject(mail.wait(bob_mail, 3), "is confirmed").size(), 2u);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(confirmations(mail, ann_mail), 3u) << "A, B and C once each, none again";
}

// pg_dump of every schema in one snapshot, the schemas dropped, pg_restore:
// exactly the orders of the dump; a corrupted dump is refused.
TEST(BackupPostgres, DumpDrillAndACorruptedDumpRefused) {
  const auto storage = Storage::make("postgres");
  const auto dir = fs::path(temp_dir());
  const auto file = (dir / "emporium.dump").string();
  std::string lamp, ann_mail = unique_address("ann");
  std::vector<std::string> before;
  {
    AllInOneShop shop(storage);
    lamp = shop.create_product("Dump Lamp", 10.00, 50);
    auto ann = shop.register_and_login(ann_mail);
    buy(shop, ann, lamp, 2);
    before = order_ids(shop, ann);
    const auto d = run_pg_backup({"dump", storage.database_url, file});
    ASSERT_EQ(d.code, 0) << d.output;
    buy(shop, ann, lamp, 5);  // after the dump: lost
  }
  script(storage.database_url,
         R"(DROP SCHEMA product, "user", cart, "order", notification CASCADE)");
  const auto r = run_pg_backup({"restore-dump", storage.database_url, file});
  ASSERT_EQ(r.code, 0) << r.output;
  {
    AllInOneShop shop(storage);
    EXPECT_EQ(order_ids(shop, login(shop, ann_mail)), before);
    EXPECT_EQ(shop.stock_of(lamp), 50 - 2);
  }
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
    f.put('\x7f');
  }
  const auto bad = run_pg_backup({"restore-dump", storage.database_url, file});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("does not match " + file + ".sha256 (the dump is corrupted)"),
            std::string::npos)
      << bad.output;
  AllInOneShop shop(storage);
  EXPECT_EQ(shop.stock_of(lamp), 50 - 2) << "the refused dump touched nothing";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace emporium::test
