// The asynchronous inter-service client against a scripted upstream on
// loopback: keep-alive reuse, deadlines, retries after a connection reset,
// the circuit breaker, and the request it puts on the wire.
#include "http/async_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <thread>

namespace emporium::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// What the upstream does with one request.
struct Step {
  enum Kind {
    answer,        // answers (keep-alive as the request asks)
    answer_close,  // answers, then closes the connection without saying so
    reset,         // closes the connection with a TCP reset, no answer
  };
  Kind kind = answer;
  int status = 200;
  std::string body = R"({"ok":true})";
  std::chrono::milliseconds delay{0};
};

using Seen = bhttp::request<bhttp::string_body>;

// An HTTP/1.1 server on 127.0.0.1 that answers each request as `script`
// says (called on its own thread, with the request and its number from 1),
// and counts connections and requests.
class ScriptedUpstream {
 public:
  explicit ScriptedUpstream(std::function<Step(const Seen&, int)> script)
      : script_(std::move(script)),
        acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~ScriptedUpstream() {
    ctx_.stop();
    thread_.join();
  }
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  Seen last() {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) {
        co_return;
      }
      ++connections_;
      asio::co_spawn(ctx_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      Seen req;
      auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kNoThrow);
      if (ec) {
        co_return;
      }
      const int number = ++requests_;
      {
        std::lock_guard lock(mutex_);
        last_ = req;
      }
      const Step step = script_(req, number);
      if (step.delay.count() > 0) {
        asio::steady_timer timer(ctx_, step.delay);
        co_await timer.async_wait(kNoThrow);
      }
      beast::error_code ignored;
      if (step.kind == Step::reset) {
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(step.status), 11};
      res.set(bhttp::field::content_type, "application/json");
      res.body() = step.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(socket, res, kNoThrow);
      if (wec || step.kind == Step::answer_close || !req.keep_alive()) {
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        co_return;
      }
    }
  }

  std::function<Step(const Seen&, int)> script_;
  asio::io_context ctx_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  Seen last_;
};

ClientOptions options_for(const ScriptedUpstream& up) {
  ClientOptions o;
  o.name = "test";
  o.base_url = up.url();
  o.timeout = 2s;
  o.max_attempts = 3;
  o.backoff_base = 5ms;
  o.backoff_max = 20ms;
  o.breaker_threshold = 3;
  o.breaker_open_for = 300ms;
  return o;
}

// Runs the calls of one test on one event loop, as an I/O thread would, so
// connections left idle by a call are there for the next.
struct Loop {
  asio::io_context ctx{1};

  ClientResult call(AsyncClient& client, std::string_view method, std::string_view path,
                    std::string_view body = {}, const CallOptions& options = {}) {
    ctx.restart();
    auto f = asio::co_spawn(ctx, client.call(method, path, body, options), asio::use_future);
    ctx.run();
    return f.get();
  }
};

double metric(const obs::Registry& metrics, const std::string& series) {
  const auto text = metrics.render();
  const auto at = text.find(series + " ");
  return at == std::string::npos ? 0.0 : std::stod(text.substr(at + series.size() + 1));
}

TEST(AsyncClient, SequentialCallsReuseOneKeepAliveConnection) {
  ScriptedUpstream up([](const Seen&, int) { return Step{}; });
  AsyncClient client(options_for(up));
  Loop loop;
  for (int i = 0; i < 20; ++i) {
    auto res = loop.call(client, "GET", "/items");
    ASSERT_TRUE(res.has_value()) << res.error().message;
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(res->body, R"({"ok":true})");
  }
  EXPECT_EQ(up.requests(), 20);
  EXPECT_EQ(up.connections(), 1);
}

// One GET; adds 1 to `ok` when it is answered 200. (A coroutine of its own:
// a lambda's captures would die with the temporary closure. The options are
// a named object: GCC 12 frees a defaulted temporary argument of a co_await
// twice.)
asio::awaitable<void> count_ok(AsyncClient& client, std::atomic<int>& ok) {
  const CallOptions options;
  auto res = co_await client.call("GET", "/items", {}, options);
  ok += res.has_value() && res->status == 200 ? 1 : 0;
}

