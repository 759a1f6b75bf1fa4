#include "bus/outbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../scratch.hpp"
#include "core/error.hpp"
#include "db/migrate.hpp"

namespace emporium::bus {
namespace {

using namespace std::chrono_literals;

std::string fresh_db() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (testing_support::scratch_dir(info->name()) / "test.db").string();
}

std::unique_ptr<db::Database> open_outbox() {
  auto db = db::open_sqlite({.path = fresh_db()});
  db::migrate(*db, "test", {outbox_migration(1)});
  return db;
}

// A Publisher that records what it was given and fails on demand.
class FakePublisher : public Publisher {
 public:
  void publish(const Event& e) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (down_ || (fail_ && fail_(e))) {
      throw core::Error("broker unreachable", true);
    }
    published_.push_back(e);
  }
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  void fail_when(std::function<bool(const Event&)> f) {
    std::lock_guard lock(mutex_);
    fail_ = std::move(f);
  }
  std::vector<Event> published() {
    std::lock_guard lock(mutex_);
    return published_;
  }
  std::vector<std::string> ids() {
    std::vector<std::string> out;
    for (const auto& e : published()) {
      out.push_back(e.id);
    }
    return out;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  bool down_ = false;
  std::function<bool(const Event&)> fail_;
  std::vector<Event> published_;
  int calls_ = 0;
};

// Waits up to `limit` for `done`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

std::int64_t scalar(db::Database& db, const std::string& sql) {
  return db.acquire()->exec(sql).rows.at(0).integer(0);
}

// Adds `n` events in one committed transaction; returns them.
std::vector<Event> add_events(db::Database& db, int n, std::string_view type = "order.placed") {
  std::vector<Event> events;
  auto c = db.acquire();
  db::Transaction tx(*c);
  for (int i = 0; i < n; ++i) {
    events.push_back(make_event(type, R"({"n":)" + std::to_string(i) + "}"));
    add_event(*c, events.back());
  }
  tx.commit();
  return events;
}

std::vector<std::string> ids_of(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    out.push_back(e.id);
  }
  return out;
}

OutboxRelayOptions fast(std::string name = "test") {
  return OutboxRelayOptions{.name = std::move(name),
                            .interval = 20ms,
                            .batch_size = 4,
                            .initial_backoff = 10ms,
                            .max_backoff = 40ms};
}

TEST(Outbox, RelayPublishesCommittedEventsInOrderAndMarksThemSent) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;

  auto expected = add_events(*db, 10);
  {
    // Rolled back together with the change: never published.
    auto c = db->acquire();
    db::Transaction tx(*c);
    add_event(*c, make_event("order.cancelled", "{}"));
  }
  const auto more = add_events(*db, 3, "user.registered");
  expected.insert(expected.end(), more.begin(), more.end());

  OutboxRelay relay(*db, publisher, metrics, fast());
  ASSERT_TRUE(eventually([&] { return publisher.published().size() >= expected.size(); }));
  std::this_thread::sleep_for(100ms);  // several more rounds: nothing else goes out

  const auto published = publisher.published();
  EXPECT_EQ(ids_of(published), ids_of(expected));
  EXPECT_EQ(published[0].payload, R"({"n":0})");
  EXPECT_EQ(published[0].time, expected[0].time);
  EXPECT_EQ(published[0].version, 1);
  EXPECT_EQ(published.back().type, "user.registered");
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL"), 0);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox"), 13);
  EXPECT_EQ(scalar(*db, "SELECT sum(attempts) FROM outbox"), 0);
  EXPECT_EQ(metrics.outbox_published.with({"test", "order.placed"}).value(), 10);
  EXPECT_EQ(metrics.outbox_published.with({"test", "user.registered"}).value(), 3);
  EXPECT_EQ(metrics.outbox_backlog.with({"test"}).value(), 0);
  EXPECT_EQ(metrics.outbox_oldest_age.with({"test"}).value(), 0);
}

TEST(Outbox, FailedPublishStopsTheRoundAndIsRetriedInOrder) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  const auto events = add_events(*db, 8);
  std::atomic<int> failures{0};
  publisher.fail_when([&](const Event& e) { return e.id == events[2].id && failures++ < 2; });

  OutboxRelay relay(*db, publisher, metrics, fast());
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 8; }));
  // Exactly once each, in order: nothing after the failed row went first.
  EXPECT_EQ(publisher.ids(), ids_of(events));
  const auto row = db->acquire()->exec(
      "SELECT attempts, last_error, sent_at FROM outbox"
      " WHERE id = $1",
      {events[2].id});
  EXPECT_EQ(row.rows.at(0).integer(0), 2);
  EXPECT_NE(row.rows.at(0).text(1).find("broker unreachable"), std::string::npos);
  EXPECT_FALSE(row.rows.at(0).is_null(2));
  EXPECT_EQ(scalar(*db, "SELECT sum(attempts) FROM outbox"), 2);
  EXPECT_EQ(metrics.outbox_failed.with({"test", "order.placed"}).value(), 2);
  EXPECT_EQ(metrics.outbox_published.with({"test", "order.placed"}).value(), 8);
}

TEST(Outbox, NothingIsLostWhileThePublisherIsDown) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  publisher.set_down(true);
  OutboxRelay relay(*db, publisher, metrics, fast());
  const auto events = add_events(*db, 10);
  relay.notify();

  ASSERT_TRUE(eventually([&] { return publisher.calls() >= 3; }));
  EXPECT_TRUE(publisher.published().empty());
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 10);
  // Only the oldest row was tried: each failed round stops at its first row.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE attempts > 0"), 1);
  ASSERT_TRUE(eventually([&] { return metrics.outbox_backlog.with({"test"}).value() == 10; }));
  EXPECT_GT(metrics.outbox_oldest_age.with({"test"}).value(), 0);
  EXPECT_LT(metrics.outbox_oldest_age.with({"test"}).value(), 60);

  publisher.set_down(false);
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 10; }));
  EXPECT_EQ(publisher.ids(), ids_of(events));
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
  ASSERT_TRUE(eventually([&] { return metrics.outbox_backlog.with({"test"}).value() == 0; }));
}

