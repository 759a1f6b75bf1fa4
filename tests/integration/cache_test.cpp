// The product read cache: RedisCache against a real Redis 7 server, and the
// emporium binary with --redis-url in both shapes (reads hit, writes and
// stock changes are seen by the very next read, Redis stopped or hung
// costs no errors and no slow requests, and hits resume when it is back).
//
// Needs EMPORIUM_TEST_REDIS_URL and EMPORIUM_TEST_SERVICES_DIR, as printed by
//   eval "$(scripts/local-services.sh start DIR)"
// Without them the tests fail: the test command always starts the servers.
// Tests that stop or pause Redis run a private server of their own (under
// EMPORIUM_TEST_SERVICES_DIR, on a free port) and never touch the shared one.

#include "cache/cache.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "cache/redis.hpp"
#include "shop.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

const char* const kMissingEnv =
    " is not set. Start the test servers first:\n"
    "  eval \"$(scripts/local-services.sh start /tmp/emporium-services)\"\n"
    "(the test command does this; these tests never skip)";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         std::to_string(rd());
}

std::string shared_redis_url() {
  auto url = env("EMPORIUM_TEST_REDIS_URL");
  EXPECT_FALSE(url.empty()) << "EMPORIUM_TEST_REDIS_URL" << kMissingEnv;
  return url;
}

// A Redis server of this test's own, started, stopped and paused through
// scripts/local-services.sh in a private directory on a free port.
class PrivateRedis {
 public:
  PrivateRedis() : server_(PrivateServer::redis()) {}
  ~PrivateRedis() { resume(); }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  const std::string& url() const { return server_->url(); }
  void stop() { server_->run("stop"); }
  void start() { server_->run("start"); }
  // SIGSTOP / SIGCONT: a server that accepts connections and never answers.
  void pause() { signal(SIGSTOP); }
  void resume() { signal(SIGCONT); }

 private:
  void signal(int signo) {
    std::ifstream in(server_->dir() / "redis" / "redis.pid");
    pid_t pid = 0;
    if (in >> pid && pid > 0) {
      ::kill(pid, signo);
    }
  }

  std::unique_ptr<PrivateServer> server_;
};

// --- RedisCache against the shared server -----------------------------------

cache::RedisOptions redis_options(const std::string& url) {
  cache::RedisOptions o;
  auto a = cache::parse_redis_url(url);
  EXPECT_TRUE(a) << url;
  if (a) {
    o.address = *a;
  }
  return o;
}

TEST(RedisCacheServer, StoresExpiresErasesAndCounts) {
  const auto url = shared_redis_url();
  ASSERT_FALSE(url.empty());
  cache::RedisCache c(redis_options(url));
  const auto k = unique("emporium:test");
  EXPECT_FALSE(c.get(k));
  EXPECT_FALSE(c.lookup(k).failed);
  EXPECT_TRUE(c.set(k, "value", 60s));
  EXPECT_EQ(c.get(k), "value");
  std::string binary("a\0b\r\n\xff", 6);
  EXPECT_TRUE(c.set(k + "\r\n \0x", binary, 60s));
  EXPECT_EQ(c.get(k + "\r\n \0x"), binary);
  EXPECT_TRUE(c.set(k, std::string(1 << 20, 'z'), 60s));  // 1 MiB
  EXPECT_EQ(c.get(k)->size(), 1U << 20);
  EXPECT_TRUE(c.erase(k));
  EXPECT_FALSE(c.get(k));
  EXPECT_TRUE(c.erase(k));  // absent is fine

  EXPECT_EQ(c.incr(k + ":n"), 1);
  EXPECT_EQ(c.incr(k + ":n"), 2);
  EXPECT_TRUE(c.set(k + ":t", "text", 60s));
  EXPECT_FALSE(c.incr(k + ":t"));
  EXPECT_FALSE(c.backing_off());  // a refused command is not an outage

  EXPECT_TRUE(c.set(k + ":short", "s", 1s));
  EXPECT_EQ(c.get(k + ":short"), "s");
  std::this_thread::sleep_for(1'100ms);
  EXPECT_FALSE(c.get(k + ":short"));
  for (const auto& key : {k + ":n", k + ":t", k + "\r\n \0x"}) {
    c.erase(key);
  }
}

TEST(RedisCacheServer, ManyThreadsShareTheSmallPool) {
  const auto url = shared_redis_url();
  ASSERT_FALSE(url.empty());
  auto o = redis_options(url);
  o.pool_size = 2;
  o.command_timeout = 1'000ms;  // a loaded test machine; the pool wait uses it too
  cache::RedisCache c(o);
  const auto k = unique("emporium:test");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const auto key = k + ":" + std::to_string(t);
        const auto value = std::to_string(i);
        if (!c.set(key, value, 60s) || c.get(key) != value) {
          ++wrong;
        }
        c.incr(k + ":count");
      }
      c.erase(k + ":" + std::to_string(t));
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(c.get(k + ":count"), "800");
  c.erase(k + ":count");
}

