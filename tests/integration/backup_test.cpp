// Backup and restore of the embedded shape (SQLite), driven through the
// emporium binary: the restore drill, refusals, corrupted backups, events
// after a restore, consistency under load and serve's own schedule.
//
// Needs EMPORIUM_TEST_SMTP_URL and EMPORIUM_TEST_MAILDEV_URL (maildev, as
// scripts/local-services.sh prints them) for the email checks.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "drill.hpp"

namespace emporium::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A scratch directory removed at the end of the test.
struct Scratch {
  fs::path root{temp_dir()};
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  std::string operator/(const std::string& name) const { return (root / name).string(); }
};

// One value of a SQLite file, read directly (the test's view of the state);
// `attach` is another file, attached as schema `product`.
std::string sql_value(const fs::path& file, const std::string& sql, const fs::path& attach = {}) {
  sqlite3* db = nullptr;
  const bool read = sql.rfind("SELECT", 0) == 0;
  sqlite3_open_v2(file.c_str(), &db,
                  (read ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_URI, nullptr);
  if (!attach.empty()) {
    sqlite3_exec(db, ("ATTACH 'file:" + attach.string() + "?mode=ro' AS product").c_str(), nullptr,
                 nullptr, nullptr);
  }
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The drill: orders A, backup (shop serving), orders B, destroy the data
// directory, restore, start: exactly A, stock as A left it, carts and users
// as they were, the journey works, no email twice.
TEST(BackupSqlite, DrillRestoresExactlyWhatTheBackupHeld) {
  Scratch scratch;
  const auto data = scratch / "data";
  const auto saved = scratch / "backup";
  Maildev mail;
  const auto ann_mail = unique_address("ann");
  const auto bob_mail = unique_address("bob");
  const auto cat_mail = unique_address("cat");
  std::string lamp, desk, a1, a2;
  std::vector<std::string> ann_a;
  std::string dan_mail;
  {
    AllInOneShop shop(Storage{}, smtp_args(), data);
    lamp = shop.create_product("Drill Lamp", 20.00, 100);
    desk = shop.create_product("Drill Desk", 150.00, 10);
    auto ann = shop.register_and_login(ann_mail);
    auto bob = shop.register_and_login(bob_mail);
    auto cat = shop.register_and_login(cat_mail);
    a1 = buy(shop, ann, lamp, 2);
    a2 = buy(shop, bob, desk, 1);
    ASSERT_EQ(shop.add_to_cart(cat, lamp, 3).status, 201);  // a cart left full
    mail.wait(ann_mail, 2);
    mail.wait(bob_mail, 2);
    ann_a = order_ids(shop, ann);

    const auto backup = run_emporium({"backup", "--data-dir=" + data, "--out=" + saved});
    ASSERT_EQ(backup.code, 0) << backup.output;
    EXPECT_TRUE(contains(backup.output, "backup: order.db")) << backup.output;

    buy(shop, ann, lamp, 5);  // B: lost with the disaster
    dan_mail = unique_address("dan");
    shop.register_and_login(dan_mail);  // a user after the backup
    ASSERT_EQ(mail.wait(ann_mail, 3).size(), 3u);
    shop.process().signal(SIGTERM);
    ASSERT_EQ(shop.process().wait_exit(20s), 0);
  }
  fs::remove_all(data);  // the disaster

  const auto restored = run_emporium({"restore", "--from=" + saved, "--data-dir=" + data});
  ASSERT_EQ(restored.code, 0) << restored.output;

  AllInOneShop shop(Storage{}, smtp_args(), data);
  shop.register_and_login(unique_address("eve"));  // the journey: register...
  auto ann_again = login(shop, ann_mail);
  EXPECT_EQ(order_ids(shop, ann_again), ann_a) << "exactly the orders A";
  EXPECT_EQ(shop.stock_of(lamp), 100 - 2);
  EXPECT_EQ(shop.stock_of(desk), 10 - 1);
  EXPECT_EQ(login_status(shop, dan_mail), 401) << "a user registered after the backup is gone";
  auto cat = login(shop, cat_mail);
  const auto cart = shop.call("GET", "/api/cart/" + cat.id, "", cat.token);
  EXPECT_TRUE(contains(cart.raw, lamp) && contains(cart.raw, R"("quantity":3)")) << cart.raw;

  auto bob = login(shop, bob_mail);
  const auto c1 = buy(shop, bob, lamp, 1);  // ...and buy again
  EXPECT_FALSE(c1.empty());
  EXPECT_EQ(shop.stock_of(lamp), 100 - 2 - 1);
  ASSERT_EQ(with_subject(mail.wait(bob_mail, 3), "is confirmed").size(), 2u);
  std::this_thread::sleep_for(1500ms);  // room for a wrong resend to arrive
  EXPECT_EQ(confirmations(mail, ann_mail), 2u) << "A and B once each, none again";
  EXPECT_EQ(confirmations(mail, bob_mail), 2u);
  EXPECT_EQ(with_subject(mail.to(ann_mail), "Welcome").size(), 1u);
}

TEST(BackupSqlite, RestoreRefusesADirectoryARunningShopHolds) {
  Scratch scratch;
  const auto saved = scratch / "backup";
  AllInOneShop shop(Storage{}, {}, scratch / "data");
  shop.create_product("Held", 1.00, 1);
  ASSERT_EQ(run_emporium({"backup", "--data-dir=" + shop.data_dir(), "--out=" + saved}).code, 0);

  const auto r =
      run_emporium({"restore", "--from=" + saved, "--data-dir=" + shop.data_dir(), "--force"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.output, "a running Emporium holds")) << r.output;
  EXPECT_EQ(shop.call("GET", "/api/products").status, 200) << "the shop is untouched";
}

TEST(BackupSqlite, RestoreRefusesANonEmptyDirectoryUnlessForced) {
  Scratch scratch;
  const auto saved = scratch / "backup";
  const auto data = scratch / "data";
  std::string id;
  {
    AllInOneShop shop(Storage{}, {}, data);
    id = shop.create_product("Kept", 1.00, 7);
  }
  ASSERT_EQ(run_emporium({"backup", "--data-dir=" + data, "--out=" + saved}).code, 0);
  const auto target = scratch / "target";
  fs::create_directories(target);
  std::ofstream(target + "/notes.txt") << "someone's file";

  const auto refused = run_emporium({"restore", "--from=" + saved, "--data-dir=" + target});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.output, "is not empty (notes.txt)")) << refused.output;
  EXPECT_FALSE(fs::exists(target + "/product.db"));

  const auto forced =
      run_emporium({"restore", "--from=" + saved, "--data-dir=" + target, "--force"});
  ASSERT_EQ(forced.code, 0) << forced.output;
  AllInOneShop shop(Storage{}, {}, target);
  EXPECT_EQ(shop.stock_of(id), 7);
}

