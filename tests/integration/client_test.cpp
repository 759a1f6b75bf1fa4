// The inter-service client's deadlines, retries and circuit breaker, against
// a real local server that fails on purpose.
#include "http/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;

struct Upstream {
  std::atomic<int> hits{0};
  std::atomic<int> fail_first{0};   // this many answers are 503 first
  std::atomic<bool> broken{false};  // answer 500 while set
  std::atomic<int> post_hits{0};
  std::string last_request_id;
  std::mutex mutex;

  void routes(http::Router& r) {
    r.add("GET", "/flaky", [this](http::Request& req) {
      {
        std::lock_guard lock(mutex);
        last_request_id = std::string(req.headers.get("X-Request-Id").value_or(""));
      }
      const int n = ++hits;
      if (broken.load()) {
        return http::Response::json(500, R"({"error":"broken"})");
      }
      if (n <= fail_first.load()) {
        return http::Response::json(503, R"({"error":"try later"})");
      }
      return http::Response::json(200, R"({"ok":true})");
    });
    r.add("POST", "/flaky", [this](http::Request& req) {
      ++post_hits;
      if (post_hits.load() <= fail_first.load()) {
        return http::Response::json(503, R"({"error":"try later"})");
      }
      return http::Response::json(201, req.body);
    });
    r.add("GET", "/slow", [](http::Request&) {
      std::this_thread::sleep_for(600ms);
      return http::Response::json(200, "{}");
    });
  }
};

http::ServerOptions opts() {
  http::ServerOptions o;
  o.io_threads = 1;
  o.blocking_threads = 8;
  o.drain_timeout = 2s;
  return o;
}

http::ClientOptions client_opts(std::uint16_t port) {
  http::ClientOptions c;
  c.name = "test";
  c.base_url = "http://127.0.0.1:" + std::to_string(port);
  c.timeout = 2s;
  c.max_attempts = 3;
  c.backoff_base = 5ms;
  c.backoff_max = 20ms;
  c.breaker_threshold = 3;
  c.breaker_open_for = 300ms;
  return c;
}

TEST(Client, GetIsRetriedThroughTransient503s) {
  Upstream up;
  up.fail_first = 2;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  http::Client client(client_opts(server.port()));
  http::CallOptions call;
  call.request_id = "req-123";
  auto res = client.call("GET", "/flaky", {}, call);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"ok":true})");
  EXPECT_EQ(up.hits.load(), 3);
  EXPECT_EQ(up.last_request_id, "req-123");
}

TEST(Client, GivesUpAfterMaxAttemptsAndReturnsTheLastAnswer) {
  Upstream up;
  up.fail_first = 10;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  auto o = client_opts(server.port());
  o.breaker_threshold = 100;
  http::Client client(o);
  auto res = client.call("GET", "/flaky");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(up.hits.load(), 3);
}

TEST(Client, PostIsNotRetriedUnlessItCarriesAnIdempotencyKey) {
  Upstream up;
  up.fail_first = 1;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  http::Client client(client_opts(server.port()));
  auto once = client.call("POST", "/flaky", R"({"a":1})");
  ASSERT_TRUE(once.has_value());
  EXPECT_EQ(once->status, 503);
  EXPECT_EQ(up.post_hits.load(), 1);

  up.post_hits = 0;
  http::CallOptions keyed;
  keyed.headers.set("Idempotency-Key", "k-1");
  auto retried = client.call("POST", "/flaky", R"({"a":2})", keyed);
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(retried->status, 201);
  EXPECT_EQ(retried->body, R"({"a":2})");
  EXPECT_EQ(up.post_hits.load(), 2);
}

TEST(Client, DeadlineBoundsASlowUpstream) {
  Upstream up;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  http::Client client(client_opts(server.port()));
  http::CallOptions call;
  call.timeout = 150ms;
  const auto start = std::chrono::steady_clock::now();
  auto res = client.call("GET", "/slow", {}, call);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, http::ClientErrc::timeout);
  EXPECT_LT(took, 500ms);
}

TEST(Client, ConnectionRefusedIsConnectFailed) {
  // Bind then close a server to get a port nobody listens on.
  std::uint16_t port = 0;
  {
    InProcessServer gone(opts(), [](http::Router&) {});
    port = gone.port();
  }
  http::Client client(client_opts(port));
  auto res = client.call("GET", "/anything");
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, http::ClientErrc::connect_failed);
}

TEST(Client, BreakerOpensFailsFastThenProbesAndCloses) {
  Upstream up;
  up.broken = true;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  auto o = client_opts(server.port());
  o.max_attempts = 1;
  obs::Registry metrics;
  http::Client client(o, &metrics);

  for (int i = 0; i < 3; ++i) {
    auto res = client.call("GET", "/flaky");
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->status, 500);
  }
  EXPECT_EQ(up.hits.load(), 3);
  EXPECT_EQ(client.breaker_state(), http::Client::BreakerState::open);

  // Open: calls fail without reaching the upstream.
  auto fast = client.call("GET", "/flaky");
  ASSERT_FALSE(fast.has_value());
  EXPECT_EQ(fast.error().code, http::ClientErrc::circuit_open);
  EXPECT_EQ(up.hits.load(), 3);
  EXPECT_NE(metrics.render().find("emporium_http_client_breaker_open{upstream=\"test\"} 1"),
            std::string::npos);

  // After the open period a probe goes through; it fails, so it opens again.
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(client.breaker_state(), http::Client::BreakerState::half_open);
  auto probe = client.call("GET", "/flaky");
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(up.hits.load(), 4);
  EXPECT_EQ(client.breaker_state(), http::Client::BreakerState::open);

  // The upstream recovers; the next probe succeeds and closes the breaker.
  up.broken = false;
  std::this_thread::sleep_for(350ms);
  auto healed = client.call("GET", "/flaky");
  ASSERT_TRUE(healed.has_value());
  EXPECT_EQ(healed->status, 200);
  EXPECT_EQ(client.breaker_state(), http::Client::BreakerState::closed);
  auto normal = client.call("GET", "/flaky");
  ASSERT_TRUE(normal.has_value());
  EXPECT_EQ(normal->status, 200);
  EXPECT_EQ(up.hits.load(), 6);
}

TEST(Client, ReusesConnectionsAcrossCalls) {
  Upstream up;
  InProcessServer server(opts(), [&](http::Router& r) { up.routes(r); });
  http::Client client(client_opts(server.port()));
  for (int i = 0; i < 20; ++i) {
    auto res = client.call("GET", "/flaky");
    ASSERT_TRUE(res.has_value());
    ASSERT_EQ(res->status, 200);
  }
  // One keep-alive connection served all sequential calls.
  const auto text = server.metrics().render();
  EXPECT_NE(text.find("emporium_http_connections_open 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace emporium::test
