// The SQLite pool's write-ahead log under a steady mix of writes and short
// reads: it is restarted from its start once it holds wal_restart_pages, so
// its file stays bounded, and a long reader delays that without failing a
// write.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "../scratch.hpp"
#include "db/db.hpp"

namespace emporium::db {
namespace {

using namespace std::chrono_literals;

constexpr int kRestartPages = 64;

struct Shop {
  std::filesystem::path dir;
  std::unique_ptr<Database> db;

  Shop() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = testing_support::scratch_dir(info->name());
    db = open_sqlite(
        {.path = (dir / "wal.db").string(), .pool_size = 8, .wal_restart_pages = kRestartPages});
    db->acquire()->exec_script("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  std::uintmax_t wal_bytes() const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(dir / "wal.db-wal", ec);
    return ec ? 0 : size;
  }

  // Rows first .. first+count-1, about a page each, inserted by `threads`
  // writers, each insert its own transaction.
  void write(int threads, int count, int first = 0) {
    std::atomic<int> next{0};
    std::vector<std::thread> writers;
    writers.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&] {
        const std::string body(3'000, 'x');
        for (int k = next++; k < count; k = next++) {
          auto c = db->acquire();
          Transaction tx(*c);
          c->exec("INSERT INTO rows (id, body) VALUES ($1, $2)", {std::int64_t{first + k}, body});
          tx.commit();
        }
      });
    }
    for (auto& w : writers) {
      w.join();
    }
  }

  std::int64_t rows() {
    return db->acquire()->exec("SELECT count(*) FROM rows").rows[0].integer(0);
  }
};

// Readers that keep the log in use: each opens a read transaction, reads,
// holds it 3 ms and ends it, over and over until stopped, the next one
// starting 1 ms after the last, so that some reader is always in the log.
class Readers {
 public:
  Readers(Database& db, int n) {
    for (int r = 0; r < n; ++r) {
      threads_.emplace_back([this, &db] {
        while (!stop_) {
          auto c = db.acquire();
          Transaction tx(*c, false);
          c->exec("SELECT count(*) FROM rows");
          std::this_thread::sleep_for(3ms);
          tx.commit();
        }
      });
      std::this_thread::sleep_for(1ms);
    }
  }
  ~Readers() {
    stop_ = true;
    for (auto& t : threads_) {
      t.join();
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST(SqliteWal, UnderSteadyReadsTheLogIsRestartedAndStaysBounded) {
  Shop shop;
  constexpr int kWrites = 1'000;  // 4 MB of log or more if it were never restarted
  {
    Readers readers(*shop.db, 3);
    shop.write(3, kWrites);
    EXPECT_LT(shop.wal_bytes(), 1'536U * 1024)
        << "the log grew to " << shop.wal_bytes() << " bytes";
  }
  EXPECT_EQ(shop.rows(), kWrites);
}

TEST(SqliteWal, ALongReaderDelaysTheRestartAndFailsNoWrite) {
  Shop shop;
  constexpr int kWrites = 200;
  {
    // A read transaction open for the whole run, as a backup's would be.
    auto held = shop.db->acquire();
    Transaction snapshot(*held, false);
    held->exec("SELECT count(*) FROM rows");
    shop.write(2, kWrites);
    // It still sees the table as it was when it began.
    EXPECT_EQ(held->exec("SELECT count(*) FROM rows").rows[0].integer(0), 0);
    snapshot.commit();
  }
  EXPECT_EQ(shop.rows(), kWrites);
  // With the reader gone, the log is restarted again at the next try: more
  // writes make the file no longer than it was plus one try's worth.
  const auto before = shop.wal_bytes();
  shop.write(2, kWrites * 2, kWrites);
  EXPECT_LE(shop.wal_bytes(), before + std::uintmax_t{kRestartPages} * (4096 + 24));
  EXPECT_EQ(shop.rows(), kWrites * 3);
}

}  // namespace
}  // namespace emporium::db
