#include "cache/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cache/lru.hpp"

namespace emporium::cache {
namespace {

using namespace std::chrono_literals;
using Flights = SingleFlight<std::optional<std::string>>;

// Waits until pred() holds, at most 10 s; false on timeout.
template <class P>
bool eventually(P pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A cache whose backend is down: every operation fails.
class BrokenCache final : public Cache {
 public:
  Lookup lookup(std::string_view) override { return {std::nullopt, true}; }
  bool set(std::string_view, std::string_view, std::chrono::seconds) override {
    ++sets;
    return false;
  }
  bool erase(std::string_view) override { return false; }
  std::optional<std::int64_t> incr(std::string_view) override { return std::nullopt; }
  std::string_view backend() const noexcept override { return "broken"; }
  std::atomic<int> sets{0};
};

TEST(SingleFlight, ConcurrentCallersOfOneKeyShareOneLoad) {
  constexpr int kThreads = 16;
  SingleFlight<std::string> flights;
  std::atomic<int> loads{0};
  std::atomic<int> shared_count{0};
  std::vector<std::string> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      bool shared = false;
      results[i] = flights.run(
          "key",
          [&] {
            ++loads;
            // Hold the load until every other caller is waiting for it.
            EXPECT_TRUE(eventually([&] { return flights.waiters() == kThreads - 1; }));
            return std::string("value");
          },
          &shared);
      if (shared) {
        ++shared_count;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(shared_count.load(), kThreads - 1);
  for (const auto& r : results) {
    EXPECT_EQ(r, "value");
  }
  EXPECT_EQ(flights.in_flight(), 0U);
  EXPECT_EQ(flights.waiters(), 0U);
  // Once finished, the next call loads again.
  EXPECT_EQ(flights.run("key",
                        [&] {
                          ++loads;
                          return std::string("again");
                        }),
            "again");
  EXPECT_EQ(loads.load(), 2);
}

TEST(SingleFlight, DifferentKeysLoadIndependently) {
  SingleFlight<int> flights;
  std::atomic<int> started{0};
  auto slow = [&](int v) {
    return [&, v] {
      ++started;
      // Both loads run at the same time, or this never completes.
      EXPECT_TRUE(eventually([&] { return started.load() == 2; }));
      return v;
    };
  };
  int a = 0;
  int b = 0;
  std::thread ta([&] { a = flights.run("a", slow(1)); });
  std::thread tb([&] { b = flights.run("b", slow(2)); });
  ta.join();
  tb.join();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
}

TEST(SingleFlight, AFailedLoadFailsEveryWaiterAndIsNotRemembered) {
  constexpr int kThreads = 6;
  SingleFlight<int> flights;
  std::atomic<int> loads{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      try {
        flights.run("k", [&]() -> int {
          ++loads;
          EXPECT_TRUE(eventually([&] { return flights.waiters() == kThreads - 1; }));
          throw std::runtime_error("database down");
        });
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "database down");
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(failures.load(), kThreads);
  EXPECT_EQ(flights.run("k", [] { return 7; }), 7);
}

TEST(GetOrLoad, LoadsOnceThenHits) {
  LruCache cache(100);
  Flights flights;
  int loads = 0;
  auto load = [&]() -> std::optional<std::string> {
    ++loads;
    return "body";
  };
  auto first = get_or_load(cache, flights, "k", 60s, load);
  EXPECT_EQ(first.value, "body");
  EXPECT_EQ(first.source, Source::loaded);
  EXPECT_FALSE(first.lookup_failed);
  EXPECT_FALSE(first.store_failed);
  auto second = get_or_load(cache, flights, "k", 60s, load);
  EXPECT_EQ(second.value, "body");
  EXPECT_EQ(second.source, Source::hit);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(cache.get("k"), "body");
}

TEST(GetOrLoad, NothingIsNotCached) {
  LruCache cache(100);
  Flights flights;
  int loads = 0;
  auto load = [&]() -> std::optional<std::string> {
    ++loads;
    return std::nullopt;
  };
  EXPECT_FALSE(get_or_load(cache, flights, "k", 60s, load).value);
  EXPECT_FALSE(get_or_load(cache, flights, "k", 60s, load).value);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(GetOrLoad, ConcurrentMissesLoadOnce) {
  constexpr int kThreads = 12;
  LruCache cache(100);
  Flights flights;
  std::atomic<int> loads{0};
  std::vector<std::thread> threads;
  std::vector<Loaded> results(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = get_or_load(cache, flights, "k", 60s, [&]() -> std::optional<std::string> {
        ++loads;
        // Every other caller has either joined this load or will hit.
        EXPECT_TRUE(eventually([&] { return flights.waiters() == kThreads - 1; }));
        return "v";
      });
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(loads.load(), 1);
  int loaded = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.value, "v");
    loaded += r.source == Source::loaded ? 1 : 0;
  }
  EXPECT_EQ(loaded, 1);
}

TEST(GetOrLoad, ABrokenCacheStillAnswersFromTheLoad) {
  BrokenCache cache;
  Flights flights;
  int loads = 0;
  auto load = [&]() -> std::optional<std::string> {
    ++loads;
    return "fresh";
  };
  auto r = get_or_load(cache, flights, "k", 60s, load);
  EXPECT_EQ(r.value, "fresh");
  EXPECT_TRUE(r.lookup_failed);
  EXPECT_EQ(r.source, Source::loaded);
  EXPECT_EQ(cache.sets.load(), 0);  // no point storing into a backend that just failed
  EXPECT_EQ(get_or_load(cache, flights, "k", 60s, load).value, "fresh");
  EXPECT_EQ(loads, 2);
}

TEST(GetOrLoad, AStoreFailureIsReported) {
  class ReadOnly final : public Cache {
   public:
    Lookup lookup(std::string_view) override { return {}; }
    bool set(std::string_view, std::string_view, std::chrono::seconds) override { return false; }
    bool erase(std::string_view) override { return true; }
    std::optional<std::int64_t> incr(std::string_view) override { return 1; }
    std::string_view backend() const noexcept override { return "read-only"; }
  } cache;
  Flights flights;
  auto r = get_or_load(cache, flights, "k", 60s, [] { return std::optional<std::string>("v"); });
  EXPECT_EQ(r.value, "v");
  EXPECT_TRUE(r.store_failed);
  EXPECT_FALSE(r.lookup_failed);
}

// The cache-aside race: a load that began before a write's invalidation
// must not store its (possibly stale) value after it.
TEST(GetOrLoad, ALoadRacingAnInvalidationIsNotStored) {
  LruCache cache(100);
  Flights flights;
  Fence fence;
  auto r = get_or_load(
      cache, flights, "k", 60s,
      [&]() -> std::optional<std::string> {
        // The write commits and invalidates while this load runs.
        fence.advance();
        cache.erase("k");
        return "stale";
      },
      &fence);
  EXPECT_EQ(r.value, "stale");   // this caller began before the write: fine to answer
  EXPECT_FALSE(cache.get("k"));  // but nobody after it sees it
  auto next = get_or_load(
      cache, flights, "k", 60s, [] { return std::optional<std::string>("new"); }, &fence);
  EXPECT_EQ(next.value, "new");
  EXPECT_EQ(cache.get("k"), "new");
}

// A reader that starts after a write finished must not be handed the result
// of a load that started before it.
TEST(GetOrLoad, ReadersAfterAnInvalidationDoNotShareAnOlderLoad) {
  LruCache cache(100);
  Flights flights;
  Fence fence;
  std::atomic<bool> release_old{false};
  std::atomic<bool> old_started{false};
  std::optional<std::string> old_result;
  std::thread old_reader([&] {
    old_result = get_or_load(
                     cache, flights, "k", 60s,
                     [&]() -> std::optional<std::string> {
                       old_started = true;
                       EXPECT_TRUE(eventually([&] { return release_old.load(); }));
                       return "before";
                     },
                     &fence)
                     .value;
  });
  ASSERT_TRUE(eventually([&] { return old_started.load(); }));
  fence.advance();  // the write
  cache.erase("k");
  auto fresh = get_or_load(
      cache, flights, "k", 60s, [] { return std::optional<std::string>("after"); }, &fence);
  EXPECT_EQ(fresh.value, "after");
  EXPECT_EQ(fresh.source, Source::loaded);
  release_old = true;
  old_reader.join();
  EXPECT_EQ(old_result, "before");
  EXPECT_EQ(cache.get("k"), "after");  // the older load did not overwrite it
}

TEST(Fence, AdvanceWaitsForAFillInProgress) {
  Fence fence;
  std::atomic<bool> in_fill{false};
  std::atomic<bool> advanced{false};
  std::thread filler([&] {
    EXPECT_TRUE(fence.fill(fence.current(), [&] {
      in_fill = true;
      std::this_thread::sleep_for(50ms);
      EXPECT_FALSE(advanced.load());
    }));
  });
  ASSERT_TRUE(eventually([&] { return in_fill.load(); }));
  fence.advance();
  advanced = true;
  filler.join();
  EXPECT_FALSE(fence.fill(0, [] { ADD_FAILURE() << "stale fill ran"; }));
  EXPECT_TRUE(fence.fill(1, [] {}));
}

}  // namespace
}  // namespace emporium::cache
