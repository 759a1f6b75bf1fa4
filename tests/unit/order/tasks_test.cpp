#include "order/tasks.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace emporium::order::testing {
namespace {

using namespace std::chrono_literals;

TEST(OrderTasks, BackoffDoublesUpTo15Seconds) {
  EXPECT_EQ(retry_delay_seconds(0), 1);
  EXPECT_EQ(retry_delay_seconds(1), 2);
  EXPECT_EQ(retry_delay_seconds(2), 4);
  EXPECT_EQ(retry_delay_seconds(3), 8);
  EXPECT_EQ(retry_delay_seconds(4), 15);
  EXPECT_EQ(retry_delay_seconds(40), 15);
  EXPECT_EQ(parse_task_kind(to_string(TaskKind::clear_cart)), TaskKind::clear_cart);
  EXPECT_EQ(parse_task_kind(to_string(TaskKind::remove_bought)), TaskKind::remove_bought);
  EXPECT_EQ(parse_task_kind(to_string(TaskKind::release_stock)), TaskKind::release_stock);
  EXPECT_FALSE(parse_task_kind("mail"));
}

TEST(OrderTasks, AFailedRemovalIsRetriedWhenDueUntilTheCartIsEmpty) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  shop.carts.fail_next_clears(2);
  ASSERT_EQ(shop.place_for(customer("ann")).status, 201);  // the order stands
  EXPECT_EQ(shop.carts.lines_of("ann").size(), 1U);
  auto clear = shop.store.tasks_of(TaskKind::remove_bought).at(0);
  EXPECT_FALSE(clear.done_at);
  EXPECT_EQ(clear.attempts, 1);
  EXPECT_EQ(clear.last_error, "cart checkout: connection refused");

  shop.tasks.run_due();  // not due yet: the backoff holds it
  EXPECT_EQ(shop.store.tasks_of(TaskKind::remove_bought).at(0).attempts, 1);

  shop.store.make_due();
  shop.tasks.run_due();  // fails again
  clear = shop.store.tasks_of(TaskKind::remove_bought).at(0);
  EXPECT_EQ(clear.attempts, 2);
  EXPECT_FALSE(clear.done_at);

  shop.store.make_due();
  shop.tasks.run_due();
  EXPECT_TRUE(shop.carts.lines_of("ann").empty());
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::remove_bought).at(0).done_at);
}

// The race a shopper looping add -> order on one connection hit: the removal
// of an earlier order running again (the runner after a slow or failed inline
// try) must not take what was added after that order.
TEST(OrderTasks, TheCartLosesWhatAnOrderBoughtOnceAndNeverALaterItem) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  shop.carts.fail_next_clears(1);  // the inline try fails
  ASSERT_EQ(shop.place_for(customer("ann")).status, 201);
  // The shopper adds again before the runner's retry: one more mug, a lamp.
  shop.carts.put("ann", {{"mug", 2}, {"lamp", 1}});
  shop.store.make_due();
  shop.tasks.run_due();
  EXPECT_EQ(shop.carts.lines_of("ann"), (std::vector<svc::Line>{{"mug", 1}, {"lamp", 1}}));
  // And the same order's removal once more (a second runner, a replay): nothing.
  const auto task = shop.store.tasks_of(TaskKind::remove_bought).at(0).task;
  shop.tasks.attempt(task, 0);
  EXPECT_EQ(shop.carts.lines_of("ann"), (std::vector<svc::Line>{{"mug", 1}, {"lamp", 1}}));
  // The next order takes exactly its own lines.
  ASSERT_EQ(shop.place_for(customer("ann")).status, 201);
  EXPECT_TRUE(shop.carts.lines_of("ann").empty());
}

// Done marks are a group commit: while one is being written, the marks of
// other tasks finishing meanwhile wait for that writer, which stores them
// all in its next transaction; no mark is left behind.
TEST(OrderTasks, DoneMarksWrittenMeanwhileShareTheNextTransaction) {
  Shop shop;
  std::vector<Task> tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.push_back(shop.tasks.schedule(TaskKind::release_stock, "o" + std::to_string(i), 60));
  }
  std::mutex m;
  std::condition_variable cv;
  bool writing = false;
  bool go_on = false;
  shop.store.before_tasks_done = [&] {
    std::unique_lock lock(m);
    if (writing) {
      return;  // the writer's later transactions are not held
    }
    writing = true;
    cv.notify_all();
    cv.wait(lock, [&] { return go_on; });
  };
  std::thread first([&] { shop.tasks.attempt(tasks[0], 0); });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return writing; }));
  }
  // The others finish while the first mark is being written: they return
  // at once, their marks queued.
  for (int i = 1; i < 4; ++i) {
    shop.tasks.attempt(tasks[i], 0);
  }
  for (const auto& t : shop.store.tasks_of(TaskKind::release_stock)) {
    EXPECT_FALSE(t.done_at) << t.task.subject;
  }
  {
    std::lock_guard lock(m);
    go_on = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_EQ(shop.store.done_transactions.load(), 2);  // the first mark, then the other three
  const auto stored = shop.store.tasks_of(TaskKind::release_stock);
  ASSERT_EQ(stored.size(), 4U);
  for (const auto& t : stored) {
    EXPECT_TRUE(t.done_at) << t.task.subject;
  }
}

TEST(OrderTasks, AReleaseThatFailsInlineIsScheduledAndRunLater) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 2}});
  const auto id = std::string(body_of(shop.place_for(customer("ann"))).at("id").as_string());
  ASSERT_EQ(shop.products.stock_of("mug"), 3);
  shop.products.fail_releases = 1;
  ASSERT_EQ(shop.cancel(customer("ann"), id).status, 200);  // cancelled whatever the release did
  EXPECT_EQ(shop.products.stock_of("mug"), 3);
  auto release = shop.store.tasks_of(TaskKind::release_stock).back();
  EXPECT_EQ(release.task.subject, id);
  EXPECT_EQ(release.attempts, 1);

  shop.store.make_due();
  shop.tasks.run_due();
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::release_stock).back().done_at);

  shop.products.fail_releases = 1;
  shop.tasks.release_or_schedule("o2", "r1");  // fails: scheduled, due now
  release = shop.store.tasks_of(TaskKind::release_stock).back();
  EXPECT_EQ(release.task.subject, "o2");
  EXPECT_FALSE(release.done_at);
  EXPECT_EQ(release.attempts, 0);
}

TEST(OrderTaskRunner, WakeRunsTheDueTasksAndStopEndsIt) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  shop.carts.fail_next_clears(1);
  ASSERT_EQ(shop.place_for(customer("ann")).status, 201);
  shop.store.make_due();
  TaskRunner runner(shop.tasks, std::chrono::hours(1));
  runner.wake();
  for (int i = 0; i < 500 && !shop.carts.lines_of("ann").empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(shop.carts.lines_of("ann").empty());
  runner.stop();
  runner.stop();  // idempotent
}

}  // namespace
}  // namespace emporium::order::testing
