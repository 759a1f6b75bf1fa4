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
#include "shop.hpp"

namespace emporium::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const char* const kMissingEnv =
    " is not set. Start the test servers first:\n"
    "  eval \"$(scripts/local-services.sh start /tmp/emporium-services)\"\n"
    "(the test command does this; these tests never skip)";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) + kMissingEnv);
  }
  return v;
}

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// An address no other test uses.
std::string unique_address(const std::string& who) {
  return who + "." + core::new_id().substr(0, 12) + "@example.com";
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

std::string text_of(const json::object& mail, std::string_view key) {
  const auto* v = mail.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// maildev's REST API.
class Maildev {
 public:
  Maildev() : port_(port_of(env("EMPORIUM_TEST_MAILDEV_URL"))) {}

  // Every email maildev holds for `address`, oldest first.
  std::vector<json::object> to(const std::string& address) const {
    auto res = request("GET", port_, "/api/email");
    if (!res || res->status != 200) {
      throw std::runtime_error("maildev did not answer GET /api/email");
    }
    std::vector<json::object> out;
    const auto all = json::parse(res->body);
    for (const auto& m : all.as_array()) {
      const auto& o = m.as_object();
      const auto* to = o.if_contains("to");
      if (to == nullptr || !to->is_array()) {
        continue;
      }
      for (const auto& r : to->get_array()) {
        if (r.is_object() && text_of(r.get_object(), "address") == address) {
          out.push_back(o);
          break;
        }
      }
    }
    return out;
  }

  // Waits until `address` has at least `n` emails; returns them all.
  std::vector<json::object> wait(const std::string& address, std::size_t n,
                                 std::chrono::milliseconds limit = 20s) const {
    std::vector<json::object> mails;
    eventually([&] { return (mails = to(address)).size() >= n; }, limit);
    return mails;
  }

 private:
  std::uint16_t port_;
};

// The emails among `mails` whose subject contains `part`.
std::vector<json::object> with_subject(const std::vector<json::object>& mails,
                                       const std::string& part) {
  std::vector<json::object> out;
  for (const auto& m : mails) {
    if (text_of(m, "subject").find(part) != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

// A series of the process's /metrics on `port` (e.g.
// emporium_emails_sent_total{kind="welcome"}); 0 when absent.
double metric(std::uint16_t port, const std::string& series) {
  auto res = request("GET", port, "/metrics");
  if (!res) {
    return 0;
  }
  const auto at = res->body.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(res->body.substr(at + series.size() + 2));
}

const std::string kHandled = R"(emporium_bus_consumed_total{queue="notification"})";

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

// A TCP port on 127.0.0.1 that refuses connections until open(); from then on
// it forwards each connection to `target`. Stands for a mail server that is
// down and comes back.
class SwitchableProxy {
 public:
  explicit SwitchableProxy(std::uint16_t target) : target_(target) {
    // Take a free port and let it go: until open(), connecting is refused.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot reserve a port");
    }
    port_ = ntohs(a.sin_port);
    ::close(fd);
  }
  ~SwitchableProxy() {
    stop_ = true;
    if (acceptor_.joinable()) {
      acceptor_.join();
    }
    for (auto& t : pipes_) {
      t.join();
    }
    if (listener_ >= 0) {
      ::close(listener_);
    }
  }
  SwitchableProxy(const SwitchableProxy&) = delete;
  SwitchableProxy& operator=(const SwitchableProxy&) = delete;

  std::uint16_t port() const { return port_; }

  void open() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(port_);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 16) != 0) {
      throw std::runtime_error("cannot listen on the reserved port");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }

  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) {
        continue;
      }
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loopback(target_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      pipes_.emplace_back([this, client, server] { pipe(client, server); });
    }
  }

  void pipe(int a, int b) {
    char buf[16384];
    bool open = true;
    while (open && !stop_) {
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) {
        continue;
      }
      for (int i = 0; i < 2 && open; ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
          continue;
        }
        const auto n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {
          open = false;
          break;
        }
        const int to = i == 0 ? b : a;
        for (ssize_t done = 0; done < n;) {
          const auto w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
          if (w <= 0) {
            open = false;
            break;
          }
          done += w;
        }
      }
    }
    ::close(a);
    ::close(b);
  }

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // touched by the acceptor only, until it is joined
};

// The mail server is down: nothing is sent, the delivery is retried with
// backoff; when the server is back, the email goes out once and nothing is
// dead-lettered.
TEST(Notification, MailServerDownIsRetriedAndTheEmailSentOnceItIsBack) {
  Maildev maildev;
  SwitchableProxy smtp(port_of(env("EMPORIUM_TEST_SMTP_URL")));
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
  ASSERT_TRUE(shop.process("notification").wait_for_line("RabbitMQ consumer subscribed", 20s))
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