TEST(AsyncClient, ConcurrentCallsOpenConnectionsThatLaterCallsReuse) {
  ScriptedUpstream up([](const Seen&, int) { return Step{.delay = 50ms}; });
  AsyncClient client(options_for(up));
  asio::io_context ctx{1};
  std::atomic<int> ok{0};
  for (int round = 0; round < 3; ++round) {
    ctx.restart();
    for (int i = 0; i < 4; ++i) {
      asio::co_spawn(ctx, count_ok(client, ok), asio::detached);
    }
    ctx.run();
  }
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(up.connections(), 4) << "each round of 4 at once reuses the first round's 4";
}

TEST(AsyncClient, TheRequestCarriesHostContentTypeRequestIdAndTheCallersHeaders) {
  ScriptedUpstream up([](const Seen& req, int) { return Step{.status = 201, .body = req.body()}; });
  AsyncClient client(options_for(up));
  Loop loop;
  CallOptions call;
  call.request_id = "req-42";
  call.headers.set("Authorization", "Bearer t");
  auto res = loop.call(client, "POST", "/orders?x=1", R"({"a":1})", call);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, R"({"a":1})");
  EXPECT_EQ(res->headers.get("Content-Type").value_or(""), "application/json");
  const auto seen = up.last();
  EXPECT_EQ(seen.method_string(), "POST");
  EXPECT_EQ(seen.target(), "/orders?x=1");
  EXPECT_EQ(seen[bhttp::field::host], up.url().substr(7));
  EXPECT_EQ(seen[bhttp::field::content_type], "application/json");
  EXPECT_EQ(seen["X-Request-Id"], "req-42");
  EXPECT_EQ(seen[bhttp::field::authorization], "Bearer t");
  EXPECT_EQ(seen.body(), R"({"a":1})");
}

TEST(AsyncClient, TheDeadlineEndsASlowCallAsATimeoutAndItsConnectionIsNotReused) {
  ScriptedUpstream up([](const Seen&, int n) { return Step{.delay = n == 1 ? 600ms : 0ms}; });
  AsyncClient client(options_for(up));
  Loop loop;
  CallOptions call;
  call.timeout = 150ms;
  const auto start = std::chrono::steady_clock::now();
  auto res = loop.call(client, "GET", "/slow", {}, call);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, ClientErrc::timeout) << res.error().message;
  EXPECT_LT(took, 500ms);
  EXPECT_EQ(up.requests(), 1) << "a deadline spent on one attempt leaves no time for another";

  auto next = loop.call(client, "GET", "/fast");
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(up.connections(), 2);
}

TEST(AsyncClient, AnIdempotentCallIsRetriedAfterAConnectionResetAPostIsNot) {
  ScriptedUpstream up(
      [](const Seen&, int n) { return Step{.kind = n == 1 ? Step::reset : Step::answer}; });
  obs::Registry metrics;
  AsyncClient client(options_for(up), &metrics);
  Loop loop;
  auto res = loop.call(client, "GET", "/items");
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(up.requests(), 2);
  EXPECT_EQ(up.connections(), 2);
  EXPECT_EQ(metric(metrics, R"(emporium_http_client_calls_total{upstream="test",outcome="error"})"),
            1);
  EXPECT_EQ(metric(metrics, R"(emporium_http_client_calls_total{upstream="test",outcome="ok"})"),
            1);

  ScriptedUpstream post_up([](const Seen&, int) { return Step{.kind = Step::reset}; });
  auto post_options = options_for(post_up);
  post_options.breaker_threshold = 100;  // the breaker would stop the third attempt
  AsyncClient post_client(post_options);
  auto once = loop.call(post_client, "POST", "/orders", "{}");
  ASSERT_FALSE(once.has_value());
  EXPECT_EQ(once.error().code, ClientErrc::transport) << once.error().message;
  EXPECT_EQ(post_up.requests(), 1) << "a POST without an Idempotency-Key is sent once";

  CallOptions keyed;
  keyed.headers.set("Idempotency-Key", "k-1");
  auto retried = loop.call(post_client, "POST", "/orders", "{}", keyed);
  ASSERT_FALSE(retried.has_value());
  EXPECT_EQ(post_up.requests(), 4) << "with a key it is retried up to max_attempts";
}

