// Revocable sessions, key rotation and cookie-authenticated writes, as
// lib/auth implements them (docs/sessions.md).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.hpp"
#include "core/ids.hpp"

namespace emporium::auth {
namespace {

const std::string kSecret = "unit-test-secret-unit-test-secret!!";
const std::string kOldSecret = "the-secret-before-the-rotation-0123";

TokenSettings settings(std::string secret = kSecret, std::string previous = {}) {
  TokenSettings s;
  s.secret = std::move(secret);
  s.previous_secret = std::move(previous);
  s.allowed_origins = {"https://admin.example"};
  return s;
}

std::string b64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (auto& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

// An HS256 token signed with `secret` whose header is `header` and payload
// that of `model` (a real token): what a forger holding the key could make.
std::string signed_with(const std::string& secret, const std::string& header,
                        const std::string& model) {
  const auto first = model.find('.');
  const auto payload = model.substr(first + 1, model.rfind('.') - first - 1);
  const std::string input = b64url(header) + "." + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

http::Request bearer(const std::string& token) {
  http::Request req;
  req.method = "GET";
  req.headers.set("Authorization", "Bearer " + token);
  return req;
}

TEST(AuthSessions, AccessTokensCarryTheSessionAndItsRevocationIsRefused) {
  Tokens t(settings());
  const auto token = t.issue_access("u1", "customer", "family-1");
  auto who = authenticate(bearer(token), t);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->sid, "family-1");

  t.denylist().revoke(t.revocation("family-1"));
  auto after = authenticate(bearer(token), t);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error(), AuthError::revoked);
  const auto res = unauthorized(after.error());
  EXPECT_EQ(res.status, 401);
  EXPECT_NE(res.headers.get("WWW-Authenticate")->find("session revoked"), std::string::npos);
  // Another session of the same user is untouched.
  EXPECT_TRUE(authenticate(bearer(t.issue_access("u1", "customer", "family-2")), t).ok());
}

TEST(AuthSessions, DenylistEntriesExpire) {
  Denylist d;
  d.revoke(Revocation{"gone", core::unix_seconds() - 1});
  d.revoke(Revocation{"live", core::unix_seconds() + 60});
  EXPECT_FALSE(d.revoked("gone"));
  EXPECT_TRUE(d.revoked("live"));
  EXPECT_FALSE(d.revoked(""));
  EXPECT_EQ(d.size(), 1U);
}

TEST(AuthSessions, TokensWithoutASessionAreRefusedButServiceTokensNeedNone) {
  Tokens t(settings());
  const auto old = t.issue("u1", "customer", std::chrono::seconds(60), "emporium");
  EXPECT_EQ(authenticate(bearer(old), t).error(), AuthError::invalid);
  EXPECT_TRUE(authenticate_service(bearer(t.issue_service("order")), t).ok());
}

TEST(AuthKeys, TokensNameTheirKeyAndThePreviousKeyStillVerifies) {
  Tokens before(settings(kOldSecret));
  const auto old_token = before.issue_access("u1", "customer", "s1");
  const auto header = old_token.substr(0, old_token.find('.'));
  EXPECT_EQ(key_id(kOldSecret).size(), 16U);
  EXPECT_NE(key_id(kOldSecret), key_id(kSecret));

  Tokens rotated(settings(kSecret, kOldSecret));
  EXPECT_TRUE(authenticate(bearer(old_token), rotated).ok());
  EXPECT_TRUE(authenticate(bearer(rotated.issue_access("u1", "customer", "s1")), rotated).ok());
  // Once the previous key is dropped, its tokens stop verifying.
  Tokens later(settings(kSecret));
  EXPECT_EQ(authenticate(bearer(old_token), later).error(), AuthError::invalid);
  // New tokens are not signed with the old key: the old process refuses them.
  EXPECT_FALSE(authenticate(bearer(rotated.issue_access("u1", "customer", "s1")), before).ok());
}

TEST(AuthKeys, AnUnknownOrMissingKidIsRefusedEvenWithAValidSignature) {
  Tokens t(settings(kSecret, kOldSecret));
  const auto model = t.issue_access("u1", "admin", "s1");
  const auto good = signed_with(
      kSecret, R"({"alg":"HS256","typ":"JWT","kid":")" + key_id(kSecret) + "\"}", model);
  EXPECT_TRUE(authenticate(bearer(good), t).ok()) << "the forging helper must match the real one";
  EXPECT_EQ(
      authenticate(
          bearer(signed_with(kSecret, R"({"alg":"HS256","typ":"JWT","kid":"0000"})", model)), t)
          .error(),
      AuthError::invalid);
  EXPECT_EQ(authenticate(bearer(signed_with(kSecret, R"({"alg":"HS256","typ":"JWT"})", model)), t)
                .error(),
            AuthError::invalid);
  // The previous key's kid on a token the current key signed: the kid names the key.
  EXPECT_EQ(authenticate(
                bearer(signed_with(
                    kSecret, R"({"alg":"HS256","typ":"JWT","kid":")" + key_id(kOldSecret) + "\"}",
                    model)),
                t)
                .error(),
            AuthError::invalid);
  // A token from a key nobody configured.
  Tokens stranger(settings("a-key-nobody-configured-0123456789"));
  EXPECT_EQ(authenticate(bearer(stranger.issue_access("u1", "admin", "s1")), t).error(),
            AuthError::invalid);
}

