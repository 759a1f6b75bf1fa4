// The gateway's Proxy with a fake upstream: the edge's token check, the
// headers it forwards and drops, and its answers when the upstream is down
// or slow.

#include "gateway/handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "gateway/errors.hpp"

namespace emporium::gateway::testing {
namespace {

namespace json = boost::json;

// One call the proxy made.
struct Call {
  std::string method;
  std::string target;
  std::string body;
  http::CallOptions options;
};

// Records every call and answers `answer`, or fails with `failure` when set.
class FakeUpstream final : public svc::Upstream {
 public:
  http::ClientResult call(std::string_view method, std::string_view target, std::string_view body,
                          const http::CallOptions& options) override {
    calls.push_back({std::string(method), std::string(target), std::string(body), options});
    if (failure) {
      return http::ClientResult(boost::system::in_place_error, *failure);
    }
    return answer;
  }

  std::vector<Call> calls;
  http::Response answer = http::Response::json(200, R"({"ok":true})");
  std::optional<http::ClientError> failure;
};

auth::TokenSettings settings() {
  auth::TokenSettings s;
  s.secret = "gateway-unit-test-secret-gateway-unit!";
  return s;
}

struct GatewayProxy : ::testing::Test {
  GatewayProxy() : tokens(settings()), proxy("product", upstream, tokens) {}

  http::Request request(std::string method, std::string target, std::string body = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    EXPECT_TRUE(http::parse_target(r.target, r));
    r.body = std::move(body);
    r.remote = "203.0.113.7:54321";
    r.request_id = "req-1";
    return r;
  }
  std::string bearer() const { return "Bearer " + tokens.issue_access("u1", "customer", "sid-1"); }

  FakeUpstream upstream;
  auth::Tokens tokens;
  Proxy proxy;
};

json::object body_of(const http::Response& res) {
  return json::parse(res.body).as_object();
}

TEST_F(GatewayProxy, AProtectedRouteWithoutATokenIs401AndNeverReachesTheService) {
  auto req = request("POST", "/api/products", R"({"name":"Lamp"})");
  const auto res = proxy(req);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(body_of(res).at("error").as_string(), "No authorization header");
  EXPECT_EQ(res.headers.get("WWW-Authenticate").value_or(""), R"(Bearer realm="emporium")");
  EXPECT_TRUE(upstream.calls.empty());
}

TEST_F(GatewayProxy, AProtectedRouteWithABadTokenIs401AndNeverReachesTheService) {
  for (const char* route : {"/api/cart/u1", "/api/orders", "/api/users/profile"}) {
    auto req = request("GET", route);
    req.headers.set("Authorization", "Bearer not-a-token");
    const auto res = proxy(req);
    EXPECT_EQ(res.status, 401) << route;
    EXPECT_EQ(body_of(res).at("error").as_string(), "Invalid token") << route;
  }
  const auto service = tokens.issue_service("order");
  auto req = request("GET", "/api/orders");
  req.headers.set("Authorization", "Bearer " + service);
  EXPECT_EQ(proxy(req).status, 401) << "a service token is no user's";
  EXPECT_TRUE(upstream.calls.empty());
}

TEST_F(GatewayProxy, AProtectedRouteWithAValidTokenIsForwarded) {
  auto req = request("POST", "/api/orders", R"({"items":[]})");
  req.headers.set("Authorization", bearer());
  upstream.answer = http::Response::json(201, R"({"id":"o1"})");
  const auto res = proxy(req);
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(body_of(res).at("id").as_string(), "o1");
  ASSERT_EQ(upstream.calls.size(), 1u);
  EXPECT_EQ(upstream.calls[0].method, "POST");
  EXPECT_EQ(upstream.calls[0].target, "/api/orders");
  EXPECT_EQ(upstream.calls[0].body, R"({"items":[]})");
}

TEST_F(GatewayProxy, OpenRoutesPassWithoutATokenOrWithABadOne) {
  auto catalog = request("GET", "/api/products?page=2");
  EXPECT_EQ(proxy(catalog).status, 200);
  auto login = request("POST", "/api/users/login", R"({"email":"a@b.c"})");
  EXPECT_EQ(proxy(login).status, 200);
  auto refresh = request("POST", "/api/users/refresh");
  refresh.headers.set("Authorization", "Bearer expired-or-garbage");
  EXPECT_EQ(proxy(refresh).status, 200) << "a client holding a bad token can still refresh";
  ASSERT_EQ(upstream.calls.size(), 3u);
  EXPECT_EQ(upstream.calls[0].target, "/api/products?page=2") << "the raw target, query included";
  EXPECT_EQ(upstream.calls[1].body, R"({"email":"a@b.c"})");
  EXPECT_EQ(upstream.calls[2].options.headers.get("Authorization").value_or(""),
            "Bearer expired-or-garbage");
}

TEST_F(GatewayProxy, EndToEndRequestHeadersAreForwardedWithXForwardedFor) {
  auto req = request("POST", "/api/orders", "{}");
  const auto token = bearer();
  req.headers.set("Authorization", token);
  req.headers.set("Cookie", "emporium_session=abc");
  req.headers.set("Content-Type", "application/json");
  req.headers.set("Accept", "application/json");
  req.headers.set("Idempotency-Key", "k-1");
  req.headers.set("Origin", "http://localhost:5173");
  req.headers.set("User-Agent", "unit-test");
  req.headers.set("Connection", "keep-alive");
  req.headers.set("X-Secret-Internal", "no");
  ASSERT_EQ(proxy(req).status, 200);
  ASSERT_EQ(upstream.calls.size(), 1u);
  const auto& opts = upstream.calls[0].options;
  EXPECT_EQ(opts.request_id, "req-1");
  EXPECT_EQ(opts.headers.get("Authorization").value_or(""), token);
  EXPECT_EQ(opts.headers.get("Cookie").value_or(""), "emporium_session=abc");
  EXPECT_EQ(opts.headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(opts.headers.get("Accept").value_or(""), "application/json");
  EXPECT_EQ(opts.headers.get("Idempotency-Key").value_or(""), "k-1");
  EXPECT_EQ(opts.headers.get("Origin").value_or(""), "http://localhost:5173");
  EXPECT_EQ(opts.headers.get("User-Agent").value_or(""), "unit-test");
  EXPECT_EQ(opts.headers.get("X-Forwarded-For").value_or(""), "203.0.113.7");
  EXPECT_FALSE(opts.headers.has("Connection"));
  EXPECT_FALSE(opts.headers.has("X-Secret-Internal"));
  EXPECT_EQ(opts.headers.fields().size(), 8u);
}

TEST_F(GatewayProxy, AnEarlierXForwardedForIsExtendedWithThePeer) {
  auto req = request("GET", "/api/products");
  req.headers.set("X-Forwarded-For", "198.51.100.1");
  ASSERT_EQ(proxy(req).status, 200);
  ASSERT_EQ(upstream.calls.size(), 1u);
  EXPECT_EQ(upstream.calls[0].options.headers.get("X-Forwarded-For").value_or(""),
            "198.51.100.1, 203.0.113.7");
}

TEST_F(GatewayProxy, TheAnswerKeepsItsHeadersButNotTheHopByHopOnes) {
  upstream.answer.status = 404;
  upstream.answer.body = R"({"error":"Product not found"})";
  upstream.answer.headers.set("Content-Type", "application/problem+json");
  upstream.answer.headers.add("Set-Cookie", "a=1");
  upstream.answer.headers.add("Set-Cookie", "b=2");
  upstream.answer.headers.set("ETag", "\"v1\"");
  for (const char* h : {"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Date",
                        "TE", "Trailer", "Upgrade", "Proxy-Connection"}) {
    upstream.answer.headers.set(h, "x");
  }
  auto req = request("GET", "/api/products/missing");
  const auto res = proxy(req);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"Product not found"})");
  const std::vector<http::Headers::Field> expected = {{"Content-Type", "application/problem+json"},
                                                      {"Set-Cookie", "a=1"},
                                                      {"Set-Cookie", "b=2"},
                                                      {"ETag", "\"v1\""}};
  EXPECT_EQ(res.headers.fields(), expected);
}

TEST_F(GatewayProxy, AConnectFailureIs503WithRetryAfter) {
  upstream.failure = http::ClientError{http::ClientErrc::connect_failed, "refused"};
  auto req = request("GET", "/api/products");
  const auto res = proxy(req);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers.get("Retry-After").value_or(""), "1");
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/problem+json");
  const auto body = body_of(res);
  EXPECT_EQ(body.at("status").as_int64(), 503);
  EXPECT_EQ(body.at("title").as_string(), "Service Unavailable");
  EXPECT_EQ(body.at("error").as_string(), "The product service is unavailable");
  EXPECT_EQ(body.at("detail").as_string(), "The product service is unavailable");
  EXPECT_EQ(res.body.find("refused"), std::string::npos) << "the cause is not leaked";
}

