// The HTTP server's limits, keep-alive, pipelining and graceful shutdown,
// checked over real sockets on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;

http::ServerOptions small_limits() {
  http::ServerOptions o;
  o.io_threads = 2;
  o.blocking_threads = 4;
  o.max_header_bytes = 2048;
  o.max_body_bytes = 1024;
  o.read_timeout = 500ms;
  o.idle_timeout = 5s;
  o.drain_timeout = 5s;
  return o;
}

void echo_routes(http::Router& r) {
  r.add("POST", "/echo", [](http::Request& req) { return http::Response::json(200, req.body); });
  r.add("GET", "/items/{id}", [](http::Request& req) {
    return http::Response::json(200, "{\"id\":\"" + std::string(req.param("id")) + "\"}");
  });
}

TEST(ServerLimits, BodyAtTheLimitIsServedAndOverItIs413) {
  InProcessServer server(small_limits(), echo_routes);
  const std::string fits(1024, 'a');
  auto ok = request("POST", server.port(), "/echo", fits);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, fits);

  auto big = request("POST", server.port(), "/echo", std::string(1025, 'a'));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->headers.get("Content-Type"), "application/problem+json");
  EXPECT_NE(big->body.find("\"status\":413"), std::string::npos);
}

TEST(ServerLimits, HugeHeaderIs431) {
  InProcessServer server(small_limits(), echo_routes);
  auto res = request("GET", server.port(), "/healthz", {}, {"X-Big: " + std::string(4096, 'x')});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 431);
  EXPECT_NE(res->body.find("\"status\":431"), std::string::npos);
  // The server is still healthy for well-behaved clients.
  auto after = request("GET", server.port(), "/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(ServerLimits, StalledHalfRequestIsCutOffWhileOthersAreServed) {
  InProcessServer server(small_limits(), echo_routes);
  RawConnection slow(server.port());
  ASSERT_TRUE(slow.connected());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));

  // While the slow client holds its connection, others are answered.
  for (int i = 0; i < 5; ++i) {
    auto res = request("GET", server.port(), "/items/" + std::to_string(i));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "{\"id\":\"" + std::to_string(i) + "\"}");
  }
  EXPECT_TRUE(slow.wait_closed(3s)) << "stalled client was not disconnected";
  const auto held = std::chrono::steady_clock::now() - start;
  EXPECT_GE(held, 400ms);
  EXPECT_LT(held, 2500ms);
}

TEST(ServerLimits, SilentConnectionIsClosedAfterHeaderTimeout) {
  auto opts = small_limits();
  opts.header_timeout = 300ms;
  InProcessServer server(opts, echo_routes);
  RawConnection silent(server.port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.wait_closed(2s));
}

TEST(ServerLimits, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  auto opts = small_limits();
  opts.idle_timeout = 300ms;
  InProcessServer server(opts, echo_routes);
  RawConnection idle(server.port());
  ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(idle.read_responses(1, 2s).find("200 OK"), std::string::npos);
  EXPECT_TRUE(idle.wait_closed(2s));
}

