// The edge's rate limits and the per-account sign-in backoff, against the
// real binary on loopback. Clients bind to 127.0.0.2, .3, ... so that
// per-address limits see distinct clients. The Redis tests run a private
// Redis server (scripts/local-services.sh, EMPORIUM_TEST_SERVICES_DIR) so
// that stopping it disturbs no other test.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <regex>
#include <thread>

#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string login_body(const std::string& email, const std::string& password) {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

int status_of(const std::optional<http::Response>& res) {
  return res ? res->status : -1;
}

std::string header(const std::optional<http::Response>& res, std::string_view name) {
  if (!res) {
    return "(no response)";
  }
  return std::string(res->headers.get(name).value_or("(none)"));
}

// A server process with its log and the port it listens on.
struct Serve {
  explicit Serve(std::vector<std::string> args, std::map<std::string, std::string> env = {})
      : dir(temp_dir()), process(with_defaults(std::move(args), dir), std::move(env)) {
    port = process.wait_listening(30s);
  }
  static std::vector<std::string> with_defaults(std::vector<std::string> args,
                                                const std::string& dir) {
    const bool storefront = std::any_of(args.begin(), args.end(), [](const std::string& a) {
      return a.starts_with("--storefront");
    });
    args.insert(args.begin(),
                {"serve", "--listen=127.0.0.1:0", "--data-dir=" + dir, "--log-level=info"});
    if (!storefront) {
      args.emplace_back("--storefront=false");
    }
    return args;
  }
  std::optional<http::Response> from(const std::string& source, const std::string& method,
                                     const std::string& target, const std::string& body = {},
                                     const std::vector<std::string>& headers = {}) {
    std::vector<std::string> h = headers;
    if (!body.empty()) {
      h.emplace_back("Content-Type: application/json");
    }
    return request_from(source, method, port, target, body, h);
  }
  double metric(const std::string& name) {
    auto res = request("GET", admin_port(port), "/metrics");
    if (!res) {
      return -1;
    }
    std::smatch m;
    const std::regex re("\n" + name + " ([0-9.e+]+)");
    return std::regex_search(res->body, m, re) ? std::stod(m[1]) : 0;
  }

  std::string dir;
  Process process;
  std::uint16_t port = 0;
};

// The seconds in `"sign_in";r=N;t=SECONDS`, or -1.
int reset_seconds(const std::string& field) {
  const auto at = field.rfind(";t=");
  return at == std::string::npos ? -1 : std::stoi(field.substr(at + 3));
}

TEST(RateLimit, PerAddressSignInLimitAnswers429WithHeadersThenRecovers) {
  // 3 per 30 s: one more every 10 s. Sign-ins take a while (argon2), so the
  // times are checked within the few seconds they may take.
  Serve shop({}, {{"EMPORIUM_RATE_LIMIT_SIGN_IN", "3/30s"}});
  // Distinct unknown emails: the per-account backoff stays out of the way.
  for (int i = 0; i < 3; ++i) {
    auto res = shop.from("127.0.0.2", "POST", "/api/users/login",
                         login_body("nobody" + std::to_string(i) + "@example.com", "password-x"));
    ASSERT_EQ(status_of(res), 401) << "attempt " << i << ": " << (res ? res->body : "");
    EXPECT_EQ(header(res, "RateLimit-Policy"), R"("sign_in";q=3;w=30)");
    const auto field = header(res, "RateLimit");
    EXPECT_TRUE(field.starts_with("\"sign_in\";r=" + std::to_string(2 - i) + ";t=")) << field;
    EXPECT_LE(reset_seconds(field), 10 * (i + 1)) << field;
    EXPECT_GE(reset_seconds(field), 10 * (i + 1) - 5) << field;
  }
  auto refused =
      shop.from("127.0.0.2", "POST", "/api/users/login", login_body("n9@example.com", "pw"));
  ASSERT_EQ(status_of(refused), 429) << (refused ? refused->body : "");
  EXPECT_EQ(header(refused, "Content-Type"), "application/problem+json");
  const int wait = std::stoi(header(refused, "Retry-After"));
  EXPECT_GE(wait, 5);
  EXPECT_LE(wait, 10);
  EXPECT_EQ(header(refused, "RateLimit"), "\"sign_in\";r=0;t=" + std::to_string(wait));
  EXPECT_EQ(json::parse(refused->body).at("status"), 429);

  EXPECT_EQ(status_of(shop.from("127.0.0.3", "POST", "/api/users/login",
                                login_body("n10@example.com", "pw"))),
            401)
      << "another address has its own quota";
  EXPECT_EQ(status_of(shop.from("127.0.0.2", "GET", "/api/products")), 200)
      << "the read class has its own quota";
  EXPECT_EQ(status_of(shop.from("127.0.0.2", "GET", "/healthz")), 200);

  std::this_thread::sleep_for(std::chrono::seconds(wait) + 200ms);
  EXPECT_EQ(status_of(shop.from("127.0.0.2", "POST", "/api/users/login",
                                login_body("n11@example.com", "pw"))),
            401)
      << "after Retry-After the address is served again";
  EXPECT_GE(shop.metric("emporium_rate_limit_rejected_total\\{class=\"sign_in\"\\}"), 1);
}

