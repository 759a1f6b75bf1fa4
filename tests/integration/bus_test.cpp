// The event bus against a real RabbitMQ 3.10: outbox relay -> RabbitPublisher
// -> exchange -> RabbitConsumer, retries and the dead-letter queue, and a
// broker outage.
//
// Needs EMPORIUM_TEST_AMQP_URL and EMPORIUM_TEST_SERVICES_DIR (and, for the
// PostgreSQL outbox, EMPORIUM_TEST_DATABASE_URL), as printed by
//   eval "$(scripts/local-services.sh start DIR)"
// Without them the tests fail: the test command always starts the servers.
// Each test uses an exchange and queues of its own on the shared broker (and
// deletes them), so tests may run in parallel. The outage test runs a private
// broker of its own (under EMPORIUM_TEST_SERVICES_DIR, on other ports), so
// stopping it disturbs no other test.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "bus/amqp_connection.hpp"
#include "bus/consumer.hpp"
#include "bus/outbox.hpp"
#include "bus/publisher.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "db/db.hpp"
#include "db/migrate.hpp"
#include "support.hpp"

namespace emporium::bus {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const char* const kMissingEnv =
    " is not set. Start the test servers first:\n"
    "  eval \"$(scripts/local-services.sh start /tmp/emporium-services)\"\n"
    "(the test command does this; these tests never skip)";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string unique_name(const std::string& prefix) {
  return prefix + "." + std::to_string(::getpid()) + "." + core::new_id().substr(0, 12);
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

std::int64_t scalar(db::Database& db, const std::string& sql) {
  return db.acquire()->exec(sql).rows.at(0).integer(0);
}

std::unique_ptr<db::Database> sqlite_outbox(const std::string& name) {
  const std::filesystem::path dir = test::temp_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  auto db = db::open_sqlite({.path = (dir / "outbox.db").string()});
  db::migrate(*db, "test", {outbox_migration(1)});
  return db;
}

Event add(db::Database& db, std::string_view type, std::string payload = "{}") {
  auto e = make_event(type, std::move(payload));
  auto c = db.acquire();
  db::Transaction tx(*c);
  add_event(*c, e);
  tx.commit();
  return e;
}

// What a consumer's handler received.
struct Inbox {
  std::mutex mutex;
  std::vector<Event> events;

  Handler handler() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
      return true;
    };
  }
  std::vector<Event> all() {
    std::lock_guard lock(mutex);
    return events;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  std::set<std::string> ids() {
    std::set<std::string> out;
    for (const auto& e : all()) {
      out.insert(e.id);
    }
    return out;
  }
};

// A message fetched with basic.get.
struct Got {
  std::string body;
  std::string content_type;
  std::string message_id;
  std::string type;
  int delivery_mode = 0;
  std::int64_t attempts = -1;
  std::string last_error;
};

std::string header_text(const amqp_basic_properties_t& p, std::string_view key) {
  if ((p._flags & AMQP_BASIC_HEADERS_FLAG) == 0) {
    return "";
  }
  for (int i = 0; i < p.headers.num_entries; ++i) {
    const auto& e = p.headers.entries[i];
    if (std::string_view(static_cast<const char*>(e.key.bytes), e.key.len) == key &&
        (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES)) {
      return std::string(static_cast<const char*>(e.value.value.bytes.bytes),
                         e.value.value.bytes.len);
    }
  }
  return "";
}

// A plain AMQP client for looking at and cleaning up the broker.
class Admin {
 public:
  explicit Admin(const std::string& url)
      : conn_(detail::parse_amqp_url(url), 5s, 0, "emporium bus_test") {}

  detail::AmqpConnection& conn() { return conn_; }