TEST(RedisCacheServer, SelectsTheDatabaseInTheUrl) {
  const auto url = shared_redis_url();
  ASSERT_FALSE(url.empty());
  cache::RedisCache db0(redis_options(url));
  cache::RedisCache db5(redis_options(url + "/5"));
  const auto k = unique("emporium:test");
  EXPECT_TRUE(db5.set(k, "five", 60s));
  EXPECT_FALSE(db0.get(k));
  EXPECT_EQ(db5.get(k), "five");
  db5.erase(k);
}

TEST(RedisCacheServer, ReconnectsAfterARestartAndFailsFastWhileDown) {
  PrivateRedis redis;
  ASSERT_FALSE(redis.url().empty());
  auto o = redis_options(redis.url());
  o.retry_after = 300ms;
  cache::RedisCache c(o);
  ASSERT_TRUE(c.set("k", "v", 60s));
  ASSERT_EQ(c.get("k"), "v");

  redis.stop();
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(c.lookup("k").failed);
    EXPECT_FALSE(c.set("k", "v", 60s));
    EXPECT_LT(Clock::now() - start, 300ms);
    std::this_thread::sleep_for(50ms);
  }

  redis.start();                       // empty: nothing is persisted
  std::this_thread::sleep_for(350ms);  // past the back-off
  EXPECT_FALSE(c.lookup("k").failed);
  EXPECT_TRUE(c.set("k", "again", 60s));
  EXPECT_EQ(c.get("k"), "again");
  EXPECT_FALSE(c.backing_off());
}

// --- the emporium binary with a Redis cache ---------------------------------

// The shop in either shape with extra flags for every process (the cache
// settings); metrics are read from the process that runs the product service.
class CachedShop final : public Shop {
 public:
  CachedShop(const std::string& shape, std::vector<std::string> extra, Storage storage = {}) {
    if (shape == "all") {
      all_ = std::make_unique<AllInOneShop>(std::move(storage), std::move(extra));
      gateway_ = product_ = all_->port();
    } else {
      split_ = std::make_unique<SplitShop>(nullptr, std::move(storage), std::move(extra));
      gateway_ = split_->port();
      product_ = split_->service_port("product");
    }
  }

  std::uint16_t port() const override { return gateway_; }

  // The value of one sample of the product process's /metrics, e.g.
  // metric("emporium_cache_requests_total", "cache=\"product\",result=\"hit\"");
  // -1 when absent.
  double metric(const std::string& name, const std::string& labels) const {
    auto res = request("GET", admin_port(product_), "/metrics");
    if (!res || res->status != 200) {
      return -1;
    }
    const std::string prefix = name + "{" + labels + "} ";
    std::size_t at = 0;
    while ((at = res->body.find(prefix, at)) != std::string::npos) {
      if (at == 0 || res->body[at - 1] == '\n') {
        return std::stod(res->body.substr(at + prefix.size()));
      }
      at += prefix.size();
    }
    return -1;
  }
  double requests(const std::string& result) const {
    return metric("emporium_cache_requests_total", "cache=\"product\",result=\"" + result + "\"");
  }