TEST(ServerLimits, ConnectionsOverTheLimitAreClosed) {
  auto opts = small_limits();
  opts.max_connections = 2;
  InProcessServer server(opts, echo_routes);
  // Two connections with a request still being read hold both slots (an
  // idle keep-alive one would be closed to make room instead).
  RawConnection a(server.port());
  RawConnection b(server.port());
  ASSERT_TRUE(a.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{"));
  ASSERT_TRUE(b.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{"));
  std::this_thread::sleep_for(100ms);
  RawConnection c(server.port());
  EXPECT_TRUE(c.wait_closed(2s));
  EXPECT_NE(
      server.metrics().render().find("emporium_http_rejected_total{reason=\"connection_limit\"} 1"),
      std::string::npos);
}

TEST(ServerProtocol, PipelinedRequestsAreAnsweredInOrder) {
  InProcessServer server(small_limits(), echo_routes);
  RawConnection conn(server.port());
  ASSERT_TRUE(
      conn.send("GET /items/a HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"n\":1}"
                "GET /items/c HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto out = conn.read_responses(3, 3s);
  const auto a = out.find("{\"id\":\"a\"}");
  const auto b = out.find("{\"n\":1}");
  const auto c = out.find("{\"id\":\"c\"}");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(b, std::string::npos) << out;
  ASSERT_NE(c, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(ServerProtocol, MalformedRequestIs400AndHeadHasNoBody) {
  InProcessServer server(small_limits(), echo_routes);
  RawConnection bad(server.port());
  ASSERT_TRUE(bad.send("GARBAGE\r\n\r\n"));
  EXPECT_NE(bad.read_responses(1, 2s).find("400 Bad Request"), std::string::npos);

  RawConnection head(server.port());
  ASSERT_TRUE(head.send(
      "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  // HEAD announces the GET body's length but sends none; the next response follows directly.
  const auto out = head.read_responses(1, 2s);
  EXPECT_EQ(out.find("HTTP/1.1 200 OK"), 0U) << out;
  head.read_responses(2, 1s);
}

TEST(ServerProtocol, PercentEncodedParametersAreDecoded) {
  InProcessServer server(small_limits(), echo_routes);
  auto res = request("GET", server.port(), "/items/a%20b");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "{\"id\":\"a b\"}");
}

TEST(ServerShutdown, InFlightRequestCompletesAndNewConnectionsAreRefused) {
  std::atomic<bool> entered{false};
  auto opts = small_limits();
  opts.shutdown_delay = 200ms;
  InProcessServer server(opts, [&](http::Router& r) {
    r.add("GET", "/slow", [&](http::Request&) {
      entered.store(true);
      std::this_thread::sleep_for(800ms);
      return http::Response::json(200, R"({"done":true})");
    });
  });
  auto in_flight =
      std::async(std::launch::async, [&] { return request("GET", server.port(), "/slow"); });
  while (!entered.load()) {
    std::this_thread::sleep_for(5ms);
  }
  server.shutdown();
  // During the shutdown delay the listener is open but readiness says 503.
  auto ready = request("GET", server.port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("not ready"), std::string::npos);

  auto res = in_flight.get();
  ASSERT_TRUE(res) << "in-flight request was dropped";
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"done":true})");
  EXPECT_EQ(res->headers.get("Connection"), "close");

  ASSERT_TRUE(server.wait_stopped(5s));
  RawConnection late(server.port());
  EXPECT_FALSE(late.connected()) << "connection accepted after drain";
}

TEST(ServerShutdown, IdleKeepAliveConnectionsAreClosedAtDrain) {
  InProcessServer server(small_limits(), echo_routes);
  RawConnection idle(server.port());
  ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(idle.read_responses(1, 2s).find("200 OK"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  server.shutdown();
  EXPECT_TRUE(idle.wait_closed(2s));
  EXPECT_TRUE(server.wait_stopped(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// The headers that do not vary per request or body, as "name: value" lines.
std::vector<std::string> stable_headers(const http::Response& res) {
  std::vector<std::string> out;
  for (const auto& [k, v] : res.headers.fields()) {
    if (!http::iequals(k, "Date") && !http::iequals(k, "X-Request-Id") &&
        !http::iequals(k, "Content-Length")) {
      out.push_back(k + ": " + v);
    }
  }
  return out;
}

TEST(ServerFastPath, AHitIsAnsweredWhileThePoolIsBusyAndAMissWaitsForThePool) {
  auto opts = small_limits();
  opts.blocking_threads = 1;
  std::atomic<bool> entered{false};
  std::promise<void> release;
  const auto gate = release.get_future().share();
  std::atomic<int> pool_answers{0};
  InProcessServer server(opts, [&](http::Router& r) {
    r.add("GET", "/busy", [&, gate](http::Request&) {
      entered.store(true);
      gate.wait();
      return http::Response::json(200, "{}");
    });
    http::RouteOptions cached;
    cached.fast = [](const http::Request& req) -> std::optional<http::Response> {
      if (req.param("id") != "hit") {
        return std::nullopt;
      }
      return http::Response::json(200, R"({"id":"hit"})");
    };
    r.add(
        "GET", "/cached/{id}",
        [&](http::Request& req) {
          ++pool_answers;
          return http::Response::json(200, "{\"id\":\"" + std::string(req.param("id")) + "\"}");
        },
        cached);
  });
  // The only pool thread is taken.
  auto busy =
      std::async(std::launch::async, [&] { return request("GET", server.port(), "/busy"); });
  while (!entered.load()) {
    std::this_thread::sleep_for(5ms);
  }

  const auto start = std::chrono::steady_clock::now();
  auto hit = request("GET", server.port(), "/cached/hit");
  ASSERT_TRUE(hit);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(hit->status, 200);
  EXPECT_EQ(hit->body, R"({"id":"hit"})");
  EXPECT_EQ(pool_answers.load(), 0);

  auto miss =
      std::async(std::launch::async, [&] { return request("GET", server.port(), "/cached/miss"); });
  EXPECT_EQ(miss.wait_for(300ms), std::future_status::timeout)
      << "a miss is answered on the pool, which is busy";
  release.set_value();
  auto missed = miss.get();
  ASSERT_TRUE(missed);
  EXPECT_EQ(missed->status, 200);
  EXPECT_EQ(missed->body, R"({"id":"miss"})");
  EXPECT_EQ(pool_answers.load(), 1);
  ASSERT_TRUE(busy.get());

  // Same headers either way (but for the per-request ones).
  EXPECT_EQ(stable_headers(*hit), stable_headers(*missed));
  EXPECT_TRUE(hit->headers.has("X-Request-Id"));
  EXPECT_EQ(hit->headers.get("Content-Length"), std::to_string(hit->body.size()));
  EXPECT_EQ(missed->headers.get("Content-Length"), std::to_string(missed->body.size()));
  EXPECT_EQ(hit->headers.get("X-Frame-Options"), "DENY");
  const auto metrics = server.metrics().render();
  EXPECT_NE(
      metrics.find(
          R"(emporium_http_requests_total{route="/cached/{id}",method="GET",status="200"} 2)"),
      std::string::npos)
      << metrics;
}

TEST(ServerErrors, ExceptionBecomes500ThatLeaksNothing) {
  InProcessServer server(small_limits(), [](http::Router& r) {
    r.add("GET", "/boom", [](http::Request&) -> http::Response {
      throw std::runtime_error("secret database password in message");
    });
  });
  auto res = request("GET", server.port(), "/boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body.find("secret"), std::string::npos);
  EXPECT_NE(res->body.find("\"error\""), std::string::npos);
  auto again = request("GET", server.port(), "/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

}  // namespace
}  // namespace emporium::test