TEST_F(GatewayProxy, AnOpenBreakerOrABrokenConnectionIs503Too) {
  for (auto code : {http::ClientErrc::circuit_open, http::ClientErrc::transport}) {
    upstream.failure = http::ClientError{code, "x"};
    auto req = request("GET", "/api/products");
    const auto res = proxy(req);
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(body_of(res).at("error").as_string(), "The product service is unavailable");
    EXPECT_EQ(res.headers.get("Retry-After").value_or(""), "1");
  }
}

TEST_F(GatewayProxy, ATimeoutIs504WithRetryAfter) {
  upstream.failure = http::ClientError{http::ClientErrc::timeout, "deadline"};
  auto req = request("GET", "/api/products");
  const auto res = proxy(req);
  EXPECT_EQ(res.status, 504);
  EXPECT_EQ(res.headers.get("Retry-After").value_or(""), "1");
  const auto body = body_of(res);
  EXPECT_EQ(body.at("title").as_string(), "Gateway Timeout");
  EXPECT_EQ(body.at("error").as_string(), "The product service is not answering in time");
}

TEST(GatewayErrors, EachCodesStatusAndText) {
  EXPECT_EQ(spec(Error::upstream_unavailable).status, 503);
  EXPECT_EQ(spec(Error::upstream_unavailable).error, "unavailable");
  EXPECT_EQ(spec(Error::upstream_timeout).status, 504);
  EXPECT_EQ(spec(Error::upstream_timeout).error, "not answering in time");
  const auto res = http::problem(http::Failure<Error>{.code = Error::upstream_timeout});
  EXPECT_EQ(res.status, 504);
  EXPECT_EQ(body_of(res).at("error").as_string(), "not answering in time");
}

}  // namespace
}  // namespace emporium::gateway::testing
