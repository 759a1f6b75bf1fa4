// The notification service in the real binary, sending through a real SMTP
// server (maildev): welcome, order confirmation, status and cancellation
// emails, one per event even when an event comes twice, retries while the
// mail server is down; and the SMTP client itself against maildev.
//
// Needs EMPORIUM_TEST_SMTP_URL and EMPORIUM_TEST_MAILDEV_URL (and, for the
// split shape over RabbitMQ, EMPORIUM_TEST_AMQP_URL), as printed by
//   eval "$(scripts/local-services.sh start DIR)"
// Without them the tests fail: the test command always starts the servers.
// Tests run in parallel against one maildev, so each uses recipient addresses
// of its own and never clears the mailbox.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <functional>
#include <thread>

#include "core/ids.hpp"
#include "db/db.hpp"
#include "mail/smtp.hpp"
#include "mailbox.hpp"
#include "proxy.hpp"
#include "shop.hpp"

namespace emporium::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string env(const char* name) {
  return required_env(name);
}

const std::string& kHandled = kNotificationsHandled;

// Waits until the notification queue of the process on `port` has handled
// `n` events; then every email they caused is with the mail server.
void wait_handled(std::uint16_t port, double n) {
  EXPECT_TRUE(eventually([&] { return metric(port, kHandled) >= n; }))
      << "handled " << metric(port, kHandled) << " events, expected " << n;
}

std::string order_id_of(const Reply& order) {
  return std::string(order.obj().at("id").as_string());
}

class NotificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_url_ = env("EMPORIUM_TEST_SMTP_URL");
    shop_ = std::make_unique<AllInOneShop>(Storage{},
                                           std::vector<std::string>{"--smtp-url=" + smtp_url_});
  }

  // Registers `address`, buys 2 × "Journey Lamp" at 24.99; returns the order.
  std::pair<Customer, Reply> buy_lamps(const std::string& address) {
    auto ann = shop_->register_and_login(address);
    const auto lamp = shop_->create_product("Journey Lamp", 24.99, 10);
    EXPECT_EQ(shop_->add_to_cart(ann, lamp, 2).status, 201);
    auto order = shop_->place_order(ann);
    EXPECT_EQ(order.status, 201) << order.raw;
    return {ann, order};
  }

  std::string smtp_url_;
  std::unique_ptr<AllInOneShop> shop_;
  Maildev maildev_;
};

TEST_F(NotificationTest, RegistrationSendsOneWelcomeEmail) {
  const auto address = unique_address("ann");
  shop_->register_and_login(address);
  ASSERT_EQ(maildev_.wait(address, 1).size(), 1u);
  wait_handled(shop_->port(), 1);

  const auto mails = maildev_.to(address);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(text_of(mails[0], "subject"), "Welcome to Emporium");
  EXPECT_NE(text_of(mails[0], "text").find("Hello Test,"), std::string::npos)
      << text_of(mails[0], "text");
  EXPECT_NE(text_of(mails[0], "text").find(address), std::string::npos);
  const auto& from = mails[0].at("from").as_array().at(0).as_object();
  EXPECT_EQ(text_of(from, "address"), "shop@emporium.local");
  EXPECT_EQ(text_of(from, "name"), "Emporium");
  EXPECT_NE(text_of(mails[0].at("headers").as_object(), "message-id").find("@emporium.local>"),
            std::string::npos);
  EXPECT_EQ(metric(shop_->port(), R"(emporium_emails_sent_total{kind="welcome"})"), 1);
}