  // Everything the process running service `name` printed ("all" for the
  // all-in-one process).
  const std::string& output(const std::string& name) {
    return all_ ? all_->process().output() : split_->process(name).output();
  }

 private:
  std::unique_ptr<AllInOneShop> all_;
  std::unique_ptr<SplitShop> split_;
  std::uint16_t gateway_ = 0;
  std::uint16_t product_ = 0;
};

// GET that must answer 200 within a second; returns the body.
json::object read_ok(const Shop& shop, const std::string& target) {
  const auto start = Clock::now();
  auto r = shop.call("GET", target);
  const auto took = Clock::now() - start;
  EXPECT_LT(took, 1s) << target;
  EXPECT_EQ(r.status, 200) << target << ": " << r.raw;
  if (r.status != 200 || !r.body.is_object()) {
    return {};
  }
  return r.obj();
}

std::int64_t stock_in(const json::object& product) {
  return product.at("stock").as_int64();
}

// The product `id` in a list page, or an empty object.
json::object in_list(const json::object& page, const std::string& id) {
  for (const auto& p : page.at("products").as_array()) {
    if (p.as_object().at("id").as_string() == id) {
      return p.as_object();
    }
  }
  return {};
}

bool category_listed(const json::object& categories, const std::string& name) {
  for (const auto& c : categories.at("categories").as_array()) {
    if (c.as_object().at("name").as_string() == name) {
      return true;
    }
  }
  return false;
}

// (shape, storage)
class CacheShopTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    const auto url = shared_redis_url();
    ASSERT_FALSE(url.empty());
    shop = std::make_unique<CachedShop>(std::get<0>(GetParam()),
                                        std::vector<std::string>{"--redis-url=" + url},
                                        Storage::make(std::get<1>(GetParam())));
  }
  std::unique_ptr<CachedShop> shop;
};

INSTANTIATE_TEST_SUITE_P(Shapes, CacheShopTest,
                         ::testing::Values(std::make_tuple("all", "sqlite"),
                                           std::make_tuple("split", "sqlite"),
                                           std::make_tuple("split", "postgres")),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) == "all" ? "AllInOne"
                                                                            : "Split") +
                                  (std::get<1>(p.param) == "sqlite" ? "SQLite" : "PostgreSQL");
                         });

