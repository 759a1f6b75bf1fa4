// Faults of the data plane, with real servers on loopback: the shop keeps its
// promises when PostgreSQL goes away under load and comes back.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <map>
#include <random>

#include "core/ids.hpp"
#include "shop.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A PostgreSQL server of this test's own (scripts/local-services.sh in a
// directory under EMPORIUM_TEST_SERVICES_DIR), so stopping it disturbs no
// other test.
class PrivatePostgres {
 public:
  PrivatePostgres() {
    const char* base = std::getenv("EMPORIUM_TEST_SERVICES_DIR");
    if (base == nullptr || *base == '\0') {
      throw std::runtime_error("EMPORIUM_TEST_SERVICES_DIR is not set: run the suite via make test");
    }
    dir_ = std::filesystem::path(base) / ("faults-" + core::new_id().substr(0, 8));
    port_ = std::to_string(20000 + (std::random_device{}() % 20000));
    const auto out = run("start");
    const std::string key = "export EMPORIUM_TEST_DATABASE_URL=";
    const auto at = out.find(key);
    if (at == std::string::npos) {
      throw std::runtime_error("local-services.sh start printed: " + out);
    }
    url_ = out.substr(at + key.size(), out.find('\n', at) - at - key.size());
  }
  ~PrivatePostgres() {
    run("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string run(const std::string& verb) {
    return local_services(verb, dir_, {{"EMPORIUM_TEST_SERVICES", "postgres"},
                                       {"EMPORIUM_TEST_PG_PORT", port_}});
  }
  const std::string& url() const { return url_; }

 private:
  std::filesystem::path dir_;
  std::string port_;
  std::string url_;
};

TEST(Faults, PostgresRestartUnderLoadFailsFastRecoversAndLosesNoOrder) {
  PrivatePostgres pg;
  AllInOneShop shop(Storage::postgres_on(pg.url()));
  const auto id = shop.create_product("Resilient", 3, 1'000'000);
  std::vector<Customer> buyers;
  for (int i = 0; i < 4; ++i) {
    buyers.push_back(shop.register_and_login("faulty" + std::to_string(i) + "@example.com"));
  }

  std::mutex mutex;
  std::vector<std::string> accepted;      // ids of orders answered 201
  std::map<int, int> statuses;            // status -> count
  std::vector<std::string> slow_failures;  // failures that took too long
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& b : buyers) {
    threads.emplace_back([&, b] {
      while (!stop.load()) {
        const auto start = clock_type::now();
        Reply r;
        try {
          r = shop.add_to_cart(b, id, 1);
          if (r.status == 201 || r.status == 200) {
            r = shop.place_order(b);
          }
        } catch (const std::exception&) {
          r.status = 0;  // no answer at all
        }
        const auto took = clock_type::now() - start;
        std::lock_guard lock(mutex);
        ++statuses[r.status];
        if (r.status == 201) {
          accepted.emplace_back(r.obj().at("id").as_string());
        } else if (r.status >= 500 && took > 3s) {
          slow_failures.push_back(std::to_string(r.status) + " after " +
                                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
                                  " ms");
        }
        if (r.status == 503) {
          EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  pg.run("stop");
  std::this_thread::sleep_for(2500ms);
  pg.run("start");
  // The shop recovers by itself: the same process serves orders again.
  bool recovered = false;
  const auto deadline = clock_type::now() + 20s;
  while (!recovered && clock_type::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    const auto r = shop.call("GET", "/api/products/" + id);
    recovered = r.status == 200;
  }
  std::this_thread::sleep_for(1s);
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_TRUE(recovered) << "the shop did not recover after PostgreSQL came back";
  EXPECT_TRUE(slow_failures.empty()) << slow_failures.size() << " slow failures, first: "
                                     << (slow_failures.empty() ? "" : slow_failures.front());
  EXPECT_EQ(statuses[500], 0) << "500s during the outage";
  EXPECT_EQ(statuses[0], 0) << "requests left without an answer";
  EXPECT_GT(statuses[503] + statuses[504], 0) << "the outage was not observed";
  EXPECT_GT(accepted.size(), 0U);
  // No accepted order is lost, and each took its stock.
  for (const auto& order_id : accepted) {
    auto r = shop.call("GET", "/api/orders/" + order_id, {}, shop.admin_token());
    EXPECT_EQ(r.status, 200) << order_id;
  }
  std::int64_t sold = 0;
  auto all = shop.call("GET", "/api/orders?limit=100", {}, shop.admin_token());
  const auto total = all.obj().at("pagination").as_object().at("total").as_int64();
  // A request cut off after its commit is answered 503 but its order stands
  // (a client retrying with its Idempotency-Key gets it back), so there may be
  // more stored orders than 201 answers, never fewer.
  EXPECT_GE(total, static_cast<std::int64_t>(accepted.size()));
  for (int page = 1; page <= (total + 99) / 100; ++page) {
    auto list = shop.call("GET", "/api/orders?limit=100&page=" + std::to_string(page), {}, shop.admin_token());
    for (const auto& o : list.obj().at("orders").as_array()) {
      if (o.as_object().at("status").as_string() != "cancelled") {
        sold += o.as_object().at("items").as_array()[0].as_object().at("quantity").as_int64();
      }
    }
  }
  // Reservations whose order was not stored come back within the grace period;
  // stock never goes below what the stored orders took.
  EXPECT_LE(shop.stock_of(id), 1'000'000 - sold);
  std::string report;
  for (const auto& [status, count] : statuses) {
    report += std::to_string(status) + ":" + std::to_string(count) + " ";
  }
  std::printf("statuses during the run: %s\n", report.c_str());
}

}  // namespace
}  // namespace emporium::test