// mode=production: registering a new and a registered address gets the
// same answer (status, headers but the request id and date, body), and
// neither leaks a token or an id; the owner of the registered address is
// emailed, the account is unchanged, and the requester's name is in no email.
TEST(NotificationProduction, RegistrationAnswersAlikeAndTellsTheOwner) {
  AllInOneShop shop(Storage{},
                    {"--smtp-url=" + env("EMPORIUM_TEST_SMTP_URL"), "--mode=production"});
  const Maildev maildev;
  const auto owner = unique_address("owner");
  const auto fresh = unique_address("fresh");
  const auto registers = [&](const std::string& email, const std::string& password,
                             const std::string& name) {
    return shop.call(
        "POST", "/api/users/register",
        json::serialize(json::object{{"email", email}, {"password", password}, {"name", name}}));
  };
  const auto signs_in = [&](const std::string& email, const std::string& password) {
    return shop
        .call("POST", "/api/users/login",
              json::serialize(json::object{{"email", email}, {"password", password}}))
        .status;
  };
  auto first = registers(owner, "owner-password-1", "Olive");
  ASSERT_EQ(first.status, 202) << first.raw;
  ASSERT_EQ(maildev.wait(owner, 1).size(), 1u);

  auto taken = registers(owner, "intruder-password", "Mallory <mallory@evil.test>");
  auto brand_new = registers(fresh, "fresh-password-1", "Fred");
  EXPECT_EQ(taken.status, 202) << taken.raw;
  EXPECT_EQ(brand_new.status, 202) << brand_new.raw;
  EXPECT_EQ(taken.raw, brand_new.raw);
  EXPECT_EQ(taken.obj(), (json::object{{"message",
                                        "Thank you. We have sent a message to this "
                                        "address: check your inbox."}}));
  // Header names, and the values of those that describe the body.
  const auto shape = [](const Reply& r) {
    std::vector<std::string> names;
    for (const auto& [name, value] : r.headers.fields()) {
      const bool of_body = name == "Content-Type" || name == "Content-Length";
      names.push_back(name + (of_body ? ": " + value : ""));
    }
    return names;
  };
  EXPECT_EQ(shape(taken), shape(brand_new));
  EXPECT_FALSE(taken.headers.get("Set-Cookie"));
  EXPECT_FALSE(taken.headers.get("Location"));

  EXPECT_EQ(signs_in(owner, "owner-password-1"), 200) << "the owner's password is unchanged";
  EXPECT_EQ(signs_in(owner, "intruder-password"), 401);
  EXPECT_EQ(signs_in(fresh, "fresh-password-1"), 200) << "the new account works";

  const auto mails = maildev.wait(owner, 2);
  ASSERT_EQ(mails.size(), 2u);
  const auto attempts = with_subject(mails, "Someone tried to register with your address");
  ASSERT_EQ(attempts.size(), 1u);
  const auto text = text_of(attempts[0], "text");
  EXPECT_NE(text.find("Hello Olive,"), std::string::npos) << text;
  EXPECT_NE(text.find(owner + ", which\nalready has one"), std::string::npos) << text;
  EXPECT_EQ(text.find("Mallory"), std::string::npos) << text;
  EXPECT_EQ(with_subject(maildev.wait(fresh, 1), "Welcome to Emporium").size(), 1u);
  EXPECT_EQ(metric(shop.port(), R"(emporium_emails_sent_total{kind="registration_attempt"})"), 1);
}

// Development mode keeps telling a registered address apart: 409.
TEST(NotificationProduction, DevelopmentModeStillAnswers409) {
  AllInOneShop shop(Storage{}, {"--smtp-url=" + env("EMPORIUM_TEST_SMTP_URL")});
  const auto address = unique_address("dev");
  shop.register_and_login(address);
  auto again = shop.call(
      "POST", "/api/users/register",
      json::serialize(json::object{{"email", address}, {"password", "another-password"}}));
  EXPECT_EQ(again.status, 409) << again.raw;
  EXPECT_EQ(again.error(), "Email already registered");
  wait_handled(shop.port(), 1);
  EXPECT_EQ(metric(shop.port(), R"(emporium_emails_sent_total{kind="registration_attempt"})"), 0);
}

TEST_F(NotificationTest, AnOrderSendsOneConfirmationWithItemsAndTotal) {
  const auto address = unique_address("ann");
  auto [ann, order] = buy_lamps(address);
  ASSERT_EQ(order.status, 201);
  const auto order_id = order_id_of(order);
  maildev_.wait(address, 2);
  wait_handled(shop_->port(), 2);

  const auto mails = maildev_.to(address);
  EXPECT_EQ(mails.size(), 2u);
  const auto confirmations = with_subject(mails, "is confirmed");
  ASSERT_EQ(confirmations.size(), 1u);
  const auto& mail = confirmations[0];
  EXPECT_EQ(text_of(mail, "subject"),
            "Your Emporium order " + order_id.substr(0, 8) + " is confirmed");
  const auto text = text_of(mail, "text");
  EXPECT_NE(text.find("2 \u00d7 Journey Lamp @ 24.99 = 49.98"), std::string::npos) << text;
  EXPECT_NE(text.find("Total: 49.98 USD"), std::string::npos) << text;
  EXPECT_NE(text.find(order_id), std::string::npos) << text;
  EXPECT_NE(text.find("Hello Test,"), std::string::npos) << text;
}