TEST(BackupSqlite, CorruptedBackupIsRefusedByVerifyAndRestore) {
  Scratch scratch;
  const auto saved = scratch / "backup";
  {
    AllInOneShop shop(Storage{}, {}, scratch / "data");
    for (int i = 0; i < 20; ++i) {
      shop.create_product("Item " + std::to_string(i), 1.00, 1);
    }
  }
  ASSERT_EQ(run_emporium({"backup", "--data-dir=" + (scratch / "data"), "--out=" + saved}).code, 0);
  const auto sound = run_emporium({"backup", "verify", saved});
  ASSERT_EQ(sound.code, 0) << sound.output;
  EXPECT_TRUE(contains(sound.output, "is sound: 5 databases")) << sound.output;

  {  // one byte flipped in the middle of product.db
    std::fstream f(saved + "/product.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(saved + "/product.db") / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(fs::file_size(saved + "/product.db") / 2));
    c = static_cast<char>(c ^ 0x5A);
    f.write(&c, 1);
  }
  const auto bad = run_emporium({"backup", "verify", saved});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(contains(bad.output, "is corrupted: product.db has SHA-256")) << bad.output;

  const auto target = scratch / "target";
  const auto refused = run_emporium({"restore", "--from=" + saved, "--data-dir=" + target});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.output, "refusing to restore: backup " + saved + " is corrupted"))
      << refused.output;
  EXPECT_FALSE(fs::exists(target + "/product.db")) << "nothing restored";

  fs::resize_file(saved + "/user.db", 100);
  EXPECT_TRUE(contains(run_emporium({"backup", "verify", saved}).output, "product.db"));
  fs::remove(saved + "/manifest.json");
  const auto no_manifest = run_emporium({"backup", "verify", saved});
  EXPECT_EQ(no_manifest.code, 1);
  EXPECT_TRUE(contains(no_manifest.output, "manifest.json is missing")) << no_manifest.output;
}

