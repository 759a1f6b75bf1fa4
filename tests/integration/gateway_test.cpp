// The gateway of the split shape as a process of its own, in front of
// upstreams the test controls: a proxied request waits for its upstream on
// an I/O thread, not on the blocking pool.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;

// A gateway with two blocking threads in front of a product service that
// takes 400 ms over every answer: 24 requests at once are all answered, in
// about one upstream delay, and the product service sees them at the same
// time. Were each proxied request to hold a blocking thread, two at a time
// would pass and the last would wait 12 x 400 ms = 4.8 s.
TEST(Gateway, ManySlowUpstreamRequestsAtOnceDoNotWaitForTheBlockingPool) {
  constexpr int kRequests = 24;
  constexpr auto kDelay = 400ms;
  std::atomic<int> in_flight{0};
  std::atomic<int> peak{0};
  http::ServerOptions o;
  o.io_threads = 1;
  o.blocking_threads = 2 * kRequests;
  InProcessServer product(o, [&](http::Router& r) {
    r.add_prefix("/api/products", [&](http::Request& req) {
      const int now = ++in_flight;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(kDelay);
      --in_flight;
      return http::Response::json(200, R"({"path":")" + std::string(req.path) + R"("})");
    });
  });
  Process gateway({"serve", "--services=gateway", "--listen=127.0.0.1:0",
                   "--data-dir=" + temp_dir(), "--jwt-secret=gateway-test-secret-0123456789abcdef",
                   "--io-threads=2", "--blocking-threads=2", "--upstream-timeout=5s",
                   "--product-url=http://127.0.0.1:" + std::to_string(product.port())});
  const auto port = gateway.wait_listening();

  std::vector<std::optional<http::Response>> answers(kRequests);
  std::vector<std::thread> clients;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back(
        [&, i] { answers[i] = request("GET", port, "/api/products/p" + std::to_string(i)); });
  }
  for (auto& t : clients) {
    t.join();
  }
  const auto took = std::chrono::steady_clock::now() - start;

  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(answers[i].has_value()) << "request " << i << " got no answer";
    EXPECT_EQ(answers[i]->status, 200) << i << ": " << answers[i]->body;
    EXPECT_EQ(answers[i]->body, R"({"path":"/api/products/p)" + std::to_string(i) + R"("})");
  }
  EXPECT_LT(took, 2500ms) << "the " << kRequests << " requests took "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms";
  EXPECT_GT(peak.load(), kRequests / 2)
      << "at most " << peak.load() << " requests reached the product service at once";
}

}  // namespace
}  // namespace emporium::test