  // Takes one message off `queue` (acked), or nullopt when it is empty.
  std::optional<Got> get(const std::string& queue) {
    const auto reply = amqp_basic_get(conn_.get(), 1, amqp_cstring_bytes(queue.c_str()), 1);
    conn_.check(reply, "basic.get");
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
      return std::nullopt;
    }
    amqp_message_t message{};
    conn_.check(amqp_read_message(conn_.get(), 1, &message, 0), "read message");
    const auto& p = message.properties;
    Got g;
    g.body.assign(static_cast<const char*>(message.body.bytes), message.body.len);
    g.content_type = detail::property(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
    g.message_id = detail::property(p, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
    g.type = detail::property(p, AMQP_BASIC_TYPE_FLAG, p.type);
    g.delivery_mode = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 ? p.delivery_mode : 0;
    g.attempts = detail::header_int(p, "x-attempts", -1);
    g.last_error = header_text(p, "x-last-error");
    amqp_destroy_message(&message);
    return g;
  }

  // Waits up to `limit` for a message on `queue`.
  std::optional<Got> wait_get(const std::string& queue, std::chrono::milliseconds limit = 10s) {
    const auto end = Clock::now() + limit;
    while (true) {
      if (auto g = get(queue)) {
        return g;
      }
      if (Clock::now() >= end) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  void delete_queue(const std::string& queue) {
    amqp_queue_delete(conn_.get(), 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
    conn_.check(amqp_get_rpc_reply(conn_.get()), "queue.delete");
  }

  void delete_exchange(const std::string& exchange) {
    amqp_exchange_delete(conn_.get(), 1, amqp_cstring_bytes(exchange.c_str()), 0);
    conn_.check(amqp_get_rpc_reply(conn_.get()), "exchange.delete");
  }

 private:
  detail::AmqpConnection conn_;
};

// An exchange and a queue of the test's own on the shared broker.
class Bus : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = env("EMPORIUM_TEST_AMQP_URL");
    ASSERT_FALSE(url_.empty()) << "EMPORIUM_TEST_AMQP_URL" << kMissingEnv;
    exchange_ = unique_name("emporium.test");
    queue_ = unique_name("bus_test");
    metrics_ = std::make_unique<Metrics>(registry_);
  }

  void TearDown() override {
    if (url_.empty()) {
      return;
    }
    try {
      Admin admin(url_);
      for (const auto& q : extra_queues_) {
        admin.delete_queue(q);
      }
      for (const auto* suffix : {"", ".retry", ".dead"}) {
        admin.delete_queue(queue_ + suffix);
      }
      admin.delete_exchange(exchange_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleaning up the broker: " << e.what();
    }
  }

  ConsumerOptions consumer_options(std::vector<std::string> bindings) {
    ConsumerOptions o;
    o.url = url_;
    o.queue = queue_;
    o.bindings = std::move(bindings);
    o.exchange = exchange_;
    o.timeout = 2s;
    return o;
  }

  RabbitOptions publisher_options() {
    return RabbitOptions{
        .url = url_, .exchange = exchange_, .timeout = 2s, .connection_name = "emporium bus_test"};
  }

  std::string url_;
  std::string exchange_;
  std::string queue_;
  std::vector<std::string> extra_queues_;
  obs::Registry registry_;
  std::unique_ptr<Metrics> metrics_;
};

TEST_F(Bus, RelayedEventsReachTheConsumerExactlyOnceAndPersistent) {
  Inbox inbox;
  RabbitConsumer consumer(consumer_options({"order.*", "user.registered"}), inbox.handler(),
                          *metrics_);
  ASSERT_TRUE(eventually([&] { return consumer.connected(); })) << "consumer never subscribed";

  // A probe queue bound to everything shows the messages as the broker has them.
  const auto probe = unique_name("bus_test.probe");
  extra_queues_.push_back(probe);
  {
    Admin admin(url_);
    admin.conn().declare_queue(probe);
    admin.conn().bind(probe, exchange_, "#");
  }

  auto db = sqlite_outbox(queue_);
  std::vector<Event> expected;
  expected.push_back(add(*db, types::order_placed,
                         R"({"order_id":"o1","user_id":"u1","total_cents":3998,"currency":"USD",)"
                         R"("items":[{"product_id":"p1","quantity":2,"price_cents":1999}]})"));
  expected.push_back(
      add(*db, types::user_registered, R"({"user_id":"u2","email":"b@example.com"})"));
  const auto unbound =
      add(*db, types::product_stock_low, R"({"product_id":"p1","stock":1,"threshold":5})");
  expected.push_back(add(*db, types::order_cancelled, R"({"order_id":"o1","user_id":"u1"})"));
  expected.push_back(add(*db, types::order_status_changed,
                         R"({"order_id":"o2","user_id":"u1","from":"pending","to":"processing"})"));

  RabbitPublisher publisher(publisher_options());
  OutboxRelay relay(*db, publisher, *metrics_, {.name = "bus_test", .interval = 50ms});
  ASSERT_TRUE(eventually([&] { return inbox.size() >= expected.size(); }))
      << "received " << inbox.size();
  std::this_thread::sleep_for(500ms);  // nothing more arrives

  const auto got = inbox.all();
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, expected[i].id);
    EXPECT_EQ(got[i].type, expected[i].type);
    EXPECT_EQ(got[i].time, expected[i].time);
    EXPECT_EQ(got[i].version, 1);
    EXPECT_EQ(boost::json::parse(got[i].payload), boost::json::parse(expected[i].payload));
  }
  EXPECT_EQ(inbox.ids().count(unbound.id), 0U);
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
  EXPECT_EQ(metrics_->consumed.with({queue_}).value(), 4);
  EXPECT_EQ(metrics_->outbox_published.with({"bus_test", "order.placed"}).value(), 1);
  EXPECT_EQ(metrics_->outbox_published.with({"bus_test", "product.stock_low"}).value(), 1);

  // Persistent JSON messages, id and type in the properties, envelope body.
  Admin admin(url_);
  std::vector<Got> messages;
  while (auto g = admin.get(probe)) {
    messages.push_back(*g);
  }
  ASSERT_EQ(messages.size(), 5U);
  EXPECT_EQ(messages[0].delivery_mode, 2);
  EXPECT_EQ(messages[0].content_type, "application/json");
  EXPECT_EQ(messages[0].message_id, expected[0].id);
  EXPECT_EQ(messages[0].type, "order.placed");
  const auto envelope = decode(messages[0].body);
  EXPECT_EQ(envelope.id, expected[0].id);
  EXPECT_EQ(messages[2].message_id, unbound.id);
}

TEST_F(Bus, AFailingHandlerIsRetriedThenDeadLettered) {
  std::mutex mutex;
  std::vector<Clock::time_point> doomed_calls;
  int flaky_calls = 0;
  Inbox handled;
  const auto doomed = make_event(types::order_placed, R"({"order_id":"doomed"})");
  const auto flaky = make_event(types::order_placed, R"({"order_id":"flaky"})");
  auto options = consumer_options({"order.*"});
  options.retry = RetryPolicy{.max_attempts = 3, .initial_backoff = 100ms, .max_backoff = 1s};
  RabbitConsumer consumer(
      options,
      [&](const Event& e) {
        std::lock_guard lock(mutex);
        if (e.id == doomed.id) {
          doomed_calls.push_back(Clock::now());
          return false;
        }
        if (e.id == flaky.id && ++flaky_calls == 1) {
          throw std::runtime_error("template cache cold");
        }
        handled.events.push_back(e);
        return true;
      },
      *metrics_);
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));