TEST_P(CacheShopTest, ReadsHitTheCacheAndEveryWriteIsSeenByTheNextRead) {
  const auto admin = shop->admin_token();
  const auto id = shop->create_product("Cached Lamp", 5, 10, "Lamps");
  const std::string path = "/api/products/" + id;
  const std::string list = "/api/products?category=Lamps";

  // Warm the entries, then reads come from the cache.
  EXPECT_EQ(read_ok(*shop, path).at("name").as_string(), "Cached Lamp");
  read_ok(*shop, list);
  read_ok(*shop, "/api/products/categories");
  const double hits = shop->requests("hit");
  const double misses = shop->requests("miss");
  EXPECT_GE(misses, 3);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(read_ok(*shop, path).at("stock").as_int64(), 10);
    EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 10);
    EXPECT_TRUE(category_listed(read_ok(*shop, "/api/products/categories"), "Lamps"));
  }
  EXPECT_EQ(shop->requests("hit"), hits + 15);
  EXPECT_EQ(shop->requests("miss"), misses);
  EXPECT_EQ(shop->requests("error"), 0);
  // The same query in another spelling shares the entry.
  read_ok(*shop, "/api/products?limit=20&category=Lamps&page=1&ignored=x");
  EXPECT_EQ(shop->requests("hit"), hits + 16);

  // PATCH: the next read shows it, by id and in lists.
  auto patched = shop->call("PATCH", path, R"({"price":7.5,"stock":12})", admin);
  ASSERT_EQ(patched.status, 200) << patched.raw;
  auto p = read_ok(*shop, path);
  EXPECT_EQ(p.at("price").as_double(), 7.5);
  EXPECT_EQ(stock_in(p), 12);
  EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 12);

  // PUT moves it to another category: lists and categories follow at once.
  auto replaced = shop->call(
      "PUT", path, R"({"name":"Cached Desk Lamp","price":9,"category":"Desks","stock":12})", admin);
  ASSERT_EQ(replaced.status, 200) << replaced.raw;
  EXPECT_EQ(read_ok(*shop, path).at("name").as_string(), "Cached Desk Lamp");
  EXPECT_TRUE(in_list(read_ok(*shop, list), id).empty());
  EXPECT_EQ(in_list(read_ok(*shop, "/api/products?category=Desks"), id).at("name").as_string(),
            "Cached Desk Lamp");
  auto categories = read_ok(*shop, "/api/products/categories");
  EXPECT_TRUE(category_listed(categories, "Desks"));
  EXPECT_FALSE(category_listed(categories, "Lamps"));

  // POST: a new product is listed by the next read.
  const auto second = shop->create_product("Second Lamp", 3, 1, "Lamps");
  EXPECT_FALSE(in_list(read_ok(*shop, list), second).empty());
  EXPECT_TRUE(category_listed(read_ok(*shop, "/api/products/categories"), "Lamps"));

  // DELETE: gone by id and from lists at once.
  ASSERT_EQ(shop->call("DELETE", "/api/products/" + second, {}, admin).status, 200);
  EXPECT_EQ(shop->call("GET", "/api/products/" + second).status, 404);
  EXPECT_TRUE(in_list(read_ok(*shop, list), second).empty());
  EXPECT_FALSE(category_listed(read_ok(*shop, "/api/products/categories"), "Lamps"));
  EXPECT_EQ(shop->requests("error"), 0);
}

TEST_P(CacheShopTest, StockChangesFromOrdersAreSeenByTheNextRead) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Cached Mug", 4, 10, "Mugs");
  const std::string path = "/api/products/" + id;
  const std::string list = "/api/products?category=Mugs";
  // Cached, and served from the cache.
  read_ok(*shop, path);
  read_ok(*shop, list);
  const double hits = shop->requests("hit");
  EXPECT_EQ(stock_in(read_ok(*shop, path)), 10);
  EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 10);
  EXPECT_EQ(shop->requests("hit"), hits + 2);

  ASSERT_EQ(shop->add_to_cart(ann, id, 3).status, 201);
  auto order = shop->place_order(ann);
  ASSERT_EQ(order.status, 201) << order.raw;
  EXPECT_EQ(stock_in(read_ok(*shop, path)), 7);
  EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 7);
  // Cached again, at the new level.
  const double after = shop->requests("hit");
  EXPECT_EQ(stock_in(read_ok(*shop, path)), 7);
  EXPECT_GT(shop->requests("hit"), after);

  // Cancelling returns the stock; the next read shows it.
  const std::string order_path = "/api/orders/" + std::string(order.obj().at("id").as_string());
  ASSERT_EQ(shop->call("DELETE", order_path, {}, ann.token).status, 200);
  EXPECT_EQ(stock_in(read_ok(*shop, path)), 10);
  EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 10);

  // Selling out, through the cache too.
  auto bob = shop->register_and_login("bob@example.com");
  ASSERT_EQ(shop->add_to_cart(bob, id, 10).status, 201);
  ASSERT_EQ(shop->place_order(bob).status, 201);
  EXPECT_EQ(stock_in(read_ok(*shop, path)), 0);
  EXPECT_EQ(stock_in(in_list(read_ok(*shop, list), id)), 0);
  EXPECT_EQ(shop->requests("error"), 0);
}

