// The Notifier over the SqlStore on SQLite: the sent_emails statements, the
// claim and its lapse, and the bus's retries and dead letters.

#include "notification/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "../scratch.hpp"
#include "bus/publisher.hpp"
#include "common/embedded.hpp"
#include "core/error.hpp"
#include "db/migrate.hpp"
#include "notification/handlers.hpp"
#include "notification/service.hpp"

namespace emporium::notification {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<db::Database> fresh_db() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = testing_support::scratch_dir(info->name());
  auto db = db::open_sqlite({.path = (dir / "notification.db").string()});
  db::migrate(*db, "notification", module().migrations());
  return db;
}

// Records what it was asked to send; fails the first `fail_first` sends (or
// all with fail_always).
class FakeSender : public mail::Sender {
 public:
  void send(const mail::Mail& m) override {
    std::lock_guard lock(mutex_);
    ++attempts_;
    if (fail_always || attempts_ <= fail_first) {
      throw core::Error("smtp smtp://127.0.0.1:1: Couldn't connect to server", true);
    }
    sent_.push_back(m);
  }
  std::vector<mail::Mail> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  int attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
  }
  int fail_first = 0;
  std::atomic<bool> fail_always{false};

 private:
  mutable std::mutex mutex_;
  std::vector<mail::Mail> sent_;
  int attempts_ = 0;
};

// Knows the user u1 only; counts the lookups.
class OneUser final : public Directory {
 public:
  std::optional<svc::UserProfile> find(const std::string& id, const std::string&) override {
    ++lookups;
    if (id == "u1") {
      return svc::UserProfile{"u1", "ann@example.com", "Ann"};
    }
    return std::nullopt;
  }
  int lookups = 0;
};

struct Fixture {
  Fixture()
      : db(fresh_db()),
        store(*db),
        templates(embedded::mail_templates()),
        notifier(store, templates, sender, directory, registry,
                 NotifierOptions{.from = "Emporium <shop@emporium.local>"}) {}

  // The value of name{kind="..."} as /metrics shows it; -1 when absent.
  double counter(const std::string& name, std::string_view kind) {
    const auto text = registry.render();
    const auto series = name + "{kind=\"" + std::string(kind) + "\"} ";
    const auto at = text.find(series);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size()));
  }
  std::string status(const std::string& event_id) {
    auto rows =
        db->acquire()->exec("SELECT status FROM sent_emails WHERE event_id = $1", {event_id}).rows;
    return rows.empty() ? "" : rows.front().text(0);
  }
  std::int64_t attempts(const std::string& event_id) {
    return db->acquire()
        ->exec("SELECT attempts FROM sent_emails WHERE event_id = $1", {event_id})
        .rows.at(0)
        .integer(0);
  }

  std::unique_ptr<db::Database> db;
  SqlStore store;
  Templates templates;
  FakeSender sender;
  OneUser directory;
  obs::Registry registry;
  Notifier notifier;
};

bus::Event order_placed(const std::string& user = "u1") {
  return bus::make_event(
      "order.placed",
      R"({"order_id":"0123456789abcdef","user_id":")" + user +
          R"(","total_cents":4998,"currency":"USD","items":[{"product_id":"p1","product_name":"Journey Lamp","quantity":2,"price_cents":2499}]})");
}

TEST(Notifier, SendsOneEmailPerEventEvenWhenDeliveredTwice) {
  Fixture f;
  const auto e = order_placed();
  EXPECT_TRUE(f.notifier.handle(e));
  EXPECT_TRUE(f.notifier.handle(e));
  const auto sent = f.sender.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "ann@example.com");
  EXPECT_EQ(sent[0].from, "Emporium <shop@emporium.local>");
  EXPECT_EQ(sent[0].id, e.id);
  EXPECT_NE(sent[0].subject.find("01234567"), std::string::npos) << sent[0].subject;
  EXPECT_NE(sent[0].body.find("Hello Ann,"), std::string::npos) << sent[0].body;
  EXPECT_NE(sent[0].body.find("2 \u00d7 Journey Lamp @ 24.99 = 49.98"), std::string::npos);
  EXPECT_NE(sent[0].body.find("Total: 49.98 USD"), std::string::npos);
  EXPECT_EQ(f.status(e.id), "sent");
  EXPECT_EQ(f.counter("emporium_emails_sent_total", "order_placed"), 1);
  EXPECT_EQ(f.counter("emporium_emails_duplicates_total", "order_placed"), 1);
  EXPECT_EQ(f.directory.lookups, 1) << "a duplicate is recognised before the user is looked up";
}

TEST(Notifier, WelcomeUsesTheEventsAddressWithoutALookup) {
  Fixture f;
  EXPECT_TRUE(f.notifier.handle(bus::make_event(
      "user.registered", R"({"user_id":"u7","email":"zoe@example.com","name":""})")));
  const auto sent = f.sender.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "zoe@example.com");
  EXPECT_EQ(sent[0].subject, "Welcome to Emporium");
  EXPECT_NE(sent[0].body.find("Hello there,"), std::string::npos) << sent[0].body;
  EXPECT_EQ(f.directory.lookups, 0);
}