  RabbitPublisher publisher(publisher_options());
  publisher.publish(doomed);
  publisher.publish(flaky);
  {
    // Not an envelope at all: dead-lettered at once.
    Admin admin(url_);
    admin.conn().confirm_select();
    admin.conn().publish({.exchange = exchange_,
                          .routing_key = "order.placed",
                          .body = "not json",
                          .message_id = "garbage-1",
                          .type = "order.placed",
                          .content_type = "application/json",
                          .expiration = {},
                          .headers = {}},
                         Clock::now() + 5s);
  }

  Admin admin(url_);
  std::vector<Got> dead;
  for (int i = 0; i < 2; ++i) {
    auto g = admin.wait_get(queue_ + ".dead", 15s);
    ASSERT_TRUE(g.has_value()) << "dead letter " << i << " never arrived";
    dead.push_back(*g);
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(admin.get(queue_ + ".dead").has_value());  // nothing else

  std::map<std::string, Got> by_id;
  for (const auto& g : dead) {
    by_id[g.message_id] = g;
  }
  ASSERT_EQ(by_id.count(doomed.id), 1U);
  const auto& d = by_id[doomed.id];
  EXPECT_EQ(d.attempts, 3);
  EXPECT_NE(d.last_error.find("returned false"), std::string::npos) << d.last_error;
  EXPECT_EQ(d.delivery_mode, 2);
  EXPECT_EQ(decode(d.body).payload, R"({"order_id":"doomed"})");
  ASSERT_EQ(by_id.count("garbage-1"), 1U);
  EXPECT_EQ(by_id["garbage-1"].attempts, 1);
  EXPECT_EQ(by_id["garbage-1"].body, "not json");
  EXPECT_NE(by_id["garbage-1"].last_error.find("malformed"), std::string::npos);

  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(doomed_calls.size(), 3U);
    EXPECT_GE(doomed_calls[1] - doomed_calls[0], 100ms);
    EXPECT_GE(doomed_calls[2] - doomed_calls[1], 200ms);
    EXPECT_EQ(flaky_calls, 2);
  }
  ASSERT_TRUE(eventually([&] { return handled.size() == 1; }));
  EXPECT_EQ(handled.all()[0].id, flaky.id);
  EXPECT_EQ(metrics_->consumed.with({queue_}).value(), 1);
  EXPECT_EQ(metrics_->failed.with({queue_}).value(), 4);
  EXPECT_EQ(metrics_->dead_lettered.with({queue_}).value(), 2);
  // Nothing is left waiting for a retry.
  EXPECT_FALSE(admin.get(queue_ + ".retry").has_value());
  EXPECT_FALSE(admin.get(queue_).has_value());
}