// An event the backup holds unsent (taken before the relay marked it) whose
// email went out after the backup: restored, it is held back, not sent again;
// --replay-events lets it go (so the check can fail).
TEST(BackupSqlite, EventsUnsentInTheBackupAreHeldBackOnRestore) {
  Scratch scratch;
  const auto data = scratch / "data";
  const auto saved = scratch / "backup";
  Maildev mail;
  const auto ann_mail = unique_address("ann");
  {
    AllInOneShop shop(Storage{}, smtp_args(), data);
    const auto lamp = shop.create_product("Held Lamp", 5.00, 10);
    auto ann = shop.register_and_login(ann_mail);
    buy(shop, ann, lamp, 1);
    ASSERT_EQ(mail.wait(ann_mail, 2).size(), 2u);
  }
  // As a backup taken just before the relay published the event sees it:
  // unsent, no email; the email then went out after the backup.
  sql_value(data + "/order.db", "UPDATE outbox SET sent_at = NULL");
  sql_value(data + "/notification.db", "DELETE FROM sent_emails WHERE kind <> 'welcome'");
  ASSERT_EQ(sql_value(data + "/notification.db", "SELECT count(*) FROM sent_emails"), "1")
      << "the welcome email's record stays";
  ASSERT_EQ(sql_value(data + "/order.db", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
            "1");
  ASSERT_EQ(run_emporium({"backup", "--data-dir=" + data, "--out=" + saved}).code, 0);

  const auto held_dir = scratch / "held";
  const auto held = run_emporium({"restore", "--from=" + saved, "--data-dir=" + held_dir});
  ASSERT_EQ(held.code, 0) << held.output;
  EXPECT_TRUE(contains(held.output, "held back (marked sent, not published): order: order.placed"))
      << held.output;
  {
    AllInOneShop shop(Storage{}, smtp_args(), held_dir);
    std::this_thread::sleep_for(2s);  // the relay's first rounds
  }
  EXPECT_EQ(confirmations(mail, ann_mail), 1u);

  const auto replay_dir = scratch / "replay";
  ASSERT_EQ(
      run_emporium({"restore", "--from=" + saved, "--data-dir=" + replay_dir, "--replay-events"})
          .code,
      0);
  AllInOneShop shop(Storage{}, smtp_args(), replay_dir);
  EXPECT_TRUE(eventually([&] { return confirmations(mail, ann_mail) == 2; }, 10s))
      << "--replay-events publishes it";
}

// Every backup taken while buyers keep ordering restores into a shop whose
// orders and stock agree: each order has its reservation, each reservation
// not given back has its order or a pending release task, and each product's
// stock is its start minus what live reservations hold.
TEST(BackupSqlite, BackupsUnderLoadAreConsistentAcrossServices) {
  Scratch scratch;
  AllInOneShop shop(Storage{}, {}, scratch / "data");
  const std::int64_t start = 100000;
  const auto lamp = shop.create_product("Load Lamp", 1.00, start);
  std::vector<Customer> buyers;
  buyers.reserve(6);
  for (int i = 0; i < 6; ++i) {
    buyers.push_back(shop.register_and_login(unique_address("load")));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> placed{0};
  std::vector<std::thread> threads;
  threads.reserve(buyers.size());
  for (auto& b : buyers) {
    threads.emplace_back([&, b] {
      while (!stop) {
        if (shop.add_to_cart(b, lamp, 1 + placed % 3).status / 100 == 2 &&
            shop.place_order(b).status == 201) {
          ++placed;
        }
      }
    });
  }
  std::vector<std::string> backups;
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(400ms);
    backups.push_back(scratch / ("b" + std::to_string(i)));
    const auto r =
        run_emporium({"backup", "--data-dir=" + shop.data_dir(), "--out=" + backups.back()});
    ASSERT_EQ(r.code, 0) << r.output;
  }
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_GT(placed.load(), 10) << "orders placed while the backups ran";
  for (const auto& b : backups) {
    const fs::path p = b;
    const auto orders = p / "order.db";
    const auto products = p / "product.db";
    SCOPED_TRACE(b + ": " + sql_value(orders, "SELECT count(*) FROM orders") + " orders");
    EXPECT_EQ(sql_value(products,
                        "SELECT stock + (SELECT coalesce(sum(quantity), 0) FROM stock_reservations"
                        " WHERE released_at IS NULL) FROM products"),
              std::to_string(start))
        << "stock plus live reservations is the start";
    EXPECT_EQ(sql_value(orders,
                        "SELECT count(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM"
                        " product.stock_reservations r WHERE r.order_id = i.order_id AND"
                        " r.product_id = i.product_id AND r.quantity = i.quantity AND"
                        " r.released_at IS NULL)",
                        products),
              "0")
        << "an order line whose stock was not taken";
    EXPECT_EQ(sql_value(orders,
                        "SELECT count(*) FROM product.stock_reservations r WHERE r.released_at IS"
                        " NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id)"
                        " AND NOT EXISTS (SELECT 1 FROM order_tasks t WHERE t.subject ="
                        " r.order_id AND t.kind = 'release_stock' AND t.done_at IS NULL)",
                        products),
              "0")
        << "stock taken for an order the shop does not hold, and nothing to give it back";
  }
}

TEST(BackupSqlite, ServeTakesAndPrunesItsOwnBackups) {
  Scratch scratch;
  const auto dir = scratch / "backups";
  AllInOneShop shop(Storage{},
                    {"--backup-interval=300ms", "--backup-keep=2", "--backup-dir=" + dir},
                    scratch / "data");
  shop.create_product("Scheduled", 1.00, 1);
  auto count = [&] {
    std::vector<std::string> names;
    if (fs::exists(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) {
        EXPECT_EQ(e.path().string().find(".partial"), std::string::npos) << "left behind";
        names.push_back(e.path().string());
      }
    }
    return names;
  };
  ASSERT_TRUE(shop.process().wait_for_line("old backup removed", 10s).has_value())
      << shop.process().output();
  shop.process().signal(SIGTERM);
  ASSERT_EQ(shop.process().wait_exit(20s), 0);
  const auto kept = count();
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& b : kept) {
    const auto v = run_emporium({"backup", "verify", b});
    EXPECT_EQ(v.code, 0) << v.output;
  }
}

