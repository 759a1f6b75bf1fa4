#include "limit/gcra.hpp"

#include <gtest/gtest.h>

#include "limit/edge.hpp"
#include "limit/proxies.hpp"

namespace emporium::limit {
namespace {

using std::chrono::milliseconds;

TEST(RatePolicy, ParsesCountSlashDurationOrOff) {
  auto p = parse_policy("20/1m");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->limit, 20);
  EXPECT_EQ(p->period, milliseconds(60'000));
  EXPECT_TRUE(parse_policy("off")->off());
  for (const char* bad : {"", "20", "/1m", "0/1m", "-1/1m", "20/", "20/0s", "x/1m", "20/1 m"}) {
    EXPECT_FALSE(parse_policy(bad)) << bad;
  }
}

TEST(Gcra, AdmitsTheWholeQuotaAtOnceThenOneRequestPerInterval) {
  const Policy p{.limit = 4, .period = milliseconds(4'000)};
  std::int64_t tat = 0;
  const std::int64_t t0 = 10'000'000;
  for (int i = 0; i < 4; ++i) {
    auto d = gcra(p, tat, t0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 3 - i);
  }
  auto refused = gcra(p, tat, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(1'000));
  EXPECT_FALSE(gcra(p, tat, t0 + 999'000).allowed);
  auto later = gcra(p, tat, t0 + 1'000'000);
  EXPECT_TRUE(later.allowed) << "one interval later, one more request";
  EXPECT_EQ(later.remaining, 0);
}

TEST(LocalLimiter, ChargesEveryKeyOnlyWhenAllAdmit) {
  LocalLimiter l;
  const Policy p{.limit = 2, .period = milliseconds(60'000)};
  EXPECT_TRUE(l.check({"addr"}, p).allowed);
  EXPECT_TRUE(l.check({"addr", "user"}, p).allowed);
  EXPECT_FALSE(l.check({"addr", "user"}, p).allowed) << "the address is spent";
  EXPECT_TRUE(l.check({"other", "user"}, p).allowed) << "the refusal did not charge the user";
  EXPECT_FALSE(l.check({"third", "user"}, p).allowed) << "now the user is spent";
}

TEST(RateLimitFields, FollowTheDraftSyntax) {
  http::Headers h;
  rate_limit_fields("sign_in", Policy{.limit = 20, .period = milliseconds(60'000)},
                    Decision{.allowed = false, .remaining = 0, .retry_after = milliseconds(2'500)},
                    h);
  EXPECT_EQ(h.get("RateLimit-Policy"), R"("sign_in";q=20;w=60)");
  EXPECT_EQ(h.get("RateLimit"), R"("sign_in";r=0;t=3)");
  auto res =
      too_many_requests("sign_in", Decision{.allowed = false, .retry_after = milliseconds(2'500)});
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.headers.get("Retry-After"), "3");
  EXPECT_EQ(res.headers.get("Content-Type"), "application/problem+json");
}

Address ip(const char* s) {
  return *parse_address(s);
}

TEST(TrustedProxies, ParseCidrsAndMatch) {
  auto c = parse_cidr("10.0.0.0/16");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(ip("10.0.255.1")));
  EXPECT_FALSE(c->contains(ip("10.1.0.1")));
  EXPECT_TRUE(parse_cidr("fd00::/8")->contains(ip("fd12::1")));
  EXPECT_FALSE(parse_cidr("fd00::/8")->contains(ip("10.0.0.1")));
  EXPECT_TRUE(parse_cidr("127.0.0.2")->contains(ip("::ffff:127.0.0.2"))) << "IPv4-mapped";
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "x", "10.0.0.0/", "::/129"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
}

TEST(TrustedProxies, TheRightMostUntrustedForwardedAddressIsTheClient) {
  const auto trusted = std::vector<Cidr>{*parse_cidr("10.0.0.0/8")};
  http::Headers h;
  h.add("X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.0.0.7");
  EXPECT_EQ(client_address("10.0.0.5:4000", h, trusted)->text(), "203.0.113.9");
  EXPECT_EQ(client_address("192.0.2.1:4000", h, trusted)->text(), "192.0.2.1")
      << "an untrusted peer's header is ignored";
  http::Headers all_trusted;
  all_trusted.add("X-Forwarded-For", "10.0.0.9");
  EXPECT_EQ(client_address("10.0.0.5:1", all_trusted, trusted)->text(), "10.0.0.9");
  http::Headers garbage;
  garbage.add("X-Forwarded-For", "203.0.113.9, not-an-ip");
  EXPECT_EQ(client_address("10.0.0.5:1", garbage, trusted)->text(), "10.0.0.5");
  EXPECT_FALSE(client_address("in-process", h, trusted));
}

}  // namespace
}  // namespace emporium::limit
