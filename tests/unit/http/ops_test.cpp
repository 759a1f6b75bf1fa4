#include "http/ops.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "http/router.hpp"

namespace emporium::http {
namespace {

struct Probe {
  int status = 0;
  boost::json::object body;
};

Probe readyz(const Router& router) {
  auto m = router.match("GET", "/readyz");
  Request req;
  auto res = m.route->handler(req);
  return {res.status, boost::json::parse(res.body).as_object()};
}

TEST(Readiness, RequiredCheckFailingIsNotReady) {
  Readiness readiness;
  obs::Registry metrics;
  Router router;
  add_ops_routes(router, readiness, metrics);
  std::atomic<bool> db{true};
  readiness.add_check("database:order", [&db] { return db.load(); });

  auto ok = readyz(router);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.at("status"), "ready");
  EXPECT_EQ(ok.body.at("checks").at("database:order"), "ok");

  db = false;
  auto down = readyz(router);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body.at("status"), "not ready");
  EXPECT_EQ(down.body.at("checks").at("database:order"), "failing");
}

TEST(Readiness, OptionalCheckFailingIsDegradedButReady) {
  Readiness readiness;
  obs::Registry metrics;
  Router router;
  add_ops_routes(router, readiness, metrics);
  std::atomic<bool> db{true};
  std::atomic<bool> broker{false};
  readiness.add_check("database:order", [&db] { return db.load(); });
  readiness.add_check(
      "amqp", [&broker] { return broker.load(); }, false);

  auto degraded = readyz(router);
  EXPECT_EQ(degraded.status, 200);
  EXPECT_EQ(degraded.body.at("status"), "degraded");
  EXPECT_EQ(degraded.body.at("checks").at("amqp"), "failing");

  // A required failure still wins.
  db = false;
  auto down = readyz(router);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body.at("status"), "not ready");

  db = true;
  broker = true;
  EXPECT_EQ(readyz(router).body.at("status"), "ready");

  // Shutdown overrides everything.
  readiness.begin_shutdown();
  auto closing = readyz(router);
  EXPECT_EQ(closing.status, 503);
  EXPECT_EQ(closing.body.at("checks").at("shutdown"), "failing");
}

}  // namespace
}  // namespace emporium::http