TEST(CacheShop, WithoutRedisTheInProcessCacheServesAndStaysCorrect) {
  CachedShop shop("all", {});
  const auto id = shop.create_product("Memory Mug", 4, 5, "Mugs");
  read_ok(shop, "/api/products/" + id);
  const double hits = shop.requests("hit");
  read_ok(shop, "/api/products/" + id);
  EXPECT_EQ(shop.requests("hit"), hits + 1);
  ASSERT_EQ(shop.call("PATCH", "/api/products/" + id, R"({"stock":9})", shop.admin_token()).status,
            200);
  EXPECT_EQ(stock_in(read_ok(shop, "/api/products/" + id)), 9);
  EXPECT_NE(shop.output("all").find(R"("msg":"product cache","backend":"memory")"),
            std::string::npos);
}

// Without Redis, hits are answered on the I/O thread from the in-process
// cache (RouteOptions::fast); a write is seen by the very next read, by id
// and in lists, in either shape.
class FastPathShopTest : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Shapes, FastPathShopTest, ::testing::Values("all", "split"),
                         [](const auto& p) { return p.param == "all" ? "AllInOne" : "Split"; });

TEST_P(FastPathShopTest, AWriteAfterACachedReadIsNeverAnsweredStale) {
  CachedShop shop(GetParam(), {});
  const auto admin = shop.admin_token();
  const auto id = shop.create_product("Fast Lamp", 5, 0, "FastLamps");
  const std::string path = "/api/products/" + id;
  const std::string list = "/api/products?category=FastLamps";
  for (int i = 1; i <= 20; ++i) {
    read_ok(shop, path);
    read_ok(shop, list);
    const double hits = shop.requests("hit");
    EXPECT_EQ(stock_in(read_ok(shop, path)), i - 1);
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), i - 1);
    EXPECT_EQ(shop.requests("hit"), hits + 2) << "both reads were cache hits";

    const auto patched = shop.call("PATCH", path, R"({"stock":)" + std::to_string(i) + "}", admin);
    ASSERT_EQ(patched.status, 200) << patched.raw;
    EXPECT_EQ(stock_in(read_ok(shop, path)), i) << "stale by id after write " << i;
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), i) << "stale list after write " << i;
  }
  ASSERT_EQ(shop.call("DELETE", path, {}, admin).status, 200);
  EXPECT_EQ(shop.call("GET", path).status, 404);
  EXPECT_TRUE(in_list(read_ok(shop, list), id).empty());
  EXPECT_EQ(shop.requests("error"), 0);
}

TEST(CacheShop, ZeroTtlTurnsTheCacheOff) {
  CachedShop shop("all", {"--cache-ttl=0s"});
  const auto id = shop.create_product("Uncached", 4, 5);
  for (int i = 0; i < 3; ++i) {
    read_ok(shop, "/api/products/" + id);
  }
  EXPECT_EQ(shop.requests("hit"), 0);
  EXPECT_EQ(shop.requests("miss"), 0);
}

TEST(CacheShop, AMalformedRedisUrlStopsStartUp) {
  Process p({"serve", "--listen=127.0.0.1:0", "--data-dir=" + temp_dir(),
             "--redis-url=rediss://127.0.0.1:6379"});
  EXPECT_EQ(p.wait_exit(10s), 2);
  EXPECT_NE(p.output().find("redis_url"), std::string::npos) << p.output();
}

TEST(CacheShop, StartsAndServesWhileRedisIsUnreachable) {
  const auto closed = free_ports(1).at(0);
  CachedShop shop("all", {"--redis-url=redis://127.0.0.1:" + std::to_string(closed)});
  EXPECT_EQ(shop.call("GET", "/readyz").status, 200);
  const auto id = shop.create_product("Offline", 2, 3);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(stock_in(read_ok(shop, "/api/products/" + id)), 3);
    EXPECT_FALSE(in_list(read_ok(shop, "/api/products"), id).empty());
  }
  EXPECT_GE(shop.requests("error"), 10);
  EXPECT_EQ(shop.requests("hit"), 0);
}

