#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "auth/auth.hpp"

namespace emporium::auth {
namespace {

template <class R>
bool ok(const R& r) {
  return r.ok();
}
template <class R>
auto error_of(const R& r) {
  return r.error();
}

TokenSettings settings(std::string secret = "unit-test-secret-unit-test-secret!!") {
  TokenSettings s;
  s.secret = std::move(secret);
  return s;
}

TEST(Tokens, IssuedAccessTokenVerifiesWithItsClaims) {
  Tokens t(settings());
  auto v = t.verify(t.issue_access("user-1", "customer", "sid-1"), "emporium");
  ASSERT_TRUE(v.ok());
  const auto& id = *v;
  EXPECT_EQ(id.subject, "user-1");
  EXPECT_EQ(id.role, "customer");
  EXPECT_EQ(id.jti.size(), 32U);
  EXPECT_FALSE(id.is_admin());
  EXPECT_TRUE(id.may_act_for("user-1"));
  EXPECT_FALSE(id.may_act_for("user-2"));
}

TEST(Tokens, ExpiredBeyondLeewayIsExpiredWithinLeewayIsValid) {
  Tokens t(settings());
  EXPECT_EQ(
      error_of(t.verify(t.issue("u", "customer", std::chrono::seconds(-31), "emporium", "sid-1"),
                        "emporium")),
      TokenError::expired);
  EXPECT_TRUE(ok(t.verify(t.issue("u", "customer", std::chrono::seconds(-5), "emporium", "sid-1"),
                          "emporium")));
}

// A token verified once is remembered; presented again it still expires on
// time, keeps its audience, and a token of other bytes is checked in full.
TEST(Tokens, ARememberedTokenStillExpiresAndKeepsItsAudience) {
  auto s = settings();
  s.leeway = std::chrono::seconds(0);
  Tokens t(s);
  const auto token = t.issue("u", "customer", std::chrono::seconds(1), "emporium", "sid-1");
  ASSERT_TRUE(ok(t.verify(token, "emporium")));
  ASSERT_TRUE(ok(t.verify(token, "emporium")));
  EXPECT_EQ(error_of(t.verify(token, "emporium-internal")), TokenError::invalid);
  ASSERT_TRUE(ok(t.verify(token, "emporium")));
  std::string forged = token;
  auto& c = forged[forged.size() - 5];  // in the signature, not its padding bits
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_of(t.verify(forged, "emporium")), TokenError::invalid);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(error_of(t.verify(token, "emporium")), TokenError::expired);
  // Verified by another Tokens with another key: no memory is shared.
  Tokens other(settings("another-unit-test-secret-another!!"));
  EXPECT_EQ(error_of(other.verify(token, "emporium")), TokenError::invalid);
}

TEST(Tokens, WrongKeyAudienceIssuerOrShapeIsInvalid) {
  Tokens t(settings());
  Tokens other(settings("another-secret-another-secret-12345"));
  EXPECT_EQ(error_of(t.verify(other.issue_access("u", "admin", "sid-1"), "emporium")),
            TokenError::invalid);
  EXPECT_EQ(
      error_of(t.verify(t.issue("u", "customer", std::chrono::seconds(60), "elsewhere", "sid-1"),
                        "emporium")),
      TokenError::invalid);
  auto s = settings();
  s.issuer = "someone-else";
  Tokens foreign(s);
  EXPECT_EQ(error_of(t.verify(foreign.issue_access("u", "customer", "sid-1"), "emporium")),
            TokenError::invalid);
  for (const std::string& bad :
       std::vector<std::string>{"", "a.b.c", "not-a-token", std::string(5000, 'a')}) {
    EXPECT_EQ(error_of(t.verify(bad, "emporium")), TokenError::invalid) << bad;
  }
}

TEST(Tokens, AlgNoneIsRefused) {
  Tokens t(settings());
  const auto real = t.issue_access("u", "admin", "sid-1");
  const auto dot = real.find('.');
  const auto payload = real.substr(dot + 1, real.rfind('.') - dot - 1);
  // {"alg":"none","typ":"JWT"}
  const std::string forged = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".";
  EXPECT_EQ(error_of(t.verify(forged, "emporium")), TokenError::invalid);
}

TEST(Tokens, ServiceTokensAreForTheInternalAudienceOnly) {
  Tokens t(settings());
  const auto svc = t.issue_service("order");
  EXPECT_TRUE(!ok(t.verify(svc, "emporium")));
  auto v = t.verify(svc, "emporium-internal");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_service());

  http::Request req;
  req.headers.set("Authorization", "Bearer " + svc);
  EXPECT_TRUE(ok(authenticate_service(req, t)));
  req.headers.set("Authorization", "Bearer " + t.issue_access("u", "admin", "sid-1"));
  EXPECT_TRUE(!ok(authenticate_service(req, t)));
}

TEST(Tokens, TokenComesFromBearerHeaderOrSessionCookie) {
  http::Request req;
  EXPECT_FALSE(token_from(req));
  req.headers.set("Cookie", "theme=dark; emporium_session=abc.def.ghi; other=1");
  EXPECT_EQ(token_from(req), "abc.def.ghi");
  req.headers.set("Authorization", "bearer xyz");
  EXPECT_EQ(token_from(req), "xyz");
  req.headers.set("Authorization", "Basic xyz");
  EXPECT_EQ(token_from(req), "");
}

TEST(Passwords, Argon2idHashesVerifyAndAreSalted) {
  const auto a = hash_password("correct horse");
  const auto b = hash_password("correct horse");
  EXPECT_EQ(a.rfind("$argon2id$", 0), 0U) << a;
  EXPECT_NE(a.find("m=19456,t=2,p=1"), std::string::npos) << a;
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password(a, "correct horse"));
  EXPECT_FALSE(verify_password(a, "wrong horse"));
  EXPECT_FALSE(verify_password("not-a-hash", "correct horse"));
}

}  // namespace
}  // namespace emporium::auth
