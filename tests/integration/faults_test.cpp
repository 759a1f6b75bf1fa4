// Faults of the data plane, with real servers on loopback: the shop keeps its
// promises when PostgreSQL goes away under load and comes back, when RabbitMQ
// is down while orders are placed, and when the order service dies between
// committing an order and publishing (or confirming) its event.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/ids.hpp"
#include "mailbox.hpp"
#include "proxy.hpp"
#include "shop.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST(Faults, PostgresRestartUnderLoadFailsFastRecoversAndLosesNoOrder) {
  auto pg = PrivateServer::postgres();
  AllInOneShop shop(Storage::postgres_on(pg->url()));
  const auto id = shop.create_product("Resilient", 3, 1'000'000);
  std::vector<Customer> buyers;
  for (int i = 0; i < 4; ++i) {
    buyers.push_back(shop.register_and_login("faulty" + std::to_string(i) + "@example.com"));
  }

  std::mutex mutex;
  std::vector<std::string> accepted;       // ids of orders answered 201
  std::map<int, int> statuses;             // status -> count
  std::vector<std::string> slow_failures;  // failures that took too long
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& b : buyers) {
    threads.emplace_back([&, b] {
      while (!stop.load()) {
        const auto start = clock_type::now();
        Reply r;
        try {
          r = shop.add_to_cart(b, id, 1);
          if (r.status == 201 || r.status == 200) {
            r = shop.place_order(b);
          }
        } catch (const std::exception&) {
          r.status = 0;  // no answer at all
        }
        const auto took = clock_type::now() - start;
        std::lock_guard lock(mutex);
        ++statuses[r.status];
        if (r.status == 201) {
          accepted.emplace_back(r.obj().at("id").as_string());
        } else if (r.status >= 500 && took > 3s) {
          slow_failures.push_back(
              std::to_string(r.status) + " after " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
              " ms");
        }
        if (r.status == 503) {
          EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  pg->run("stop");
  std::this_thread::sleep_for(2500ms);
  pg->run("start");
  // The shop recovers by itself: the same process serves orders again.
  bool recovered = false;
  const auto deadline = clock_type::now() + 20s;
  while (!recovered && clock_type::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    const auto r = shop.call("GET", "/api/products/" + id);
    recovered = r.status == 200;
  }
  std::this_thread::sleep_for(1s);
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_TRUE(recovered) << "the shop did not recover after PostgreSQL came back";
  EXPECT_TRUE(slow_failures.empty())
      << slow_failures.size()
      << " slow failures, first: " << (slow_failures.empty() ? "" : slow_failures.front());
  EXPECT_EQ(statuses[500], 0) << "500s during the outage";
  EXPECT_EQ(statuses[0], 0) << "requests left without an answer";
  EXPECT_GT(statuses[503] + statuses[504], 0) << "the outage was not observed";
  EXPECT_GT(accepted.size(), 0U);
  // No accepted order is lost, and each took its stock.
  for (const auto& order_id : accepted) {
    auto r = shop.call("GET", "/api/orders/" + order_id, {}, shop.admin_token());
    EXPECT_EQ(r.status, 200) << order_id;
  }
  std::int64_t sold = 0;
  auto all = shop.call("GET", "/api/orders?limit=100", {}, shop.admin_token());
  const auto total = std::stoll(std::string(all.headers.get("X-Total-Count").value_or("-1")));
  // A request cut off after its commit is answered 503 but its order stands
  // (a client retrying with its Idempotency-Key gets it back), so there may be
  // more stored orders than 201 answers, never fewer.
  EXPECT_GE(total, static_cast<std::int64_t>(accepted.size()));
  for (int page = 1; page <= (total + 99) / 100; ++page) {
    auto list = shop.call("GET", "/api/orders?limit=100&page=" + std::to_string(page), {},
                          shop.admin_token());
    for (const auto& o : list.arr()) {
      if (o.as_object().at("status").as_string() != "cancelled") {
        sold += o.as_object().at("items").as_array()[0].as_object().at("quantity").as_int64();
      }
    }
  }
  // Reservations whose order was not stored come back within the grace period;
  // stock never goes below what the stored orders took.
  EXPECT_LE(shop.stock_of(id), 1'000'000 - sold);
  std::string report;
  for (const auto& [status, count] : statuses) {
    report += std::to_string(status) + ":" + std::to_string(count) + " ";
  }
  std::printf("statuses during the run: %s\n", report.c_str());
}

const std::string kOrderBacklog = R"(emporium_outbox_backlog{outbox="order"})";
const std::string kOrderPlacedDuplicates =
    R"(emporium_emails_duplicates_total{kind="order_placed"})";

// The notification service is subscribed and its broker link works (its
// /readyz says "ready": the amqp check covers both).
bool subscribed(SplitShop& shop) {
  return eventually([&] { return readiness_status(shop.service_port("notification")) == "ready"; },
                    30s);
}

std::size_t confirmations(const Maildev& maildev, const std::string& address) {
  return with_subject(maildev.to(address), "is confirmed").size();
}

// A registered customer with 2 lamps (stock 10) in the cart whose welcome
// email has arrived: the events pipeline works end to end.
struct Buyer {
  Customer customer;
  std::string lamp;
  std::string address;
};

Buyer ready_buyer(Shop& shop, const Maildev& maildev) {
  Buyer b;
  b.address = unique_address("ann");
  b.customer = shop.register_and_login(b.address);
  b.lamp = shop.create_product("Journey Lamp", 24.99, 10);
  EXPECT_EQ(shop.add_to_cart(b.customer, b.lamp, 2).status, 201);
  EXPECT_EQ(with_subject(maildev.wait(b.address, 1), "Welcome").size(), 1u)
      << "the welcome email did not arrive: the events pipeline is not working";
  return b;
}

// RabbitMQ stopped: an order is still accepted (its event waits in the
// outbox), readiness says "degraded" but keeps the service in rotation; once
// the broker is back the confirmation email arrives, exactly once.
TEST(Faults, RabbitMqDownAnOrderIsAcceptedAndItsEmailArrivesOnceItIsBack) {
  auto rabbit = PrivateServer::rabbitmq();
  Maildev maildev;
  SplitShop shop(
      nullptr, Storage{},
      {"--amqp-url=" + rabbit->url(), "--smtp-url=" + required_env("EMPORIUM_TEST_SMTP_URL")});
  ASSERT_TRUE(subscribed(shop));
  const auto b = ready_buyer(shop, maildev);
  const auto order_port = shop.service_port("order");
  EXPECT_EQ(readiness_status(order_port), "ready");

  rabbit->run("stop");
  EXPECT_TRUE(eventually([&] { return readiness_status(order_port) == "degraded"; }, 10s))
      << readiness_status(order_port);
  const auto degraded = request("GET", order_port, "/readyz");
  ASSERT_TRUE(degraded);
  EXPECT_EQ(degraded->status, 200);
  EXPECT_TRUE(eventually(
      [&] { return readiness_status(shop.service_port("notification")) == "degraded"; }, 10s));

  auto order = shop.place_order(b.customer);
  ASSERT_EQ(order.status, 201) << order.raw;
  EXPECT_EQ(shop.stock_of(b.lamp), 8);
  EXPECT_EQ(shop.call("GET", "/api/cart/" + b.customer.id, {}, b.customer.token)
                .obj()
                .at("items")
                .as_array()
                .size(),
            0u);
  // The event waits, unsent, in the order service's outbox.
  EXPECT_TRUE(eventually([&] { return metric(order_port, kOrderBacklog) == 1; }, 10s))
      << metric(order_port, kOrderBacklog);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(confirmations(maildev, b.address), 0u);

  rabbit->run("start");
  EXPECT_EQ(with_subject(maildev.wait(b.address, 2, 90s), "is confirmed").size(), 1u);
  EXPECT_TRUE(eventually([&] { return metric(order_port, kOrderBacklog) == 0; }, 30s));
  EXPECT_TRUE(eventually([&] { return readiness_status(order_port) == "ready"; }, 30s))
      << readiness_status(order_port);
  // Nothing more comes: one email for one order.
  std::this_thread::sleep_for(2s);
  const auto mails = maildev.to(b.address);
  EXPECT_EQ(mails.size(), 2u);
  const auto confirmed = with_subject(mails, "is confirmed");
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_NE(text_of(confirmed[0], "subject")
                .find(std::string(order.obj().at("id").as_string()).substr(0, 8)),
            std::string::npos);
  EXPECT_EQ(metric(shop.service_port("notification"), kOrderPlacedDuplicates), 0);
}

// A split shop on `rabbit` whose order service reaches the broker only
// through `proxy`; emails go to the test SMTP server.
std::unique_ptr<SplitShop> shop_with_order_through(const PrivateServer& rabbit,
                                                   const TcpProxy& proxy) {
  const std::string direct = "--amqp-url=" + rabbit.url();
  return std::make_unique<SplitShop>(
      nullptr, Storage{},
      std::vector<std::string>{"--smtp-url=" + required_env("EMPORIUM_TEST_SMTP_URL")},
      SplitShop::ServiceArgs{
          {"product", {direct}},
          {"user", {direct}},
          {"notification", {direct}},
          {"order", {"--amqp-url=amqp://guest:guest@127.0.0.1:" + std::to_string(proxy.port())}}});
}

// The order service is killed (SIGKILL) right after committing an order,
// before its event reached the broker (the way there stalls): after a restart
// the event is published from the outbox and exactly one email arrives.
TEST(Faults, OrderServiceKilledAfterCommitPublishesOnRestartAndOneEmailArrives) {
  auto rabbit = PrivateServer::rabbitmq();
  TcpProxy stalled(rabbit->port());
  stalled.set_mode(TcpProxy::Mode::hold);
  stalled.open();
  const std::string direct = "--amqp-url=" + rabbit->url();
  Maildev maildev;
  auto made = shop_with_order_through(*rabbit, stalled);
  auto& shop = *made;
  ASSERT_TRUE(subscribed(shop));
  const auto b = ready_buyer(shop, maildev);

  auto order = shop.place_order(b.customer);
  ASSERT_EQ(order.status, 201) << order.raw;
  shop.kill("order");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(confirmations(maildev, b.address), 0u);

  shop.restart("order", std::vector<std::string>{direct});
  EXPECT_EQ(with_subject(maildev.wait(b.address, 2, 60s), "is confirmed").size(), 1u);
  EXPECT_TRUE(
      eventually([&] { return metric(shop.service_port("order"), kOrderBacklog) == 0; }, 30s));
  // The order itself survived the kill, and nothing more comes.
  const std::string id(order.obj().at("id").as_string());
  EXPECT_EQ(shop.call("GET", "/api/orders/" + id, {}, b.customer.token).status, 200);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(maildev.to(b.address).size(), 2u);
  EXPECT_EQ(confirmations(maildev, b.address), 1u);
}

// Killed after the broker took the event but before the confirmation reached
// the order service (so the row is still unsent): after a restart the event
// is published again; the notification service sees it twice and sends one
// email.
TEST(Faults, OrderServiceKilledBeforeThePublishWasConfirmedSendsOneEmail) {
  auto rabbit = PrivateServer::rabbitmq();
  TcpProxy link(rabbit->port());
  link.open();
  const std::string direct = "--amqp-url=" + rabbit->url();
  Maildev maildev;
  auto made = shop_with_order_through(*rabbit, link);
  auto& shop = *made;
  ASSERT_TRUE(subscribed(shop));
  const auto b = ready_buyer(shop, maildev);
  // A first order over the working link: the order service's publisher is
  // connected when the link starts dropping the broker's replies.
  ASSERT_EQ(shop.place_order(b.customer).status, 201);
  ASSERT_EQ(with_subject(maildev.wait(b.address, 2), "is confirmed").size(), 1u);
  const auto order_port = shop.service_port("order");
  ASSERT_TRUE(eventually(
      [&] {
        return metric(order_port,
                      R"(emporium_outbox_published_total{outbox="order",type="order.placed"})") ==
               1;
      },
      10s));

  link.set_mode(TcpProxy::Mode::drop_replies);
  const auto added = shop.add_to_cart(b.customer, b.lamp, 1).status;
  ASSERT_TRUE(added == 200 || added == 201) << added;
  auto second = shop.place_order(b.customer);
  ASSERT_EQ(second.status, 201) << second.raw;
  // The broker delivered it (the email is there), the confirmation is lost.
  ASSERT_EQ(with_subject(maildev.wait(b.address, 3, 10s), "is confirmed").size(), 2u);
  // Not confirmed, so not counted as published (nor marked sent).
  EXPECT_EQ(
      metric(order_port, R"(emporium_outbox_published_total{outbox="order",type="order.placed"})"),
      1);
  shop.kill("order");

  shop.restart("order", std::vector<std::string>{direct});
  const auto notification_port = shop.service_port("notification");
  EXPECT_TRUE(
      eventually([&] { return metric(notification_port, kOrderPlacedDuplicates) == 1; }, 60s))
      << "duplicates seen: " << metric(notification_port, kOrderPlacedDuplicates);
  EXPECT_TRUE(
      eventually([&] { return metric(shop.service_port("order"), kOrderBacklog) == 0; }, 30s));
  std::this_thread::sleep_for(2s);
  const auto mails = maildev.to(b.address);
  EXPECT_EQ(mails.size(), 3u);
  EXPECT_EQ(with_subject(mails, "is confirmed").size(), 2u);
  const std::string ref = std::string(second.obj().at("id").as_string()).substr(0, 8);
  EXPECT_EQ(with_subject(mails, ref).size(), 1u);
}

// `emporium migrate` with amqp_url declares the notification queue and its
// bindings: an event published before the notification service ever
// connected (a first deployment, the service still starting) waits in the
// queue instead of being dropped as unroutable, and its email goes out once
// the service is up.
TEST(Faults, EventsBeforeTheNotificationServiceFirstRunsWaitInItsQueue) {
  auto rabbit = PrivateServer::rabbitmq();
  {
    Process migrate({"migrate", "--data-dir=" + temp_dir(), "--amqp-url=" + rabbit->url()});
    ASSERT_EQ(migrate.wait_exit(60s), 0) << migrate.output();
    EXPECT_NE(migrate.output().find("broker queue declared"), std::string::npos)
        << migrate.output();
  }
  TcpProxy not_yet(rabbit->port());  // refuses connections until open()
  const std::string direct = "--amqp-url=" + rabbit->url();
  Maildev maildev;
  SplitShop shop(nullptr, Storage{}, {"--smtp-url=" + required_env("EMPORIUM_TEST_SMTP_URL")},
                 {{"product", {direct}},
                  {"user", {direct}},
                  {"order", {direct}},
                  {"notification",
                   {"--amqp-url=amqp://guest:guest@127.0.0.1:" + std::to_string(not_yet.port())}}});
  const auto address = unique_address("early");
  shop.register_and_login(address);
  EXPECT_TRUE(eventually(
      [&] {
        return metric(shop.service_port("user"),
                      R"(emporium_outbox_published_total{outbox="user",type="user.registered"})") ==
               1;
      },
      10s));
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(maildev.to(address).empty());

  not_yet.open();
  ASSERT_TRUE(subscribed(shop));
  const auto mails = maildev.wait(address, 1, 30s);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(text_of(mails[0], "subject"), "Welcome to Emporium");
}

}  // namespace
}  // namespace emporium::test
