// The Notifier with a fake store, a fake sender and a fake directory: what a
// delivery comes to, what was sent, and what the store holds afterwards.

#include "notification/handlers.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "bus/event.hpp"
#include "common/embedded.hpp"
#include "core/error.hpp"
#include "fakes.hpp"

namespace emporium::notification::testing {
namespace {

using namespace std::chrono_literals;

struct Handlers : ::testing::Test {
  Handlers()
      : templates(embedded::mail_templates()),
        notifier(store, templates, sender, directory, registry,
                 NotifierOptions{.from = "Emporium <shop@emporium.local>", .claim_ttl = 30s}) {
    directory.users.emplace("u1", svc::UserProfile{"u1", "ann@example.com", "Ann"});
  }

  // The value of name{kind="..."} as /metrics shows it; -1 when absent.
  double counter(const std::string& name, std::string_view kind) {
    const auto text = registry.render();
    const auto series = name + "{kind=\"" + std::string(kind) + "\"} ";
    const auto at = text.find(series);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size()));
  }

  FakeStore store;
  FakeSender sender;
  FakeDirectory directory;
  obs::Registry registry;
  Templates templates;
  Notifier notifier;
};

bus::Event order_placed(const std::string& user = "u1") {
  return bus::make_event(
      "order.placed",
      R"({"order_id":"0123456789abcdef","user_id":")" + user +
          R"(","total_cents":4998,"currency":"USD","items":[{"product_id":"p1","product_name":"Journey Lamp","quantity":2,"price_cents":2499}]})");
}

bus::Event welcome(const std::string& name = "Zoe") {
  return bus::make_event("user.registered",
                         R"({"user_id":"u7","email":"zoe@example.com","name":")" + name + R"("})");
}

template <class E>
std::exception_ptr error(E e) {
  return std::make_exception_ptr(std::move(e));
}

TEST_F(Handlers, AnOrderSendsOneEmailAndASecondDeliveryIsADuplicate) {
  const auto e = order_placed();
  auto first = notifier.deliver(e);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, Delivery::sent);
  auto second = notifier.deliver(e);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, Delivery::duplicate);

  ASSERT_EQ(sender.sent.size(), 1u);
  const auto& m = sender.sent[0];
  EXPECT_EQ(m.to, "ann@example.com");
  EXPECT_EQ(m.from, "Emporium <shop@emporium.local>");
  EXPECT_EQ(m.id, e.id);
  EXPECT_NE(m.subject.find("01234567"), std::string::npos) << m.subject;
  EXPECT_NE(m.body.find("Hello Ann,"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("2 \u00d7 Journey Lamp @ 24.99 = 49.98"), std::string::npos) << m.body;

  ASSERT_EQ(store.rows.count(e.id), 1u);
  const auto& row = store.rows.at(e.id);
  EXPECT_EQ(row.status, "sent");
  EXPECT_EQ(row.kind, "order_placed");
  EXPECT_EQ(row.recipient, "ann@example.com");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(directory.lookups, 1) << "a duplicate is recognised before the user is looked up";
  EXPECT_EQ(directory.last_request_id, e.id);
  EXPECT_EQ(counter("emporium_emails_sent_total", "order_placed"), 1);
  EXPECT_EQ(counter("emporium_emails_duplicates_total", "order_placed"), 1);
}

TEST_F(Handlers, EveryKindIsCountedFromZero) {
  for (auto kind : kKinds) {
    EXPECT_EQ(counter("emporium_emails_sent_total", kind), 0) << kind;
    EXPECT_EQ(counter("emporium_emails_failed_total", kind), 0) << kind;
    EXPECT_EQ(counter("emporium_emails_duplicates_total", kind), 0) << kind;
  }
}

TEST_F(Handlers, TheClaimLastsTheClaimTtl) {
  ASSERT_TRUE(notifier.deliver(order_placed()).ok());
  ASSERT_EQ(store.claims.size(), 1u);
  const auto& c = store.claims[0];
  EXPECT_EQ(c.kind, "order_placed");
  EXPECT_EQ(c.recipient, "ann@example.com");
  EXPECT_EQ(c.claimed_until - c.now_ms, 30'000);
}

TEST_F(Handlers, WelcomeUsesTheEventsAddressWithoutALookup) {
  auto r = notifier.deliver(welcome(""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Delivery::sent);
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].to, "zoe@example.com");
  EXPECT_EQ(sender.sent[0].subject, "Welcome to Emporium");
  EXPECT_NE(sender.sent[0].body.find("Hello there,"), std::string::npos) << sender.sent[0].body;
  EXPECT_EQ(directory.lookups, 0);
  EXPECT_EQ(counter("emporium_emails_sent_total", "welcome"), 1);
}