TEST(AsyncClient, AConnectionTheUpstreamClosedWhileIdleIsReplacedWithinTheAttempt) {
  ScriptedUpstream up(
      [](const Seen&, int) { return Step{.kind = Step::answer_close, .status = 201}; });
  obs::Registry metrics;
  AsyncClient client(options_for(up), &metrics);
  Loop loop;
  for (int i = 0; i < 3; ++i) {
    auto res = loop.call(client, "POST", "/orders", "{}");
    ASSERT_TRUE(res.has_value()) << i << ": " << res.error().message;
    EXPECT_EQ(res->status, 201);
  }
  EXPECT_EQ(up.requests(), 3) << "each POST reached the upstream once";
  EXPECT_EQ(up.connections(), 3);
  EXPECT_EQ(metric(metrics, R"(emporium_http_client_calls_total{upstream="test",outcome="error"})"),
            0);
}

TEST(AsyncClient, RetriesThrough503sAndGivesUpAfterMaxAttempts) {
  ScriptedUpstream up([](const Seen&, int n) { return Step{.status = n <= 2 ? 503 : 200}; });
  AsyncClient client(options_for(up));
  Loop loop;
  auto res = loop.call(client, "GET", "/flaky");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(up.requests(), 3);

  ScriptedUpstream down([](const Seen&, int) { return Step{.status = 503}; });
  auto o = options_for(down);
  o.breaker_threshold = 100;
  AsyncClient stubborn(o);
  auto last = loop.call(stubborn, "GET", "/flaky");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->status, 503);
  EXPECT_EQ(down.requests(), 3);
}

TEST(AsyncClient, BreakerOpensFailsFastThenProbesAndCloses) {
  std::atomic<bool> broken{true};
  ScriptedUpstream up([&](const Seen&, int) { return Step{.status = broken ? 500 : 200}; });
  auto o = options_for(up);
  o.max_attempts = 1;
  obs::Registry metrics;
  AsyncClient client(o, &metrics);
  Loop loop;
  for (int i = 0; i < 3; ++i) {
    auto res = loop.call(client, "GET", "/flaky");
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->status, 500);
  }
  EXPECT_EQ(client.breaker_state(), BreakerState::open);
  auto fast = loop.call(client, "GET", "/flaky");
  ASSERT_FALSE(fast.has_value());
  EXPECT_EQ(fast.error().code, ClientErrc::circuit_open);
  EXPECT_EQ(up.requests(), 3) << "an open breaker does not reach the upstream";
  EXPECT_EQ(metric(metrics, R"(emporium_http_client_breaker_open{upstream="test"})"), 1);
  EXPECT_EQ(metric(metrics,
                   R"(emporium_http_client_calls_total{upstream="test",outcome="circuit_open"})"),
            1);

  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(client.breaker_state(), BreakerState::half_open);
  ASSERT_TRUE(loop.call(client, "GET", "/flaky").has_value());
  EXPECT_EQ(client.breaker_state(), BreakerState::open) << "a failed probe opens it again";

  broken = false;
  std::this_thread::sleep_for(350ms);
  auto healed = loop.call(client, "GET", "/flaky");
  ASSERT_TRUE(healed.has_value());
  EXPECT_EQ(healed->status, 200);
  EXPECT_EQ(client.breaker_state(), BreakerState::closed);
  EXPECT_EQ(metric(metrics, R"(emporium_http_client_breaker_open{upstream="test"})"), 0);
  EXPECT_EQ(up.requests(), 5);
}

TEST(AsyncClient, ARefusedConnectionIsConnectFailed) {
  std::string url;
  {
    ScriptedUpstream gone([](const Seen&, int) { return Step{}; });
    url = gone.url();
  }
  ClientOptions o;
  o.base_url = url;
  AsyncClient client(o);
  Loop loop;
  auto res = loop.call(client, "GET", "/anything");
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(res.error().code, ClientErrc::connect_failed) << res.error().message;
}

TEST(AsyncClient, ABlockingCallWorksWithoutAnEventLoop) {
  ScriptedUpstream up([](const Seen&, int) { return Step{.status = 202}; });
  AsyncClient client(options_for(up));
  auto res = client.call_blocking("GET", "/items");
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 202);
}

TEST(AsyncClient, OnlyHttpUrlsAreAccepted) {
  ClientOptions o;
  o.base_url = "https://127.0.0.1:1";
  EXPECT_THROW(AsyncClient{o}, std::invalid_argument);
  o.base_url = "not a url";
  EXPECT_THROW(AsyncClient{o}, std::invalid_argument);
}

}  // namespace
}  // namespace emporium::http