TEST(BackupSqlite, ServeRefusesADirectoryARestoreHolds) {
  Scratch scratch;
  const auto data = scratch / "data";
  fs::create_directories(data);
  const int fd = ::open((data + "/.emporium.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // as `emporium restore` holds it
  const auto r =
      run_emporium({"serve", "--listen=127.0.0.1:0", "--data-dir=" + data, "--demo-catalog=false"});
  ::close(fd);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.output, "is being restored")) << r.output;
  EXPECT_FALSE(fs::exists(data + "/product.db")) << "nothing opened";
}

// `seed --products --orders` makes data the services could have written:
// each order's lines are reserved stock, each product's stock is its start
// minus its reservations, and a seeded customer signs in and sees orders.
TEST(BackupSqlite, SeedMakesConsistentDrillData) {
  Scratch scratch;
  const auto data = scratch / "data";
  const auto seeded =
      run_emporium({"seed", "--data-dir=" + data, "--products=40", "--orders=600", "--users=3"});
  ASSERT_EQ(seeded.code, 0) << seeded.output;
  const fs::path dir = data;
  EXPECT_EQ(sql_value(dir / "product.db", "SELECT count(*) FROM products"), "40");
  EXPECT_EQ(sql_value(dir / "order.db", "SELECT count(*) FROM orders"), "600");
  EXPECT_EQ(
      sql_value(dir / "product.db",
                "SELECT count(*) FROM products p WHERE stock + (SELECT coalesce(sum(quantity),"
                " 0) FROM stock_reservations r WHERE r.product_id = p.id) != 1000000"),
      "0");
  EXPECT_EQ(sql_value(dir / "order.db",
                      "SELECT count(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM"
                      " product.stock_reservations r WHERE r.order_id = i.order_id AND"
                      " r.product_id = i.product_id AND r.quantity = i.quantity)",
                      dir / "product.db"),
            "0");
  EXPECT_EQ(sql_value(dir / "order.db",
                      "SELECT count(*) FROM orders o WHERE total_cents != (SELECT sum(quantity *"
                      " price_cents) FROM order_items i WHERE i.order_id = o.id)"),
            "0");
  const auto at = seeded.output.find("bulk-");
  ASSERT_NE(at, std::string::npos) << seeded.output;
  const auto email = seeded.output.substr(at, seeded.output.find(' ', at) - at);
  AllInOneShop shop(Storage{}, {}, data);
  auto r = shop.call("POST", "/api/users/login",
                     R"({"email":")" + email + R"(","password":"bulk-seed-password"})");
  ASSERT_EQ(r.status, 200) << email << ": " << r.raw;
  const Customer c{std::string(r.obj().at("user").as_object().at("id").as_string()), email,
                   std::string(r.obj().at("token").as_string()), ""};
  EXPECT_EQ(order_ids(shop, c).size(), 100u) << "600 orders over 3 customers, a page of 100";
}

TEST(BackupSqlite, HelpSaysWhatBackupAndRestoreDo) {
  const auto backup = run_emporium({"backup", "--help"});
  EXPECT_EQ(backup.code, 0);
  EXPECT_TRUE(contains(backup.output, "online, consistent backup")) << backup.output;
  EXPECT_TRUE(contains(backup.output, "--out")) << backup.output;
  EXPECT_TRUE(contains(backup.output, "verify")) << backup.output;
  const auto restore = run_emporium({"restore", "--help"});
  EXPECT_EQ(restore.code, 0);
  EXPECT_TRUE(contains(restore.output, "Verify the backup --from and restore it"))
      << restore.output;
  EXPECT_TRUE(contains(restore.output, "--force")) << restore.output;
}

}  // namespace
}  // namespace emporium::test