TEST_F(Bus, TwoRelaysOnOnePostgresOutboxPublishEverything) {
  const auto base = env("EMPORIUM_TEST_DATABASE_URL");
  ASSERT_FALSE(base.empty()) << "EMPORIUM_TEST_DATABASE_URL" << kMissingEnv;
  // A database of the test's own.
  auto admin_db = db::open_postgres({.url = base, .pool_size = 1});
  std::string name = "emporium_bus_" + core::new_id().substr(0, 12);
  admin_db->acquire()->exec_script("CREATE DATABASE " + name);
  struct Drop {
    db::Database& admin;
    std::string name;
    ~Drop() {
      try {
        admin.acquire()->exec_script("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (...) {
      }
    }
  } drop{*admin_db, name};
  const auto slash = base.rfind('/');
  ASSERT_NE(slash, std::string::npos);
  auto db = db::open_postgres({.url = base.substr(0, slash + 1) + name, .pool_size = 4});
  db::migrate(*db, "test", {outbox_migration(1)});

  Inbox inbox;
  RabbitConsumer consumer(consumer_options({"#"}), inbox.handler(), *metrics_);
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }));

  std::set<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    expected.insert(add(*db, types::order_placed, R"({"n":)" + std::to_string(i) + "}").id);
  }
  RabbitPublisher pa(publisher_options());
  RabbitPublisher pb(publisher_options());
  {
    OutboxRelay a(*db, pa, *metrics_, {.name = "a", .interval = 20ms, .batch_size = 4});
    OutboxRelay b(*db, pb, *metrics_, {.name = "b", .interval = 20ms, .batch_size = 4});
    ASSERT_TRUE(eventually([&] { return inbox.ids().size() == expected.size(); }, 20s))
        << inbox.ids().size();
  }
  EXPECT_EQ(inbox.ids(), expected);
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
  // The claims kept the relays apart.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(inbox.size(), expected.size());
  EXPECT_GT(metrics_->outbox_published.with({"a", "order.placed"}).value(), 0);
  EXPECT_GT(metrics_->outbox_published.with({"b", "order.placed"}).value(), 0);
}

