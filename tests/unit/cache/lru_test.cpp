#include "cache/lru.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cache/cache.hpp"

namespace emporium::cache {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  LruCache::Clock::time_point now = LruCache::Clock::time_point{} + 1000h;
  std::function<LruCache::Clock::time_point()> fn() {
    return [this] { return now; };
  }
};

TEST(LruCache, StoresReadsAndOverwrites) {
  LruCache c(10);
  EXPECT_FALSE(c.get("a"));
  EXPECT_FALSE(c.lookup("a").failed);
  EXPECT_TRUE(c.set("a", "1", 10s));
  EXPECT_EQ(c.get("a"), "1");
  EXPECT_TRUE(c.set("a", "two", 10s));
  EXPECT_EQ(c.get("a"), "two");
  EXPECT_EQ(c.size(), 1U);
  EXPECT_EQ(c.bytes(), 4U);
  // Binary-safe keys and values.
  const std::string key("k\0ey", 4);
  const std::string value("v\0\xff", 3);
  c.set(key, value, 10s);
  EXPECT_EQ(c.get(key), value);
  EXPECT_FALSE(c.get("k"));
  EXPECT_EQ(c.backend(), "memory");
}

TEST(LruCache, EntriesExpireAfterTheirTtl) {
  FakeClock clock;
  LruCache c(10, SIZE_MAX, clock.fn());
  c.set("short", "s", 5s);
  c.set("long", "l", 60s);
  c.set("forever", "f", 0s);
  clock.now += 4s;
  EXPECT_EQ(c.get("short"), "s");
  clock.now += 1s;  // exactly at the deadline: gone
  EXPECT_FALSE(c.get("short"));
  EXPECT_EQ(c.get("long"), "l");
  clock.now += 24h;
  EXPECT_FALSE(c.get("long"));
  EXPECT_EQ(c.get("forever"), "f");
  EXPECT_EQ(c.size(), 1U);  // expired entries are dropped when met
  // A new set restarts the lifetime.
  c.set("short", "again", 5s);
  clock.now += 3s;
  EXPECT_EQ(c.get("short"), "again");
}

TEST(LruCache, EvictsTheLeastRecentlyUsedBeyondItsEntryLimit) {
  LruCache c(3);
  c.set("a", "1", 0s);
  c.set("b", "2", 0s);
  c.set("c", "3", 0s);
  EXPECT_EQ(c.get("a"), "1");  // a is now the most recently used; b the least
  c.set("d", "4", 0s);
  EXPECT_EQ(c.size(), 3U);
  EXPECT_FALSE(c.get("b"));
  EXPECT_EQ(c.get("a"), "1");
  EXPECT_EQ(c.get("c"), "3");
  EXPECT_EQ(c.get("d"), "4");
  // Overwriting refreshes too.
  c.set("a", "1b", 0s);  // order now: a d c
  c.set("e", "5", 0s);
  EXPECT_FALSE(c.get("c"));
  EXPECT_EQ(c.get("a"), "1b");
}

TEST(LruCache, EvictsBeyondItsByteLimitAndRefusesWhatNeverFits) {
  LruCache c(100, 20);          // bytes of keys plus values
  c.set("k1", "12345678", 0s);  // 10 bytes
  c.set("k2", "12345678", 0s);  // 20 bytes
  EXPECT_EQ(c.bytes(), 20U);
  c.set("k3", "1", 0s);  // 23 > 20: k1 goes
  EXPECT_FALSE(c.get("k1"));
  EXPECT_EQ(c.get("k2"), "12345678");
  EXPECT_EQ(c.bytes(), 13U);
  c.set("huge", std::string(100, 'x'), 0s);
  EXPECT_FALSE(c.get("huge"));
  EXPECT_EQ(c.get("k2"), "12345678");  // nothing evicted for it
  // A replaced value that no longer fits leaves no old value behind.
  c.set("k2", std::string(50, 'y'), 0s);
  EXPECT_FALSE(c.get("k2"));
  EXPECT_EQ(c.bytes(), 3U);
}

TEST(LruCache, Erase) {
  LruCache c(10);
  c.set("a", "1", 0s);
  c.set("b", "2", 0s);
  EXPECT_TRUE(c.erase("a"));
  EXPECT_FALSE(c.get("a"));
  EXPECT_EQ(c.get("b"), "2");
  EXPECT_TRUE(c.erase("missing"));
  EXPECT_EQ(c.size(), 1U);
  EXPECT_EQ(c.bytes(), 2U);
}

TEST(LruCache, IncrCountsFromZeroAndKeepsTheLifetime) {
  FakeClock clock;
  LruCache c(10, SIZE_MAX, clock.fn());
  EXPECT_EQ(c.incr("n"), 1);
  EXPECT_EQ(c.incr("n"), 2);
  EXPECT_EQ(c.get("n"), "2");
  c.set("m", "41", 10s);
  EXPECT_EQ(c.incr("m"), 42);
  clock.now += 10s;
  EXPECT_FALSE(c.get("m"));   // the lifetime of "41" still applied
  EXPECT_EQ(c.incr("m"), 1);  // expired counts as absent
  c.set("text", "abc", 0s);
  EXPECT_FALSE(c.incr("text"));
  EXPECT_EQ(c.get("text"), "abc");
  c.set("big", "9223372036854775807", 0s);
  EXPECT_FALSE(c.incr("big"));
  c.set("neg", "-2", 0s);
  EXPECT_EQ(c.incr("neg"), -1);
  c.set("n9", "9", 0s);
  EXPECT_EQ(c.incr("n9"), 10);
  // Bytes follow the values' lengths: n=2 m=1 text=abc big=(19 digits) neg=-1 n9=10.
  EXPECT_EQ(c.bytes(), 2U + 2U + 7U + 22U + 5U + 4U);
}

TEST(LruCache, IsSafeUnderConcurrentUse) {
  LruCache c(64);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const auto key = "k" + std::to_string((i * 7 + t) % 100);
        c.set(key, key, 60s);
        if (auto v = c.get(key); v && *v != key) {
          ++wrong;
        }
        if (i % 10 == 0) {
          c.erase(key);
        }
        c.incr("counter");
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(c.size(), 64U);
  // "counter" may have been evicted along the way, but never corrupted.
  if (auto n = c.get("counter")) {
    EXPECT_GT(std::stoll(*n), 0);
  }
}

TEST(MakeCache, EmptyUrlGivesTheInProcessCache) {
  auto c = make_cache({});
  EXPECT_EQ(c->backend(), "memory");
  c->set("a", "b", 1s);
  EXPECT_EQ(c->get("a"), "b");
}

TEST(MakeCache, RedisUrlGivesRedisAndBadUrlsAreRefused) {
  CacheSettings s;
  s.redis_url = "redis://127.0.0.1:1";
  EXPECT_EQ(make_cache(s)->backend(), "redis");  // no connection made yet
  for (const char* bad : {"http://x", "rediss://x:6379", "redis://", "redis://h:port",
                          "redis://h:70000", "redis://h/db", "redis://h:1/-1"}) {
    s.redis_url = bad;
    EXPECT_THROW(make_cache(s), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace emporium::cache