TEST_F(Handlers, AnUnknownUserGetsNoEmailAndNoRow) {
  auto r = notifier.deliver(order_placed("ghost"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Delivery::no_recipient);
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_TRUE(store.rows.empty());
  EXPECT_TRUE(notifier.handle(order_placed("ghost")));
}

TEST_F(Handlers, EventsThatAskForNoEmailTouchNothing) {
  auto stock = notifier.deliver(
      bus::make_event("product.stock_low", R"({"product_id":"p","stock":1,"threshold":5})"));
  ASSERT_TRUE(stock.ok());
  EXPECT_EQ(*stock, Delivery::no_email);
  auto cancelled = notifier.deliver(
      bus::make_event("order.status_changed",
                      R"({"order_id":"o","user_id":"u1","from":"processing","to":"cancelled"})"));
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(*cancelled, Delivery::no_email);
  EXPECT_EQ(store.reads, 0);
  EXPECT_TRUE(store.rows.empty());
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(directory.lookups, 0);
}

TEST_F(Handlers, AMalformedPayloadIsAPermanentFailureThrownAsInvalidArgument) {
  const auto e = bus::make_event("order.cancelled", R"({"order_id":"o"})");
  auto r = notifier.deliver(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::malformed_event);
  EXPECT_EQ(r.error().detail, "order.cancelled: payload lacks 'user_id'");
  EXPECT_FALSE(spec(r.error().code).transient);
  try {
    notifier.handle(e);
    FAIL() << "a malformed event was acknowledged";
  } catch (const std::invalid_argument& err) {
    EXPECT_STREQ(err.what(), "order.cancelled: payload lacks 'user_id'");
  }
  EXPECT_TRUE(store.rows.empty());
  EXPECT_TRUE(sender.sent.empty());
}

TEST_F(Handlers, ALiveClaimOfAnotherDeliveryIsATransientFailure) {
  const auto e = order_placed();
  const auto in_an_hour = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch() + 1h)
                              .count();
  store.rows.emplace(e.id, Row{"order_placed", "ann@example.com", "sending", 1, in_an_hour, ""});
  auto r = notifier.deliver(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::claim_held);
  EXPECT_EQ(r.error().detail, "another delivery of event " + e.id + " is sending its email");
  try {
    notifier.handle(e);
    FAIL() << "sent while another delivery holds the event";
  } catch (const core::Error& err) {
    EXPECT_TRUE(err.transient());
    EXPECT_EQ(std::string(err.what()),
              "another delivery of event " + e.id + " is sending its email");
  }
  EXPECT_EQ(sender.attempts, 0);
  EXPECT_EQ(store.rows.at(e.id).attempts, 1);
  EXPECT_EQ(store.rows.at(e.id).claimed_until, in_an_hour);
}

TEST_F(Handlers, AClaimFoundSentWhenClaimingIsADuplicate) {
  // Another delivery sent it between this one's first look and its claim.
  class SentMeanwhile final : public Store {
   public:
    bool is_sent(const std::string&) override { return false; }
    Claim claim(const ClaimRequest&) override { return Claim::already_sent; }
    void mark_sent(const std::string&) override { ADD_FAILURE() << "marked twice"; }
    void release(const std::string&, std::string_view, std::int64_t) override {}
  } meanwhile;
  obs::Registry metrics;
  Notifier n(meanwhile, templates, sender, directory, metrics,
             NotifierOptions{.from = "shop@emporium.local"});
  auto r = n.deliver(order_placed());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Delivery::duplicate);
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_NE(metrics.render().find(R"(emporium_emails_duplicates_total{kind="order_placed"} 1)"),
            std::string::npos)
      << metrics.render();
}