http::Request cookie_write(const std::string& token, std::string method = "POST") {
  http::Request req;
  req.method = std::move(method);
  req.headers.set("Host", "shop.example:8080");
  req.headers.set("Cookie", "emporium_session=" + token);
  req.headers.set("Content-Type", "application/json");
  return req;
}

TEST(AuthCookieWrites, NeedJsonAndAnAllowedOrigin) {
  Tokens t(settings());
  const auto token = t.issue_access("u1", "customer", "s1");
  auto req = cookie_write(token);
  EXPECT_TRUE(authenticate(req, t).ok());
  req.headers.set("Content-Type", "Application/JSON; charset=utf-8");
  EXPECT_TRUE(authenticate(req, t).ok());
  req.headers.set("Origin", "http://shop.example:8080");
  EXPECT_TRUE(authenticate(req, t).ok());
  req.headers.set("Origin", "https://admin.example");  // in cors_origins
  EXPECT_TRUE(authenticate(req, t).ok());

  for (std::string type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx", ""}) {
    auto r = cookie_write(token, "PUT");
    r.headers.set("Content-Type", type);
    EXPECT_EQ(authenticate(r, t).error(), AuthError::not_json) << type;
  }
  auto untyped = cookie_write(token, "DELETE");
  untyped.headers.remove("Content-Type");
  EXPECT_EQ(authenticate(untyped, t).error(), AuthError::not_json);
  EXPECT_EQ(unauthorized(AuthError::not_json).status, 415);

  for (std::string origin : {"https://evil.example", "null", "http://shop.example:8081",
                             "http://shop.example:8080.evil.example", "shop.example:8080"}) {
    auto r = cookie_write(token, "PATCH");
    r.headers.set("Origin", origin);
    EXPECT_EQ(authenticate(r, t).error(), AuthError::foreign_origin) << origin;
  }
  EXPECT_EQ(unauthorized(AuthError::foreign_origin).status, 403);

  // Behind the gateway the service sees the edge's host in X-Forwarded-Host.
  auto proxied = cookie_write(token);
  proxied.headers.set("Host", "127.0.0.1:3003");
  proxied.headers.set("X-Forwarded-Host", "shop.example:8080");
  proxied.headers.set("Origin", "http://shop.example:8080");
  EXPECT_TRUE(authenticate(proxied, t).ok());
}

TEST(AuthCookieWrites, ReadsAndBearerClientsAreUnaffected) {
  Tokens t(settings());
  const auto token = t.issue_access("u1", "customer", "s1");
  auto read = cookie_write(token, "GET");
  read.headers.set("Content-Type", "text/plain");
  read.headers.set("Origin", "https://evil.example");
  EXPECT_TRUE(authenticate(read, t).ok());

  auto api = bearer(token);
  api.method = "POST";
  api.headers.set("Content-Type", "text/plain");
  api.headers.set("Origin", "https://evil.example");
  EXPECT_TRUE(authenticate(api, t).ok());
}

TEST(AuthCookieWrites, AStarInCorsOriginsDoesNotOpenCookieWrites) {
  auto s = settings();
  s.allowed_origins = {"*"};
  Tokens t(s);
  auto req = cookie_write(t.issue_access("u1", "customer", "s1"));
  req.headers.set("Origin", "https://evil.example");
  EXPECT_EQ(authenticate(req, t).error(), AuthError::foreign_origin);
}

}  // namespace
}  // namespace emporium::auth
