#include "core/worker.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace emporium::core {
namespace {

using namespace std::chrono_literals;

// Long enough that a wait ending by itself would fail the test.
constexpr auto kForever = std::chrono::hours(1);

TEST(Worker, RunsTheBodyOnAThreadOfItsOwnWithItsName) {
  std::promise<std::string> seen;
  Worker w("a-rather-long-worker-name", [&](Worker&) {
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    seen.set_value(name);
  });
  EXPECT_EQ(seen.get_future().get(), "a-rather-long-w");  // the first 15 characters
  EXPECT_EQ(w.name(), "a-rather-long-worker-name");
}

TEST(Worker, WakeEndsAWaitAndStopEndsTheLoop) {
  std::atomic<int> rounds{0};
  std::promise<void> first_wait;
  auto waiting = first_wait.get_future();
  auto w = std::make_unique<Worker>("loop", [&](Worker& self) {
    bool announced = false;
    while (self.running()) {
      if (!announced) {
        announced = true;
        first_wait.set_value();
      }
      if (self.wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(kForever))) {
        ++rounds;
      }
    }
  });
  waiting.get();
  w->wake();
  for (int i = 0; i < 1000 && rounds.load() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(rounds.load(), 1);  // one wake, one round
  w.reset();                    // stop() ends the hour-long wait and joins
  EXPECT_EQ(rounds.load(), 1);  // the stopped wait is not a round
}

TEST(Worker, AWakeBeforeTheWaitIsRemembered) {
  std::promise<void> may_wait;
  std::promise<bool> result;
  Worker w("remember", [&](Worker& self) {
    may_wait.get_future().wait();
    result.set_value(
        self.wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(kForever)));
  });
  w.wake();
  may_wait.set_value();
  EXPECT_TRUE(result.get_future().get());  // returned at once, still running
}

TEST(Worker, SleepIgnoresWakeButNotStop) {
  std::promise<void> sleeping;
  std::atomic<bool> woke_up{false};
  std::atomic<bool> running_after{true};
  auto w = std::make_unique<Worker>("sleeper", [&](Worker& self) {
    sleeping.set_value();
    running_after = self.sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(kForever));
    woke_up = true;
  });
  sleeping.get_future().wait();
  w->wake();
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(woke_up.load());
  w.reset();
  EXPECT_TRUE(woke_up.load());
  EXPECT_FALSE(running_after.load());
}

TEST(Worker, StopIsIdempotentFromSeveralThreadsAndFromTheBody) {
  std::atomic<bool> body_returned{false};
  Worker w("stoppers", [&](Worker& self) {
    while (self.running()) {
      self.wait_for(10ms);
    }
    self.stop();  // from the body: returns at once
    body_returned = true;
  });
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) {
    stoppers.emplace_back([&] { w.stop(); });
  }
  for (auto& t : stoppers) {
    t.join();
  }
  EXPECT_TRUE(body_returned.load());
  EXPECT_FALSE(w.running());
  w.stop();
}

}  // namespace
}  // namespace emporium::core
