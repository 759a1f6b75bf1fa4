#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace emporium::obs {
namespace {

TEST(Metrics, RendersCountersGaugesAndCumulativeHistograms) {
  Registry r;
  auto& c = r.counter("shop_orders_total", "Orders placed.", {"status"});
  c.with({"ok"}).inc();
  c.with({"ok"}).inc(2);
  c.with({"failed"}).inc();
  r.gauge("shop_queue_depth", "Queue depth.").with({}).set(7);
  auto& h = r.histogram("shop_latency_seconds", "Latency.", {"route"}, {0.1, 1.0});
  h.with({"/x"}).observe(0.05);
  h.with({"/x"}).observe(0.5);
  h.with({"/x"}).observe(5.0);

  const auto text = r.render();
  EXPECT_NE(text.find("# TYPE shop_orders_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("shop_orders_total{status=\"ok\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("shop_orders_total{status=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("shop_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("shop_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("shop_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("shop_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("shop_latency_seconds_sum{route=\"/x\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("shop_latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) {
  Registry r;
  r.counter("x_total", "X.", {"path"}).with({"a\"b\\c\nd"}).inc();
  EXPECT_NE(r.render().find(R"(x_total{path="a\"b\\c\nd"} 1)"), std::string::npos) << r.render();
}

TEST(Metrics, WrongLabelCountThrows) {
  Registry r;
  auto& c = r.counter("y_total", "Y.", {"a", "b"});
  EXPECT_THROW(c.with({"only-one"}), std::invalid_argument);
}

TEST(Metrics, ANameRegisteredAgainIsTheSameFamilyPrintedOnce) {
  Registry r;
  auto& first = r.counter("z_total", "Z.", {"kind"});
  auto& again = r.counter("z_total", "Z.", {"kind"});
  EXPECT_EQ(&first, &again);
  first.with({"a"}).inc();
  again.with({"a"}).inc();
  const auto text = r.render();
  EXPECT_NE(text.find("z_total{kind=\"a\"} 2\n"), std::string::npos) << text;
  const auto type_line = text.find("# TYPE z_total counter");
  ASSERT_NE(type_line, std::string::npos);
  EXPECT_EQ(text.find("# TYPE z_total counter", type_line + 1), std::string::npos) << text;
  // Other labels, or another kind, under one name are a programming error.
  EXPECT_THROW(r.counter("z_total", "Z.", {"other"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("z_total", "Z."), std::invalid_argument);
  EXPECT_THROW(r.histogram("z_total", "Z.", {"kind"}), std::invalid_argument);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.counter("z_total", "Z.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 10000; ++i) {
        c.with({t % 2 == 0 ? "even" : "odd"}).inc();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.with({"even"}).value(), 20000);
  EXPECT_EQ(c.with({"odd"}).value(), 20000);
}

TEST(Metrics, OutputPassesPromtool) {
  Registry r;
  register_process_metrics(r);
  r.counter("emporium_test_total", "A test counter.", {"route"}).with({"/a/{id}"}).inc();
  r.histogram("emporium_test_seconds", "A test histogram.", {"route"}).with({"/a"}).observe(0.2);
  const auto path = std::string(::testing::TempDir()) + "/metrics.prom";
  std::ofstream(path) << r.render();
  const int rc = std::system(("promtool check metrics < " + path + " > /dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << r.render();
}

}  // namespace
}  // namespace emporium::obs
