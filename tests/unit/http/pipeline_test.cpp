#include "http/pipeline.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace emporium::http {
namespace {

struct Fixture {
  obs::Registry metrics;
  Router router;
  std::unique_ptr<Pipeline> pipeline;

  explicit Fixture(CorsPolicy cors = {}) {
    router.add("GET", "/ok/{id}", [](Request& r) {
      return Response::json(
          200, "{\"id\":\"" + std::string(r.param("id")) + "\",\"route\":\"" + r.route + "\"}");
    });
    router.add("GET", "/boom", [](Request&) -> Response {
      throw std::runtime_error("connection string postgres://admin:hunter2@db");
    });
    pipeline = std::make_unique<Pipeline>(std::move(cors), metrics);
  }

  Response run(std::string method, std::string path, Headers headers = {}) {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.headers = std::move(headers);
    return pipeline->handle(req, router.match(req.method, req.path));
  }
};

TEST(Pipeline, RoutesAndExposesTemplateAndParams) {
  Fixture f;
  auto res = f.run("GET", "/ok/7");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"id":"7","route":"/ok/{id}"})");
}

TEST(Pipeline, ProblemJsonFor404And405CarriesErrorMember) {
  Fixture f;
  auto nf = f.run("GET", "/missing");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.headers.get("Content-Type"), "application/problem+json");
  auto body = boost::json::parse(nf.body).as_object();
  EXPECT_EQ(body.at("status").as_int64(), 404);
  EXPECT_EQ(body.at("title").as_string(), "Not Found");
  EXPECT_TRUE(body.at("error").is_string());

  auto na = f.run("DELETE", "/ok/1");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.headers.get("Allow"), "GET, HEAD");
  EXPECT_EQ(boost::json::parse(na.body).at("status").as_int64(), 405);
}

TEST(Pipeline, ExceptionBecomesOpaque500) {
  Fixture f;
  auto res = f.run("GET", "/boom");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(res.body.find("postgres"), std::string::npos);
  const auto id = std::string(*res.headers.get("X-Request-Id"));
  EXPECT_NE(res.body.find(id), std::string::npos) << "500 should name the request id";
}

TEST(Pipeline, RequestIdIsKeptWhenSaneAndGeneratedOtherwise) {
  Fixture f;
  Headers good;
  good.set("X-Request-Id", "abc-123");
  EXPECT_EQ(f.run("GET", "/ok/1", good).headers.get("X-Request-Id"), "abc-123");
  Headers bad;
  bad.set("X-Request-Id", "evil\"id with spaces");
  const auto generated = std::string(*f.run("GET", "/ok/1", bad).headers.get("X-Request-Id"));
  EXPECT_EQ(generated.size(), 32U);
  EXPECT_NE(generated, std::string(*f.run("GET", "/ok/1").headers.get("X-Request-Id")));
}

