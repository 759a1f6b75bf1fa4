// /metrics is served on admin_listen only: the public port answers 404 for
// it, in both shapes (the storefront included, which otherwise answers its
// page for unknown paths); /healthz and /readyz stay on the public port.
#include <gtest/gtest.h>

#include <string>

#include "shop.hpp"
#include "support.hpp"

namespace emporium::test {
namespace {

void expect_metrics_on_admin_only(const std::string& what, std::uint16_t port) {
  const auto admin = admin_port(port);
  ASSERT_NE(admin, port) << what;
  const auto public_metrics = request("GET", port, "/metrics");
  ASSERT_TRUE(public_metrics) << what;
  EXPECT_EQ(public_metrics->status, 404) << what << ": /metrics on the public port";
  EXPECT_EQ(public_metrics->body.find("# TYPE"), std::string::npos) << what;
  for (const char* probe : {"/healthz", "/readyz"}) {
    const auto res = request("GET", port, probe);
    ASSERT_TRUE(res) << what << " " << probe;
    EXPECT_EQ(res->status, 200) << what << ": " << probe << " on the public port";
  }
  const auto metrics = request("GET", admin, "/metrics");
  ASSERT_TRUE(metrics) << what;
  EXPECT_EQ(metrics->status, 200) << what << ": /metrics on admin_listen";
  EXPECT_NE(metrics->body.find("# TYPE emporium_http_requests_total counter"), std::string::npos)
      << what;
  const auto healthz = request("GET", admin, "/healthz");
  ASSERT_TRUE(healthz) << what;
  EXPECT_EQ(healthz->status, 200) << what << ": /healthz on admin_listen";
}

TEST(AdminListen, AllInOneServesMetricsOnTheAdminPortOnly) {
  AllInOneShop shop;  // with the storefront
  expect_metrics_on_admin_only("all-in-one", shop.port());
}

TEST(AdminListen, EverySplitServiceServesMetricsOnItsAdminPortOnly) {
  SplitShop shop;
  for (const char* name : {"product", "user", "cart", "order", "notification", "gateway"}) {
    expect_metrics_on_admin_only(name, shop.service_port(name));
  }
}

TEST(AdminListen, DefaultsToLoopback9090) {
  Process p({"serve", "--help"});
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 0);
  EXPECT_NE(p.output().find("--admin-listen"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("default '127.0.0.1:9090'"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace emporium::test