TEST_F(NotificationTest, EachStatusChangeAndACancellationSendOneEmail) {
  const auto address = unique_address("ann");
  auto [ann, shipped] = buy_lamps(address);
  const auto admin = shop_->admin_token();
  const std::string path = "/api/orders/" + order_id_of(shipped);
  ASSERT_EQ(shop_->call("PUT", path + "/status", R"({"status":"processing"})", admin).status, 200);
  ASSERT_EQ(shop_->call("PUT", path + "/status", R"({"status":"shipped"})", admin).status, 200);

  const auto bulb = shop_->create_product("Spare Bulb", 3.5, 10);
  const auto added = shop_->add_to_cart(ann, bulb, 1).status;
  ASSERT_TRUE(added == 200 || added == 201) << added;
  auto cancelled = shop_->place_order(ann);
  ASSERT_EQ(cancelled.status, 201);
  ASSERT_EQ(shop_->call("DELETE", "/api/orders/" + order_id_of(cancelled), {}, ann.token).status,
            200);

  // welcome, 2 × placed, 2 status changes, 1 cancellation
  maildev_.wait(address, 6);
  wait_handled(shop_->port(), 6);
  const auto mails = maildev_.to(address);
  EXPECT_EQ(mails.size(), 6u);
  const auto ref = order_id_of(shipped).substr(0, 8);
  const auto processing = with_subject(mails, "order " + ref + " is now processing");
  ASSERT_EQ(processing.size(), 1u);
  EXPECT_NE(text_of(processing[0], "text").find("from pending to processing"), std::string::npos)
      << text_of(processing[0], "text");
  EXPECT_EQ(with_subject(mails, "order " + ref + " is now shipped").size(), 1u);
  const auto cancel_ref = order_id_of(cancelled).substr(0, 8);
  EXPECT_EQ(with_subject(mails, "order " + cancel_ref + " has been cancelled").size(), 1u);
  EXPECT_EQ(with_subject(mails, "is now cancelled").size(), 0u);
  EXPECT_EQ(with_subject(mails, "is confirmed").size(), 2u);
}

// The order service's relay publishes an event again (as after a crash
// between publishing and marking it sent): the consumer gets it twice, the
// customer one email.
TEST_F(NotificationTest, AnEventDeliveredTwiceSendsOneEmail) {
  const auto address = unique_address("ann");
  auto [ann, order] = buy_lamps(address);
  ASSERT_EQ(order.status, 201);
  maildev_.wait(address, 2);
  wait_handled(shop_->port(), 2);
  {
    auto db = db::open_sqlite({.path = shop_->data_dir() + "/order.db", .pool_size = 1});
    auto c = db->acquire();
    ASSERT_EQ(c->exec("UPDATE outbox SET sent_at = NULL, claimed_by = NULL, claimed_until = NULL "
                      "WHERE type = 'order.placed'")
                  .affected,
              1);
  }
  EXPECT_TRUE(eventually([&] {
    return metric(shop_->port(), R"(emporium_emails_duplicates_total{kind="order_placed"})") == 1;
  }));
  wait_handled(shop_->port(), 3);
  EXPECT_EQ(metric(shop_->port(),
                   R"(emporium_outbox_published_total{outbox="order",type="order.placed"})"),
            2);
  const auto mails = maildev_.to(address);
  EXPECT_EQ(with_subject(mails, "is confirmed").size(), 1u);
  EXPECT_EQ(mails.size(), 2u);
}

// The mail server is down: nothing is sent, the delivery is retried with
// backoff; when the server is back, the email goes out once and nothing is
// dead-lettered.
TEST(Notification, MailServerDownIsRetriedAndTheEmailSentOnceItIsBack) {
  Maildev maildev;
  TcpProxy smtp(port_of(env("EMPORIUM_TEST_SMTP_URL")));
  AllInOneShop shop(Storage{}, {"--smtp-url=smtp://127.0.0.1:" + std::to_string(smtp.port())});
  const auto address = unique_address("ann");
  shop.register_and_login(address);

  const std::string failed = R"(emporium_emails_failed_total{kind="welcome"})";
  ASSERT_TRUE(eventually([&] { return metric(shop.port(), failed) >= 2; }, 10s))
      << "failed sends: " << metric(shop.port(), failed);
  EXPECT_GE(metric(shop.port(), R"(emporium_bus_failed_total{queue="notification"})"), 2);
  EXPECT_TRUE(maildev.to(address).empty());
  EXPECT_EQ(metric(shop.port(), kHandled), 0);

  smtp.open();
  ASSERT_EQ(maildev.wait(address, 1).size(), 1u);
  wait_handled(shop.port(), 1);
  const auto mails = maildev.to(address);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(text_of(mails[0], "subject"), "Welcome to Emporium");
  EXPECT_EQ(metric(shop.port(), R"(emporium_emails_sent_total{kind="welcome"})"), 1);
  EXPECT_EQ(metric(shop.port(), R"(emporium_bus_dead_lettered_total{queue="notification"})"), 0);
}

// Without smtp_url (development) every email is written to the log instead,
// and start-up says so.
TEST(Notification, WithoutAnSmtpUrlEmailsAreLoggedNotSent) {
  AllInOneShop shop;
  EXPECT_NE(shop.process().output().find("smtp_url is empty: emails are written to the log"),
            std::string::npos);
  const auto address = unique_address("ann");
  shop.register_and_login(address);
  const auto line = shop.process().wait_for_line("email logged, not sent", 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("Welcome to Emporium"), std::string::npos) << *line;
  EXPECT_NE(line->find(address), std::string::npos) << *line;
  wait_handled(shop.port(), 1);
  EXPECT_EQ(metric(shop.port(), R"(emporium_emails_sent_total{kind="welcome"})"), 1);
}