TEST_F(Bus, PublisherReportsAnUnreachableBrokerAsTransient) {
  std::uint16_t port = 0;
  {
    // A port nobody listens on.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  RabbitPublisher publisher({.url = "amqp://guest:S3cretPw@127.0.0.1:" + std::to_string(port),
                             .exchange = exchange_,
                             .timeout = 1s,
                             .connection_name = "emporium bus_test"});
  try {
    publisher.publish(make_event("order.placed", "{}"));
    ADD_FAILURE() << "published to a closed port";
  } catch (const core::Error& e) {
    EXPECT_TRUE(e.transient());
    EXPECT_EQ(std::string(e.what()).find("S3cretPw"), std::string::npos) << e.what();
  }
  // Bad credentials on the real broker: refused, also as core::Error.
  auto wrong = url_;
  wrong.replace(wrong.find("guest:guest"), 11, "guest:wrong");
  RabbitPublisher refused(
      {.url = wrong, .exchange = exchange_, .timeout = 2s, .connection_name = "emporium bus_test"});
  EXPECT_THROW(refused.publish(make_event("order.placed", "{}")), core::Error);
  EXPECT_THROW(
      RabbitPublisher(
          {.url = "http://x", .exchange = exchange_, .timeout = 1s, .connection_name = "x"}),
      std::invalid_argument);
}

// amqps:// (as Amazon MQ requires): events flow over TLS to a broker whose
// certificate chains to the configured CA; a broker the CA file does not
// vouch for is refused before anything is sent.
TEST_F(Bus, OverTlsEventsFlowAndAnUntrustedBrokerIsRefused) {
  const auto tls_url = env("EMPORIUM_TEST_AMQPS_URL");
  const auto ca_file = env("EMPORIUM_TEST_AMQP_CA_FILE");
  ASSERT_FALSE(tls_url.empty()) << "EMPORIUM_TEST_AMQPS_URL" << kMissingEnv;
  ASSERT_EQ(tls_url.rfind("amqps://", 0), 0U) << tls_url;

  Inbox inbox;
  auto options = consumer_options({"order.*"});
  options.url = tls_url;
  options.ca_file = ca_file;
  RabbitConsumer consumer(options, inbox.handler(), *metrics_);
  ASSERT_TRUE(eventually([&] { return consumer.connected(); })) << "consumer never subscribed";

  auto trusted = publisher_options();
  trusted.url = tls_url;
  trusted.ca_file = ca_file;
  RabbitPublisher publisher(trusted);
  const auto event = make_event(types::order_cancelled, R"({"order_id":"o1","user_id":"u1"})");
  publisher.publish(event);
  ASSERT_TRUE(eventually([&] { return inbox.size() == 1; })) << "received " << inbox.size();
  EXPECT_EQ(inbox.all().at(0).id, event.id);
  EXPECT_TRUE(publisher.probe(1s));

  // The system's CA bundle does not know the test CA: the handshake fails.
  auto untrusted = trusted;
  untrusted.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  RabbitPublisher refused(untrusted);
  // The readiness probe does the whole handshake until one has succeeded.
  EXPECT_FALSE(refused.probe(1s));
  EXPECT_THROW(
      refused.publish(make_event(types::order_cancelled, R"({"order_id":"o2","user_id":"u1"})")),
      core::Error);
  EXPECT_FALSE(refused.probe(1s));
  // No CA file, or one that cannot be read: refused at once, as configuration.
  auto no_ca = trusted;
  no_ca.ca_file.clear();
  EXPECT_THROW(RabbitPublisher{no_ca}, std::invalid_argument);
  auto missing_ca = trusted;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(RabbitPublisher{missing_ca}, std::invalid_argument);
  // Nor does plain AMQP work on the TLS port.
  auto plain = trusted;
  plain.url.replace(0, 5, "amqp");
  RabbitPublisher cleartext(plain);
  EXPECT_THROW(
      cleartext.publish(make_event(types::order_cancelled, R"({"order_id":"o3","user_id":"u1"})")),
      core::Error);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(inbox.size(), 1U);
}

// --- a private broker that the test stops and starts again ------------------

class BusOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = test::PrivateServer::rabbitmq();
    url_ = broker_->url();
    metrics_ = std::make_unique<Metrics>(registry_);
  }

  // Runs the script for this test's broker alone; returns its stdout.
  std::string services(const std::string& verb) { return broker_->run(verb); }

  std::unique_ptr<test::PrivateServer> broker_;
  std::string url_;
  obs::Registry registry_;
  std::unique_ptr<Metrics> metrics_;
};