// Redis stopped, then started again (empty), under a running shop.
TEST(CacheOutage, RedisStoppedMeansDatabaseReadsThenHitsResume) {
  PrivateRedis redis;
  ASSERT_FALSE(redis.url().empty());
  CachedShop shop("split", {"--redis-url=" + redis.url()});
  const auto admin = shop.admin_token();
  auto ann = shop.register_and_login("ann@example.com");
  const auto id = shop.create_product("Outage Lamp", 5, 10, "Outage");
  const std::string path = "/api/products/" + id;
  const std::string list = "/api/products?category=Outage";
  read_ok(shop, path);
  read_ok(shop, list);
  const double hits = shop.requests("hit");
  read_ok(shop, path);
  ASSERT_EQ(shop.requests("hit"), hits + 1);

  redis.stop();
  const double errors = shop.requests("error");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(stock_in(read_ok(shop, path)), 10);
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 10);
  }
  // Writes and orders go on, and are read back correctly.
  ASSERT_EQ(shop.call("PATCH", path, R"({"price":6})", admin).status, 200);
  EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 6);
  ASSERT_EQ(shop.add_to_cart(ann, id, 2).status, 201);
  ASSERT_EQ(shop.place_order(ann).status, 201);
  EXPECT_EQ(stock_in(read_ok(shop, path)), 8);
  EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 8);
  EXPECT_GE(shop.requests("error"), errors + 20);
  EXPECT_EQ(shop.requests("hit"), hits + 1);
  EXPECT_GT(shop.metric("emporium_cache_errors_total", "cache=\"product\",op=\"get\""), 0);

  redis.start();
  // Within the back-off period (1 s) and a little, reads are hits again.
  const auto back = Clock::now();
  double now_hits = shop.requests("hit");
  while (shop.requests("hit") == now_hits && Clock::now() - back < 10s) {
    EXPECT_EQ(stock_in(read_ok(shop, path)), 8);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(shop.requests("hit"), now_hits);
  EXPECT_LT(Clock::now() - back, 5s);
  now_hits = shop.requests("hit");
  EXPECT_EQ(stock_in(read_ok(shop, path)), 8);
  EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 8);
  EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 8);
  EXPECT_GE(shop.requests("hit"), now_hits + 2);
}

// Redis hung (SIGSTOP) with entries in it: a write meanwhile cannot reach
// it, and once Redis answers again the stale entry must not be served.
TEST(CacheOutage, AWriteWhileRedisHangsIsNotUndoneWhenItComesBack) {
  PrivateRedis redis;
  ASSERT_FALSE(redis.url().empty());
  CachedShop shop("all", {"--redis-url=" + redis.url()});
  const auto admin = shop.admin_token();
  const auto id = shop.create_product("Paused Lamp", 5, 10, "Paused");
  const std::string path = "/api/products/" + id;
  const std::string list = "/api/products?category=Paused";
  read_ok(shop, path);
  read_ok(shop, list);
  const double hits = shop.requests("hit");
  EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 5);
  ASSERT_EQ(shop.requests("hit"), hits + 1);

  redis.pause();
  // Each request pays at most a command deadline, then the cache backs off.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 5);
  }
  const auto start = Clock::now();
  auto patched = shop.call("PATCH", path, R"({"price":6,"stock":4})", admin);
  EXPECT_LT(Clock::now() - start, 1s);
  ASSERT_EQ(patched.status, 200) << patched.raw;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 6);
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 4);
    std::this_thread::sleep_for(300ms);  // through back-off periods and probes
  }
  EXPECT_GT(shop.metric("emporium_cache_errors_total", "cache=\"product\",op=\"erase\""), 0);

  // Redis answers again, still holding the old entries.
  redis.resume();
  const auto back = Clock::now();
  const double now_hits = shop.requests("hit");
  while (shop.requests("hit") == now_hits && Clock::now() - back < 10s) {
    EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 6);
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 4);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(shop.requests("hit"), now_hits);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(read_ok(shop, path).at("price").as_int64(), 6);
    EXPECT_EQ(stock_in(in_list(read_ok(shop, list), id)), 4);
  }
  EXPECT_EQ(shop.metric("emporium_cache_pending_invalidations", "cache=\"product\""), 0);
}

}  // namespace
}  // namespace emporium::test