TEST_F(Handlers, AFailedSendReleasesTheClaimAndTheNextDeliverySends) {
  const auto e = order_placed();
  sender.fail = error(core::Error("smtp smtp://127.0.0.1:1: Couldn't connect to server", true));
  auto r = notifier.deliver(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::send_failed);
  EXPECT_TRUE(spec(r.error().code).transient);
  EXPECT_EQ(r.error().detail, "smtp smtp://127.0.0.1:1: Couldn't connect to server");
  const auto& row = store.rows.at(e.id);
  EXPECT_EQ(row.status, "sending");
  EXPECT_EQ(row.claimed_until, 0) << "released, so the next delivery may send at once";
  EXPECT_EQ(row.last_error, "smtp smtp://127.0.0.1:1: Couldn't connect to server");
  EXPECT_EQ(counter("emporium_emails_failed_total", "order_placed"), 1);

  sender.fail = nullptr;
  auto again = notifier.deliver(e);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, Delivery::sent);
  EXPECT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(store.rows.at(e.id).status, "sent");
  EXPECT_EQ(store.rows.at(e.id).attempts, 2);
  EXPECT_TRUE(store.rows.at(e.id).last_error.empty());
  EXPECT_EQ(counter("emporium_emails_sent_total", "order_placed"), 1);
}

TEST_F(Handlers, TheBusGetsTheSendersOwnException) {
  sender.fail = error(core::Error("smtp: 451 try later", true, true));
  try {
    notifier.handle(order_placed());
    FAIL() << "a failed send was acknowledged";
  } catch (const core::Error& err) {
    EXPECT_STREQ(err.what(), "smtp: 451 try later");
    EXPECT_TRUE(err.transient());
    EXPECT_TRUE(err.timeout());
  }
}

TEST_F(Handlers, AMailRefusedForGoodIsAPermanentFailure) {
  sender.fail = error(core::Error("smtp: 550 no such mailbox", false));
  auto refused = notifier.deliver(order_placed());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Error::send_refused);
  EXPECT_FALSE(spec(Error::send_refused).transient);

  sender.fail = error(std::invalid_argument("mail: a header holds a line break"));
  auto unwritable = notifier.deliver(welcome());
  ASSERT_FALSE(unwritable.ok());
  EXPECT_EQ(unwritable.error().code, Error::send_refused);
  EXPECT_THROW(notifier.handle(welcome()), std::invalid_argument);
  EXPECT_EQ(counter("emporium_emails_failed_total", "order_placed"), 1);
  EXPECT_EQ(counter("emporium_emails_failed_total", "welcome"), 2);
}

TEST_F(Handlers, AStoreThatCannotReleaseLeavesTheClaimToLapse) {
  const auto e = order_placed();
  store.fail_release = true;
  sender.fail = error(core::Error("smtp: connection reset", true));
  auto r = notifier.deliver(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Error::send_failed);
  EXPECT_GT(store.rows.at(e.id).claimed_until, 0);
}

TEST_F(Handlers, AUserServiceThatIsDownIsThrown) {
  directory.down = true;
  EXPECT_THROW((void)notifier.deliver(order_placed()), core::Error);
  EXPECT_TRUE(store.rows.empty());
  EXPECT_EQ(sender.attempts, 0);
}

TEST_F(Handlers, AFromThatIsNoMailboxFailsAtStartUp) {
  obs::Registry metrics;
  EXPECT_THROW(Notifier(store, templates, sender, directory, metrics,
                        NotifierOptions{.from = "not a mailbox"}),
               std::invalid_argument);
}

// Each code's transient flag and text, and the exception the bus gets for it
// when the failure carries no detail or cause of its own.
TEST(NotificationErrors, TheTableAndWhatTheBusGets) {
  struct Case {
    Error code;
    bool transient;
    std::string text;
  };
  const Case cases[] = {
      {Error::malformed_event, false, "the event's payload is malformed"},
      {Error::claim_held, true, "another delivery is sending this email"},
      {Error::send_failed, true, "the mail server did not accept the email"},
      {Error::send_refused, false, "the mail server refused the email"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(spec(c.code).transient, c.transient) << c.text;
    EXPECT_EQ(spec(c.code).error, c.text);
    try {
      throw_for_bus(Failure{.code = c.code});
    } catch (const core::Error& e) {
      EXPECT_NE(c.code, Error::malformed_event);
      EXPECT_EQ(e.transient(), c.transient) << c.text;
      EXPECT_EQ(std::string(e.what()), c.text);
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(c.code, Error::malformed_event);
      EXPECT_EQ(std::string(e.what()), c.text);
    }
  }
}

}  // namespace
}  // namespace emporium::notification::testing