TEST(RateLimit, AnAccountBacksOffAndTheOwnerGetsInFromElsewhereAfterIt) {
  Serve shop({}, {{"EMPORIUM_SIGN_IN_BACKOFF_AFTER", "3"},
                  {"EMPORIUM_SIGN_IN_BACKOFF_BASE", "2s"},
                  {"EMPORIUM_SIGN_IN_BACKOFF_MAX", "8s"}});
  const std::string email = "owner@example.com";
  const std::string password = "owner-password-1";
  ASSERT_EQ(status_of(shop.from("127.0.0.5", "POST", "/api/users/register",
                                json::serialize(json::object{
                                    {"email", email}, {"password", password}, {"name", "O"}}))),
            201);
  auto attack = [&] {
    return shop.from("127.0.0.2", "POST", "/api/users/login", login_body(email, "guess-guess"));
  };
  auto owner = [&] {
    return shop.from("127.0.0.3", "POST", "/api/users/login", login_body(email, password));
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(status_of(attack()), 401) << "failure " << i;
  }
  auto held = attack();
  ASSERT_EQ(status_of(held), 429) << (held ? held->body : "");
  EXPECT_EQ(header(held, "Retry-After"), "2");
  EXPECT_EQ(status_of(owner()), 429) << "the account, not the address, backs off";

  std::this_thread::sleep_for(2100ms);
  ASSERT_EQ(status_of(attack()), 401) << "one more guess after the backoff";
  auto doubled = attack();
  ASSERT_EQ(status_of(doubled), 429);
  EXPECT_EQ(header(doubled, "Retry-After"), "4") << "each further failure doubles the backoff";

  std::this_thread::sleep_for(4100ms);
  auto in = owner();
  ASSERT_EQ(status_of(in), 200) << "the owner gets in from another address once it has passed";
  ASSERT_EQ(status_of(attack()), 401) << "a success clears the streak";
  ASSERT_EQ(status_of(owner()), 200);
}

TEST(RateLimit, XForwardedForIsBelievedOnlyFromATrustedProxy) {
  Serve shop({"--trusted-proxies=127.0.0.2/32"}, {{"EMPORIUM_RATE_LIMIT_READ", "2/1m"}});
  auto via = [&](const std::string& peer, const std::string& xff) {
    return status_of(shop.from(peer, "GET", "/api/products", {}, {"X-Forwarded-For: " + xff}));
  };
  EXPECT_EQ(via("127.0.0.2", "203.0.113.9"), 200);
  EXPECT_EQ(via("127.0.0.2", "203.0.113.9"), 200);
  EXPECT_EQ(via("127.0.0.2", "203.0.113.9"), 429) << "the forwarded client is limited";
  EXPECT_EQ(via("127.0.0.2", "1.2.3.4, 203.0.113.9"), 429)
      << "the right-most untrusted address counts, not a spoofed left one";
  EXPECT_EQ(via("127.0.0.2", "203.0.113.10"), 200) << "another client behind the proxy";

  EXPECT_EQ(via("127.0.0.3", "198.51.100.1"), 200);
  EXPECT_EQ(via("127.0.0.3", "198.51.100.2"), 200);
  EXPECT_EQ(via("127.0.0.3", "198.51.100.3"), 429)
      << "an untrusted peer's X-Forwarded-For is ignored: it is one client";
}