TEST_F(BusOutage, OutboxKeepsEventsWhileTheBrokerIsDownAndEverythingFlowsAfter) {
  Inbox inbox;
  ConsumerOptions co;
  co.url = url_;
  co.queue = "outage.orders";
  co.bindings = {"order.*"};
  co.timeout = 1s;
  co.reconnect_min = 100ms;
  co.reconnect_max = 500ms;
  RabbitConsumer consumer(co, inbox.handler(), *metrics_);
  ASSERT_TRUE(eventually([&] { return consumer.connected(); }, 10s));

  auto db = sqlite_outbox("outage-" + core::new_id().substr(0, 8));
  RabbitPublisher publisher({.url = url_,
                             .exchange = std::string(kExchange),
                             .timeout = 2s,
                             .connection_name = "emporium bus_test"});
  OutboxRelay relay(
      *db, publisher, *metrics_,
      {.name = "outage", .interval = 50ms, .initial_backoff = 100ms, .max_backoff = 500ms});
  const auto first = add(*db, types::order_placed, R"({"order_id":"before"})");
  relay.notify();
  ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
  // A publisher that stays connected across the restart.
  RabbitPublisher keeper({.url = url_, .exchange = std::string(kExchange), .timeout = 2s});
  keeper.publish(make_event(types::user_registered, "{}"));

  // The broker goes away.
  services("stop");
  EXPECT_TRUE(eventually([&] { return !consumer.connected(); }, 5s))
      << "the consumer did not notice the broker stopping";
  {
    RabbitPublisher direct({.url = url_,
                            .exchange = std::string(kExchange),
                            .timeout = 1s,
                            .connection_name = "emporium bus_test"});
    const auto start = Clock::now();
    try {
      direct.publish(make_event(types::order_placed, "{}"));
      ADD_FAILURE() << "published to a stopped broker";
    } catch (const core::Error& e) {
      EXPECT_TRUE(e.transient()) << e.what();
    }
    EXPECT_LT(Clock::now() - start, 3s);
  }
  const auto second = add(*db, types::order_cancelled, R"({"order_id":"during"})");
  const auto third = add(*db, types::order_status_changed, R"({"order_id":"during2"})");
  relay.notify();
  ASSERT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE attempts > 0") >= 1; }, 10s))
      << "the relay never tried";
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 2);
  EXPECT_EQ(scalar(*db,
                   "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND"
                   " last_error IS NOT NULL AND last_error <> ''"),
            1);
  EXPECT_GE(metrics_->outbox_failed.with({"outage", "order.cancelled"}).value(), 1);
  EXPECT_TRUE(eventually([&] { return metrics_->outbox_backlog.with({"outage"}).value() == 2; }));
  EXPECT_EQ(inbox.size(), 1U);

  // Back: the relay publishes the kept rows, the consumer resubscribes.
  services("start");
  ASSERT_TRUE(eventually([&] { return inbox.ids().size() == 3; }, 30s))
      << "received " << inbox.size() << " events after the restart";
  EXPECT_TRUE(consumer.connected());
  EXPECT_EQ(inbox.ids(), (std::set<std::string>{first.id, second.id, third.id}));
  const auto got = inbox.all();
  EXPECT_EQ(got.back().id, third.id);
  // The relay marks a row sent just after the publisher has it: wait for that.
  EXPECT_TRUE(eventually(
      [&] { return scalar(*db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }));
  EXPECT_TRUE(eventually([&] { return metrics_->outbox_backlog.with({"outage"}).value() == 0; }));
  // Its dead connection is replaced within the same call.
  EXPECT_NO_THROW(keeper.publish(make_event(types::user_registered, "{}")));

  // The consumer stops promptly, connected or reconnecting.
  auto start = Clock::now();
  consumer.stop();
  EXPECT_LT(Clock::now() - start, 1500ms);
  RabbitConsumer lonely(
      {.url = "amqp://guest:guest@127.0.0.1:" + std::to_string(test::free_ports(1).at(0)),
       .queue = "outage.nobody",
       .bindings = {"#"}},
      inbox.handler(), *metrics_);
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(lonely.connected());
  start = Clock::now();
  lonely.stop();
  EXPECT_LT(Clock::now() - start, 1500ms);
}

}  // namespace
}  // namespace emporium::bus
