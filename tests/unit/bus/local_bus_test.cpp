#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "bus/publisher.hpp"
#include "core/error.hpp"

namespace emporium::bus {
namespace {

using namespace std::chrono_literals;

Event event(std::string type, std::string payload = "{}") {
  return make_event(type, std::move(payload));
}

// Collects what a handler saw, thread-safely.
struct Seen {
  std::mutex mutex;
  std::vector<Event> events;
  Handler handler() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
      return true;
    };
  }
  std::vector<std::string> types() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events) {
      out.push_back(e.type);
    }
    return out;
  }
};

// Opens a gate that blocked handlers wait on, at the latest when the test
// ends (so a failed assertion cannot leave a worker blocked forever).
struct Gate {
  std::promise<void> promise;
  std::shared_future<void> future = promise.get_future().share();
  bool opened = false;
  void open() {
    if (!opened) {
      opened = true;
      promise.set_value();
    }
  }
  void wait() const { future.wait(); }
  ~Gate() { open(); }
};

double counter(obs::Family<obs::Counter>& f, std::string_view queue) {
  return f.with({queue}).value();
}

TEST(LocalBus, DeliversToEveryMatchingQueueInOrder) {
  obs::Registry registry;
  Metrics metrics(registry);
  Seen orders, all, stock, none;
  LocalBus bus(metrics);  // after what its handlers use: stops first
  bus.subscribe("orders", {"order.*"}, orders.handler());
  bus.subscribe("all", {"#"}, all.handler());
  bus.subscribe("stock", {"product.stock_low", "user.registered"}, stock.handler());
  bus.subscribe("none", {"order.placed.*"}, none.handler());

  for (const char* type : {"order.placed", "user.registered", "order.cancelled",
                           "product.stock_low", "order.status_changed", "cart.emptied"}) {
    bus.publish(event(type));
  }
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(orders.types(),
            (std::vector<std::string>{"order.placed", "order.cancelled", "order.status_changed"}));
  EXPECT_EQ(all.types().size(), 6U);
  EXPECT_EQ(all.types().front(), "order.placed");
  EXPECT_EQ(all.types().back(), "cart.emptied");
  EXPECT_EQ(stock.types(), (std::vector<std::string>{"user.registered", "product.stock_low"}));
  EXPECT_TRUE(none.types().empty());
  EXPECT_EQ(counter(metrics.consumed, "orders"), 3);
  EXPECT_EQ(counter(metrics.consumed, "all"), 6);
  EXPECT_EQ(counter(metrics.failed, "all"), 0);

  // The event arrives whole.
  const auto sent = event("order.placed", R"({"order_id":"o1","total_cents":1999})");
  bus.publish(sent);
  ASSERT_TRUE(bus.wait_idle(5s));
  std::lock_guard lock(orders.mutex);
  EXPECT_EQ(orders.events.back().id, sent.id);
  EXPECT_EQ(orders.events.back().time, sent.time);
  EXPECT_EQ(orders.events.back().payload, sent.payload);
}