// A product service and two gateways in front of it sharing a Redis server.
struct Replicas {
  explicit Replicas(const std::string& redis_url, const std::string& extra = "--storefront=false")
      : product({"--services=product"}),
        a(gateway(redis_url, extra), limits()),
        b(gateway(redis_url, extra), limits()) {}
  std::vector<std::string> gateway(const std::string& redis_url, const std::string& extra) const {
    return {"--services=gateway", "--redis-url=" + redis_url,
            "--product-url=http://127.0.0.1:" + std::to_string(product.port), extra};
  }
  static std::map<std::string, std::string> limits() {
    // A generous deadline: on a loaded test machine 50 ms can pass unanswered.
    return {{"EMPORIUM_RATE_LIMIT_READ", "4/1m"}, {"EMPORIUM_RATE_LIMIT_REDIS_TIMEOUT", "1s"}};
  }
  Serve product;
  Serve a;
  Serve b;
};

// The gateway proxies on its I/O threads, where a check never waits for
// Redis: each replica decides in-process and charges Redis in the background,
// and refuses what Redis found over quota from then on. So the two replicas
// together admit the quota and at most one more each, not a quota each.
TEST(RateLimitRedis, TwoGatewaysShareOneQuotaAndFallBackWhenRedisStops) {
  auto redis = PrivateServer::redis();
  Replicas shop(redis->url());
  auto read = [](Serve& g, const std::string& from) {
    const int status = status_of(g.from(from, "GET", "/api/products"));
    std::this_thread::sleep_for(300ms);  // the background charge reaches Redis
    return status;
  };
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    const int status = read(i % 2 == 0 ? shop.a : shop.b, "127.0.0.2");
    ASSERT_TRUE(status == 200 || status == 429) << status;
    admitted += status == 200 ? 1 : 0;
  }
  EXPECT_GE(admitted, 4);
  EXPECT_LE(admitted, 6) << "a quota of 4 shared by two replicas, not 4 each";
  EXPECT_EQ(read(shop.a, "127.0.0.2"), 429);
  EXPECT_EQ(read(shop.b, "127.0.0.2"), 429);
  EXPECT_EQ(read(shop.b, "127.0.0.3"), 200) << "another address has its own quota";
  EXPECT_EQ(shop.a.metric("emporium_rate_limit_fallback_total"), 0);

  redis->run("stop");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(read(shop.a, "127.0.0.4"), 200) << i;
  }
  EXPECT_EQ(read(shop.a, "127.0.0.4"), 429) << "limited in-process while Redis is away";
  const std::string down = "rate limit store unavailable";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((shop.a.metric("emporium_rate_limit_fallback_total") < 1 ||
          shop.a.process.output().find(down) == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(shop.a.metric("emporium_rate_limit_fallback_total"), 1);
  const auto log = shop.a.process.output();
  const auto first = log.find(down);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(down, first + 1), std::string::npos) << "logged once per outage";
}

// The storefront's assets are served on the I/O threads, where a check never
// waits for Redis: the replica decides in-process and charges Redis in the
// background, and refuses what Redis found over quota from then on.
TEST(RateLimitRedis, ChecksOnTheIoThreadsAreSharedThroughBackgroundCharges) {
  auto redis = PrivateServer::redis();
  Replicas shop(redis->url(), "--storefront=true");
  auto page = [](Serve& g) { return status_of(g.from("127.0.0.6", "GET", "/")); };
  const int ok = page(shop.a);
  ASSERT_NE(ok, 429);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(page(shop.a), ok) << i;
  }
  EXPECT_EQ(page(shop.a), 429);
  std::this_thread::sleep_for(300ms);
  // B's own table would admit four; Redis knows the quota is spent.
  int admitted = 0;
  for (int i = 0; i < 4; ++i) {
    admitted += page(shop.b) == 429 ? 0 : 1;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_LE(admitted, 1) << "at most the one request admitted before Redis's answer came back";
  EXPECT_EQ(page(shop.b), 429);
  EXPECT_EQ(shop.b.metric("emporium_rate_limit_fallback_total"), 0);
}

}  // namespace
}  // namespace emporium::test