TEST(Notifier, AFailedSendIsThrownAndTheNextDeliverySends) {
  Fixture f;
  f.sender.fail_first = 1;
  const auto e = order_placed();
  EXPECT_THROW(f.notifier.handle(e), core::Error);
  EXPECT_EQ(f.status(e.id), "sending");
  EXPECT_TRUE(f.notifier.handle(e));
  EXPECT_EQ(f.sender.sent().size(), 1u);
  EXPECT_EQ(f.status(e.id), "sent");
  EXPECT_EQ(f.attempts(e.id), 2);
  EXPECT_EQ(f.counter("emporium_emails_failed_total", "order_placed"), 1);
  EXPECT_EQ(f.counter("emporium_emails_sent_total", "order_placed"), 1);
}

TEST(Notifier, AnUnknownUserGetsNoEmail) {
  Fixture f;
  EXPECT_TRUE(f.notifier.handle(order_placed("ghost")));
  EXPECT_TRUE(f.sender.sent().empty());
}

TEST(Notifier, EventsThatAskForNoEmailAreAcknowledged) {
  Fixture f;
  EXPECT_TRUE(f.notifier.handle(
      bus::make_event("product.stock_low", R"({"product_id":"p","stock":1,"threshold":5})")));
  EXPECT_TRUE(f.notifier.handle(
      bus::make_event("order.status_changed",
                      R"({"order_id":"o","user_id":"u1","from":"processing","to":"cancelled"})")));
  EXPECT_TRUE(f.sender.sent().empty());
}

TEST(Notifier, AMalformedPayloadFailsTheDelivery) {
  Fixture f;
  EXPECT_THROW(f.notifier.handle(bus::make_event("order.cancelled", R"({"order_id":"o"})")),
               std::invalid_argument);
  EXPECT_TRUE(f.sender.sent().empty());
}

TEST(Notifier, ALiveClaimOfAnotherDeliveryDefersThisOne) {
  Fixture f;
  const auto e = order_placed();
  const auto future = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch() + 1h)
                          .count();
  f.db->acquire()->exec(
      "INSERT INTO sent_emails (event_id, kind, recipient, status, attempts, claimed_until, "
      "updated_at) "
      "VALUES ($1, 'order_placed', 'ann@example.com', 'sending', 1, $2, 'x')",
      {e.id, future});
  try {
    f.notifier.handle(e);
    FAIL() << "sent while another delivery holds the event";
  } catch (const core::Error& err) {
    EXPECT_TRUE(err.transient());
  }
  EXPECT_TRUE(f.sender.sent().empty());
}

// The documented edge of at-least-once: the process died after the server
// took the mail and before it was marked sent. Once the claim has lapsed, the
// next delivery sends it again (with the same Message-ID).
TEST(Notifier, AClaimLeftByACrashLapsesAndTheEmailIsSentAgain) {
  Fixture f;
  const auto e = order_placed();
  f.db->acquire()->exec(
      "INSERT INTO sent_emails (event_id, kind, recipient, status, attempts, claimed_until, "
      "updated_at) "
      "VALUES ($1, 'order_placed', 'ann@example.com', 'sending', 1, 1, 'x')",
      {e.id});
  EXPECT_TRUE(f.notifier.handle(e));
  ASSERT_EQ(f.sender.sent().size(), 1u);
  EXPECT_EQ(f.sender.sent()[0].id, e.id);
  EXPECT_EQ(f.attempts(e.id), 2);
}

// On the bus: a failing mail server is retried with backoff, then the event is
// dead-lettered; an event published twice sends one email.
TEST(Notifier, OnTheBusFailuresAreRetriedThenDeadLettered) {
  Fixture f;
  f.sender.fail_always = true;
  obs::Registry bus_registry;
  bus::Metrics metrics(bus_registry);
  bus::LocalBus bus(metrics);
  bus.subscribe(
      "notification", {"order.*", "user.registered"},
      [&](const bus::Event& e) { return f.notifier.handle(e); },
      bus::RetryPolicy{.max_attempts = 3, .initial_backoff = 10ms, .max_backoff = 40ms});
  const auto e = order_placed();
  bus.publish(e);
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(f.sender.attempts(), 3);
  const auto dead = bus.dead_letters("notification");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event.id, e.id);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_NE(dead[0].error.find("Couldn't connect"), std::string::npos) << dead[0].error;
  EXPECT_EQ(f.status(e.id), "sending");
  EXPECT_EQ(f.counter("emporium_emails_failed_total", "order_placed"), 3);

  // The server is back: a replay of the dead letter sends it once, and a
  // second copy of the event sends nothing more.
  f.sender.fail_always = false;
  bus.publish(e);
  bus.publish(e);
  ASSERT_TRUE(bus.wait_idle(5s));
  EXPECT_EQ(f.sender.sent().size(), 1u);
  EXPECT_EQ(f.status(e.id), "sent");
  EXPECT_EQ(bus.dead_letters("notification").size(), 1u);
  bus.stop();
}

}  // namespace
}  // namespace emporium::notification