TEST(Pipeline, SecurityHeadersOnEveryResponse) {
  Fixture f;
  for (const auto& res : {f.run("GET", "/ok/1"), f.run("GET", "/missing"), f.run("GET", "/boom")}) {
    EXPECT_EQ(res.headers.get("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(res.headers.get("X-Frame-Options"), "DENY");
    EXPECT_TRUE(res.headers.has("Content-Security-Policy"));
    EXPECT_TRUE(res.headers.has("Referrer-Policy"));
  }
}

TEST(Pipeline, CorsOffByDefault) {
  Fixture f;
  Headers h;
  h.set("Origin", "https://shop.example");
  EXPECT_FALSE(f.run("GET", "/ok/1", h).headers.has("Access-Control-Allow-Origin"));
}

TEST(Pipeline, CorsAllowsConfiguredOriginsOnly) {
  Fixture f(CorsPolicy{{"https://shop.example"}});
  Headers allowed;
  allowed.set("Origin", "https://shop.example");
  auto res = f.run("GET", "/ok/1", allowed);
  EXPECT_EQ(res.headers.get("Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_EQ(res.headers.get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(res.headers.get("Vary"), "Origin");

  Headers other;
  other.set("Origin", "https://evil.example");
  EXPECT_FALSE(f.run("GET", "/ok/1", other).headers.has("Access-Control-Allow-Origin"));

  Headers preflight = allowed;
  preflight.set("Access-Control-Request-Method", "POST");
  auto pre = f.run("OPTIONS", "/ok/1", preflight);
  EXPECT_EQ(pre.status, 204);
  EXPECT_NE(pre.headers.get("Access-Control-Allow-Methods")->find("POST"), std::string::npos);
  EXPECT_EQ(pre.headers.get("Access-Control-Allow-Origin"), "https://shop.example");
}

TEST(Pipeline, CountsRequestsByRouteMethodAndStatus) {
  Fixture f;
  f.run("GET", "/ok/1");
  f.run("GET", "/ok/2");
  f.run("GET", "/nope");
  f.run("BREW", "/ok/1");
  const auto text = f.metrics.render();
  EXPECT_NE(
      text.find(R"(emporium_http_requests_total{route="/ok/{id}",method="GET",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(emporium_http_requests_total{route="unmatched",method="GET",status="404"} 1)"),
      std::string::npos);
  EXPECT_NE(text.find(R"(method="OTHER",status="405")"), std::string::npos);
  EXPECT_NE(text.find("emporium_http_requests_in_flight 0"), std::string::npos);
}

// A route whose fast handler answers ids starting with "hit" (as a cache
// would) and declines the rest, and whose handler answers every id with
// the same response; `slow_calls` counts the handler's answers.
struct FastFixture {
  obs::Registry metrics;
  Router router;
  std::unique_ptr<Pipeline> pipeline;
  int slow_calls = 0;

  static Response answer(const Request& r) {
    auto res = Response::json(200, "{\"id\":\"" + std::string(r.param("id")) + "\"}");
    res.headers.set("Cache-Control", "max-age=5");
    return res;
  }

  explicit FastFixture(CorsPolicy cors = {}) {
    RouteOptions options;
    options.fast = [](const Request& r) -> std::optional<Response> {
      if (r.param("id").starts_with("hit")) {
        return answer(r);
      }
      if (r.param("id") == "throw") {
        throw std::runtime_error("cache broke");
      }
      return std::nullopt;
    };
    router.add(
        "GET", "/c/{id}",
        [this](Request& r) {
          ++slow_calls;
          return answer(r);
        },
        options);
    router.add("GET", "/plain", [](Request&) { return Response::json(200, "{}"); });
    pipeline = std::make_unique<Pipeline>(std::move(cors), metrics);
  }

  Request make(const std::string& path, Headers headers = {}) {
    Request req;
    req.method = "GET";
    req.path = path;
    req.headers = std::move(headers);
    return req;
  }
  std::optional<Response> fast(const std::string& path, Headers headers = {}) {
    auto req = make(path, std::move(headers));
    return pipeline->handle_fast(req, router.match(req.method, req.path));
  }
  Response slow(const std::string& path, Headers headers = {}) {
    auto req = make(path, std::move(headers));
    return pipeline->handle(req, router.match(req.method, req.path));
  }
  double count(const std::string& labels) const {
    const std::string name = "emporium_http_requests_total{" + labels + "} ";
    const auto text = metrics.render();
    const auto at = text.find(name);
    return at == std::string::npos ? 0 : std::stod(text.substr(at + name.size()));
  }
};

TEST(PipelineFast, AHitGetsExactlyTheHeadersTheHandlerWouldHaveGot) {
  FastFixture f(CorsPolicy{{"https://shop.example"}});
  Headers h;
  h.set("X-Request-Id", "req-1");
  h.set("Origin", "https://shop.example");
  auto hit = f.fast("/c/hit1", h);
  ASSERT_TRUE(hit);
  EXPECT_EQ(f.slow_calls, 0);
  const auto slow = f.slow("/c/hit1", h);
  EXPECT_EQ(f.slow_calls, 1);
  EXPECT_EQ(hit->status, slow.status);
  EXPECT_EQ(hit->body, slow.body);
  EXPECT_EQ(hit->headers.fields(), slow.headers.fields());
  EXPECT_EQ(hit->headers.get("X-Request-Id"), "req-1");
  EXPECT_EQ(hit->headers.get("Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_EQ(hit->headers.get("Cache-Control"), "max-age=5");
  EXPECT_EQ(hit->headers.get("X-Frame-Options"), "DENY");
  // Both answers were counted, under the same series.
  EXPECT_EQ(f.count(R"(route="/c/{id}",method="GET",status="200")"), 2);
}

TEST(PipelineFast, ADeclineCountsNothingAndTheHandlerAnswers) {
  FastFixture f;
  EXPECT_FALSE(f.fast("/c/miss"));
  EXPECT_EQ(f.count(R"(route="/c/{id}",method="GET",status="200")"), 0);
  EXPECT_NE(f.metrics.render().find("emporium_http_requests_in_flight 0"), std::string::npos);
  const auto res = f.slow("/c/miss");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"id":"miss"})");
  EXPECT_EQ(f.slow_calls, 1);
  EXPECT_EQ(f.count(R"(route="/c/{id}",method="GET",status="200")"), 1);
}

TEST(PipelineFast, AThrowingFastHandlerDeclinesAndRoutesWithoutOneAreLeftAlone) {
  FastFixture f;
  EXPECT_FALSE(f.fast("/c/throw"));
  EXPECT_FALSE(f.fast("/plain"));
  EXPECT_FALSE(f.fast("/missing"));
  auto req = f.make("/c/hit1");
  req.method = "DELETE";  // 405: no route, nothing fast
  EXPECT_FALSE(f.pipeline->handle_fast(req, f.router.match(req.method, req.path)));
  EXPECT_EQ(f.metrics.render().find("emporium_http_requests_total{"), std::string::npos);
}

TEST(PipelineFast, SeriesOfTwoPipelinesStayApart) {
  // Per-thread caches of metric series must not mix pipelines (registries).
  FastFixture a;
  FastFixture b;
  ASSERT_TRUE(a.fast("/c/hit1"));
  ASSERT_TRUE(a.fast("/c/hit2"));
  ASSERT_TRUE(b.fast("/c/hit1"));
  EXPECT_EQ(a.count(R"(route="/c/{id}",method="GET",status="200")"), 2);
  EXPECT_EQ(b.count(R"(route="/c/{id}",method="GET",status="200")"), 1);
}

}  // namespace
}  // namespace emporium::http