TEST(LocalBus, PublishingNeverWaitsForAHandler) {
  obs::Registry registry;
  Metrics metrics(registry);
  std::atomic<int> handled{0};
  Seen fast;
  LocalBus bus(metrics);
  Gate gate;  // opened before the bus stops
  bus.subscribe("slow", {"#"}, [&](const Event&) {
    gate.wait();
    ++handled;
    return true;
  });
  bus.subscribe("fast", {"#"}, fast.handler());

  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    bus.publish(event("order.placed"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  // The other queue is not held up by the slow one.
  for (int i = 0; i < 200 && fast.types().size() < 100; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(fast.types().size(), 100U);
  EXPECT_EQ(handled.load(), 0);
  gate.open();
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(handled.load(), 100);
}

TEST(LocalBus, RetriesWithBackoffThenSucceeds) {
  obs::Registry registry;
  Metrics metrics(registry);
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> calls;
  std::vector<std::string> order;
  LocalBus bus(metrics);
  bus.subscribe(
      "flaky", {"#"},
      [&](const Event& e) {
        std::lock_guard lock(mutex);
        if (e.type == "order.placed") {
          calls.push_back(std::chrono::steady_clock::now());
          if (calls.size() == 1) {
            return false;
          }
          if (calls.size() == 2) {
            throw std::runtime_error("database busy");
          }
        }
        order.push_back(e.type);
        return true;
      },
      RetryPolicy{.max_attempts = 5, .initial_backoff = 50ms, .max_backoff = 1s});
  bus.publish(event("order.placed"));
  bus.publish(event("user.registered"));
  ASSERT_TRUE(bus.wait_idle(5s));
  std::lock_guard lock(mutex);
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_GE(calls[1] - calls[0], 50ms);
  EXPECT_GE(calls[2] - calls[1], 100ms);  // doubled
  // The queue went on while the failed event waited for its retry.
  EXPECT_EQ(order, (std::vector<std::string>{"user.registered", "order.placed"}));
  EXPECT_EQ(counter(metrics.failed, "flaky"), 2);
  EXPECT_EQ(counter(metrics.consumed, "flaky"), 2);
  EXPECT_EQ(counter(metrics.dead_lettered, "flaky"), 0);
  EXPECT_TRUE(bus.dead_letters("flaky").empty());
}

TEST(LocalBus, DeadLettersAfterMaxAttempts) {
  obs::Registry registry;
  Metrics metrics(registry);
  std::atomic<int> calls{0};
  Seen other;
  LocalBus bus(metrics);
  bus.subscribe(
      "broken", {"order.*"},
      [&](const Event&) -> bool {
        ++calls;
        throw std::runtime_error("no such template");
      },
      RetryPolicy{.max_attempts = 3, .initial_backoff = 10ms, .max_backoff = 20ms});
  bus.subscribe("other", {"order.*"}, other.handler());
  const auto sent = event("order.cancelled", R"({"order_id":"o9"})");
  bus.publish(sent);
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(calls.load(), 3);
  const auto dead = bus.dead_letters("broken");
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0].event.id, sent.id);
  EXPECT_EQ(dead[0].event.payload, sent.payload);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_NE(dead[0].error.find("no such template"), std::string::npos) << dead[0].error;
  EXPECT_EQ(counter(metrics.failed, "broken"), 3);
  EXPECT_EQ(counter(metrics.dead_lettered, "broken"), 1);
  // Another queue of the same event is unaffected.
  EXPECT_EQ(other.types().size(), 1U);
  EXPECT_TRUE(bus.dead_letters("other").empty());
  EXPECT_TRUE(bus.dead_letters("unknown").empty());
  // The failures show in the metrics text.
  const auto text = registry.render();
  EXPECT_NE(text.find("emporium_bus_dead_lettered_total{queue=\"broken\"} 1"), std::string::npos)
      << text;
}

TEST(LocalBus, FullQueueRefusesAllOrNothing) {
  obs::Registry registry;
  Metrics metrics(registry);
  std::atomic<int> small_handled{0};
  std::atomic<bool> entered{false};
  Seen roomy;
  LocalBus bus(metrics, 2);
  Gate gate;
  bus.subscribe("small", {"order.*"}, [&](const Event&) {
    entered = true;
    gate.wait();
    ++small_handled;
    return true;
  });
  bus.subscribe("roomy", {"#"}, roomy.handler());

  bus.publish(event("order.placed"));  // taken by the worker, which blocks
  for (int i = 0; i < 500 && !entered; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(entered.load());
  // "roomy" has the same limit: let it drain after each event.
  const auto roomy_has = [&](std::size_t n) {
    for (int i = 0; i < 500 && roomy.types().size() < n; ++i) {
      std::this_thread::sleep_for(2ms);
    }
    return roomy.types().size() == n;
  };
  ASSERT_TRUE(roomy_has(1));
  bus.publish(event("order.placed"));
  ASSERT_TRUE(roomy_has(2));
  bus.publish(event("order.placed"));  // "small" now holds 2 waiting
  ASSERT_TRUE(roomy_has(3));
  try {
    bus.publish(event("order.placed"));
    ADD_FAILURE() << "a full queue accepted an event";
  } catch (const core::Error& e) {
    EXPECT_TRUE(e.transient());
  }
  bus.publish(event("user.registered"));  // not for the full queue: accepted
  gate.open();
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(small_handled.load(), 3);
  // The refused event reached no queue at all.
  EXPECT_EQ(roomy.types().size(), 4U);
}

TEST(LocalBus, RejectsBadSubscriptionsAndEvents) {
  obs::Registry registry;
  Metrics metrics(registry);
  Seen s;
  LocalBus bus(metrics);
  bus.subscribe("q", {"#"}, s.handler());
  EXPECT_THROW(bus.subscribe("q", {"#"}, s.handler()), std::invalid_argument);
  EXPECT_THROW(bus.subscribe("", {"#"}, s.handler()), std::invalid_argument);
  EXPECT_THROW(bus.subscribe("r", {}, s.handler()), std::invalid_argument);
  EXPECT_THROW(bus.subscribe("r", {"Order.*"}, s.handler()), std::invalid_argument);
  EXPECT_THROW(bus.subscribe("r", {"#"}, s.handler(), RetryPolicy{.max_attempts = 0}),
               std::invalid_argument);
  EXPECT_THROW(bus.subscribe("r", {"#"}, Handler{}), std::invalid_argument);
  Event bad = event("order.placed");
  bad.payload = "[1]";
  EXPECT_THROW(bus.publish(bad), std::invalid_argument);
}

TEST(LocalBus, StopJoinsWorkersAndRefusesLaterEvents) {
  obs::Registry registry;
  Metrics metrics(registry);
  std::atomic<int> handled{0};
  auto bus = std::make_unique<LocalBus>(metrics);
  bus->subscribe("q", {"#"}, [&](const Event&) {
    std::this_thread::sleep_for(20ms);
    ++handled;
    return true;
  });
  for (int i = 0; i < 50; ++i) {
    bus->publish(event("order.placed"));
  }
  const auto start = std::chrono::steady_clock::now();
  bus->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_LT(handled.load(), 50);
  try {
    bus->publish(event("order.placed"));
    ADD_FAILURE() << "a stopped bus accepted an event";
  } catch (const core::Error& e) {
    EXPECT_TRUE(e.transient());
  }
  bus.reset();  // a second stop in the destructor is harmless
}

TEST(RetryPolicy, BackoffDoublesUpToTheCap) {
  const RetryPolicy p{.max_attempts = 5, .initial_backoff = 100ms, .max_backoff = 1s};
  EXPECT_EQ(p.backoff(1), 100ms);
  EXPECT_EQ(p.backoff(2), 200ms);
  EXPECT_EQ(p.backoff(3), 400ms);
  EXPECT_EQ(p.backoff(4), 800ms);
  EXPECT_EQ(p.backoff(5), 1s);
  EXPECT_EQ(p.backoff(1000), 1s);
}

TEST(RunHandler, ReportsFalseAndExceptions) {
  const auto e = make_event("a.b", "{}");
  EXPECT_FALSE(run_handler([](const Event&) { return true; }, e).has_value());
  EXPECT_EQ(run_handler([](const Event&) { return false; }, e).value(), "handler returned false");
  EXPECT_NE(run_handler([](const Event&) -> bool { throw std::runtime_error("boom"); }, e)
                .value()
                .find("boom"),
            std::string::npos);
  EXPECT_TRUE(run_handler([](const Event&) -> bool { throw 42; }, e).has_value());
}

}  // namespace
}  // namespace emporium::bus