TEST(Outbox, NotifyStartsARoundAtOnce) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  auto options = fast();
  options.interval = 1h;
  OutboxRelay relay(*db, publisher, metrics, options);
  std::this_thread::sleep_for(50ms);  // the first round found nothing
  add_events(*db, 1);
  relay.notify();
  EXPECT_TRUE(eventually([&] { return publisher.published().size() == 1; }, 2s));
}

TEST(Outbox, RowsLeasedByADeadRelayAreSentOnceTheLeaseExpires) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  const auto events = add_events(*db, 3);
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // Another relay claimed the first row and crashed before marking it sent.
  db->acquire()->exec("UPDATE outbox SET claimed_by = 'crashed', claimed_until = $1 WHERE id = $2",
                      {now_us + 300'000, events[0].id});
  OutboxRelay relay(*db, publisher, metrics, fast());
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 2; }));
  EXPECT_EQ(publisher.ids(), (std::vector<std::string>{events[1].id, events[2].id}));
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 3; }));
  EXPECT_EQ(publisher.ids().back(), events[0].id);
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
}

TEST(Outbox, TwoRelaysOnOneOutboxSendEverything) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  const auto events = add_events(*db, 200);
  {
    OutboxRelay a(*db, publisher, metrics, fast("a"));
    OutboxRelay b(*db, publisher, metrics, fast("b"));
    ASSERT_TRUE(eventually(
        [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; },
        20s));
  }
  const auto ids = publisher.ids();
  const auto expected = ids_of(events);
  const std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct, std::set<std::string>(expected.begin(), expected.end()));
  // Claims keep the relays apart: no event went out twice.
  EXPECT_EQ(ids.size(), events.size());
  EXPECT_EQ(metrics.outbox_published.with({"a", "order.placed"}).value() +
                metrics.outbox_published.with({"b", "order.placed"}).value(),
            200);
}

TEST(Outbox, OldSentRowsAreDeleted) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  const auto events = add_events(*db, 2);
  db->acquire()->exec("UPDATE outbox SET sent_at = 1 WHERE id = $1", {events[0].id});
  OutboxRelay relay(*db, publisher, metrics, fast());
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 1; }));
  ASSERT_TRUE(eventually([&] { return scalar(*db, "SELECT count(*) FROM outbox") == 1; }));
  EXPECT_EQ(db->acquire()->exec("SELECT id FROM outbox").rows.at(0).text(0), events[1].id);
}

TEST(Outbox, AnInvalidRowIsParkedAndHoldsUpNothing) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  // Written around add_event, which would have refused it.
  db->acquire()->exec(
      "INSERT INTO outbox (id, type, time, version, payload, created_at) VALUES"
      " ('bad-1', 'order.placed', 't', 1, 'not json', 1)");
  const auto events = add_events(*db, 3);
  OutboxRelay relay(*db, publisher, metrics, fast());
  ASSERT_TRUE(eventually([&] { return publisher.published().size() == 3; }));
  EXPECT_EQ(publisher.ids(), ids_of(events));
  const auto row = db->acquire()->exec(
      "SELECT sent_at, claimed_by, last_error, attempts FROM outbox WHERE id = 'bad-1'");
  EXPECT_TRUE(row.rows.at(0).is_null(0));
  EXPECT_EQ(row.rows.at(0).text(1), "invalid");
  EXPECT_NE(row.rows.at(0).text(2).find("invalid event"), std::string::npos);
  EXPECT_EQ(row.rows.at(0).integer(3), 1);
  std::this_thread::sleep_for(100ms);  // parked: not tried again
  EXPECT_EQ(
      db->acquire()->exec("SELECT attempts FROM outbox WHERE id = 'bad-1'").rows.at(0).integer(0),
      1);
  ASSERT_TRUE(eventually([&] { return metrics.outbox_backlog.with({"test"}).value() == 1; }));
}

TEST(Outbox, AddEventChecksTheEvent) {
  auto db = open_outbox();
  auto c = db->acquire();
  auto e = make_event("order.placed", "{}");
  add_event(*c, e);
  try {
    add_event(*c, e);
    ADD_FAILURE() << "the same event id was stored twice";
  } catch (const db::DbError& err) {
    EXPECT_EQ(err.kind(), db::ErrorKind::constraint);
  }
  auto bad = make_event("order.placed", "not json");
  EXPECT_THROW(add_event(*c, bad), std::invalid_argument);
  bad = make_event("Order Placed", "{}");
  EXPECT_THROW(add_event(*c, bad), std::invalid_argument);
  EXPECT_EQ(c->exec("SELECT count(*) FROM outbox").rows.at(0).integer(0), 1);
}

TEST(Outbox, StopIsPromptAndIdempotent) {
  auto db = open_outbox();
  obs::Registry registry;
  Metrics metrics(registry);
  FakePublisher publisher;
  publisher.set_down(true);
  auto options = fast();
  options.initial_backoff = 1h;
  options.max_backoff = 1h;
  auto relay = std::make_unique<OutboxRelay>(*db, publisher, metrics, options);
  add_events(*db, 1);
  relay->notify();
  ASSERT_TRUE(eventually([&] { return publisher.calls() >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  relay->stop();
  relay->stop();
  relay.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL"), 0);
}

}  // namespace
}  // namespace emporium::bus