// The SMTP client on its own: headers, a non-ASCII subject and body, and
// lines that SMTP would take for the end of the message arrive intact.
TEST(SmtpSender, DeliversToARealServerIntact) {
  Maildev maildev;
  mail::SmtpSender sender(env("EMPORIUM_TEST_SMTP_URL"), 5s);
  const auto address = unique_address("zoe");
  const auto id = core::new_id();
  const std::string body =
      "first\n.\n..two dots\n.hidden\nGr\u00fc\u00dfe \u2014 \u00bd price\nlast";
  sender.send(
      {"Emporium <shop@emporium.local>", "Zo\u00eb <" + address + ">",
       "Gr\u00fc\u00dfe \u2014 \u00bd price on every Journey Lamp until Sunday, for everyone", body,
       id});
  const auto mails = maildev.wait(address, 1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(text_of(mails[0], "subject"),
            "Gr\u00fc\u00dfe \u2014 \u00bd price on every Journey Lamp until Sunday, for everyone");
  EXPECT_EQ(text_of(mails[0], "text"), body + "\n");
  EXPECT_EQ(text_of(mails[0].at("headers").as_object(), "message-id"),
            "<" + id + "@emporium.local>");
  EXPECT_EQ(text_of(mails[0].at("to").as_array().at(0).as_object(), "name"), "Zo\u00eb");
}

// The user service tells other services who a user is, only with a service
// credential.
TEST(Notification, UserServiceAnswersWhoAUserIsToServicesOnly) {
  SplitShop shop;
  const auto address = unique_address("ann");
  const auto ann = shop.register_and_login(address);
  const auto user_port = shop.service_port("user");
  auth::Tokens tokens(auth::TokenSettings{.secret = kTestSecret});
  const auto service = "Authorization: Bearer " + tokens.issue_service("notification");

  auto anonymous = request("GET", user_port, "/internal/users/" + ann.id);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto as_customer = request("GET", user_port, "/internal/users/" + ann.id, {},
                             {"Authorization: Bearer " + ann.token});
  ASSERT_TRUE(as_customer);
  EXPECT_EQ(as_customer->status, 401);

  auto found = request("GET", user_port, "/internal/users/" + ann.id, {}, {service});
  ASSERT_TRUE(found);
  ASSERT_EQ(found->status, 200) << found->body;
  const auto body = json::parse(found->body).as_object();
  EXPECT_EQ(text_of(body, "id"), ann.id);
  EXPECT_EQ(text_of(body, "email"), address);
  EXPECT_EQ(text_of(body, "name"), "Test");
  EXPECT_FALSE(body.contains("role"));

  auto unknown = request("GET", user_port, "/internal/users/" + core::new_id(), {}, {service});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  // Never routed by the gateway.
  EXPECT_EQ(shop.call("GET", "/internal/users/" + ann.id, {}, {}, {service}).status, 404);
}

// The split shape: the notification service in a process of its own gets the
// user and order services' events over RabbitMQ.
TEST(Notification, SplitShapeOverRabbitMqSendsOneEmailPerEvent) {
  Maildev maildev;
  const auto amqp = env("EMPORIUM_TEST_AMQP_URL");
  SplitShop shop(nullptr, Storage{},
                 {"--amqp-url=" + amqp, "--smtp-url=" + env("EMPORIUM_TEST_SMTP_URL")});
  ASSERT_TRUE(eventually(
      [&] { return readiness_status(shop.service_port("notification")) == "ready"; }, 30s))
      << shop.process("notification").output();
  const auto address = unique_address("ann");
  auto ann = shop.register_and_login(address);
  const auto lamp = shop.create_product("Journey Lamp", 24.99, 10);
  ASSERT_EQ(shop.add_to_cart(ann, lamp, 2).status, 201);
  ASSERT_EQ(shop.place_order(ann).status, 201);

  maildev.wait(address, 2);
  wait_handled(shop.service_port("notification"), 2);
  const auto mails = maildev.to(address);
  EXPECT_EQ(mails.size(), 2u);
  EXPECT_EQ(with_subject(mails, "Welcome to Emporium").size(), 1u);
  const auto confirmations = with_subject(mails, "is confirmed");
  ASSERT_EQ(confirmations.size(), 1u);
  EXPECT_NE(text_of(confirmations[0], "text").find("2 \u00d7 Journey Lamp @ 24.99 = 49.98"),
            std::string::npos);
}

}  // namespace
}  // namespace emporium::test
