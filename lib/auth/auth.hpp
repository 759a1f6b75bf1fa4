#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/revocations.hpp"
#include "core/result.hpp"
#include "http/message.hpp"

namespace emporium::auth {

inline constexpr std::string_view kSessionCookie = "emporium_session";
// The refresh token for browsers (HttpOnly, sent only to /api/users).
inline constexpr std::string_view kRefreshCookie = "emporium_refresh";
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleCustomer = "customer";
inline constexpr std::string_view kRoleService = "service";

// Who made a request, from a verified token.
struct Identity {
  std::string subject;  // user id, or "svc:<name>" for a service
  std::string role;     // "customer", "admin" or "service"
  std::string jti;
  std::string sid{};  // the session (refresh-token family); empty for a service
  bool is_admin() const noexcept { return role == kRoleAdmin; }
  bool is_service() const noexcept { return role == kRoleService; }
  // True when this identity may act on the resources of `user_id`.
  bool may_act_for(std::string_view user_id) const noexcept {
    return is_admin() || subject == user_id;
  }
};

struct TokenSettings {
  std::string secret;  // HS256 key that signs; tokens name it by kid (key_id)
  // The key before the last rotation: tokens it signed (and that name it by
  // kid) still verify. Empty: none.
  std::string previous_secret{};
  std::string issuer = "emporium";
  std::string audience = "emporium";
  std::string internal_audience = "emporium-internal";  // service-to-service tokens
  std::chrono::seconds access_ttl{900};
  std::chrono::seconds leeway{30};
  // Origins other than the request's own (Host / X-Forwarded-Host) that may
  // send cookie-authenticated writes: cors_origins ("*" is not honoured here).
  std::vector<std::string> allowed_origins{};
};

// The `kid` of tokens signed with `secret`: 16 hex characters of a SHA-256
// of it (names the key without revealing it).
std::string key_id(std::string_view secret);

enum class TokenError { missing, expired, invalid };

// Why a request's credential was refused.
enum class AuthError {
  missing,         // no token: "No authorization header"
  expired,         // "Token expired", with WWW-Authenticate error="invalid_token"
  invalid,         // "Invalid token"
  not_a_service,   // an internal route without a service credential
  revoked,         // a token of a revoked session: "Session revoked" (401)
  not_json,        // a cookie-authenticated write without Content-Type: application/json (415)
  foreign_origin,  // a cookie-authenticated write from an Origin not allowed (403)
};

// The answer for a refused credential: 401 (with WWW-Authenticate), or 415 /
// 403 problem+json for a cookie-authenticated write refused as cross-site.
http::Response unauthorized(AuthError error);

// Issues and verifies HS256 JWTs (libjwt). Tokens carry the header `kid`
// (key_id of the signing secret). Verification checks the signature with the
// key the kid names (the current or the previous secret; any other kid, or
// none, is invalid), that alg is exactly HS256, exp (with leeway), nbf/iat
// not in the future, iss, aud, that sub, role and jti are present, and, for
// every token but a service's, sid.
//
// Holds the process's Denylist of revoked sessions (shared state, not part
// of the value: reachable through a const Tokens, as every verifier has one).
//
// A token that verified is remembered (its exact bytes and audience, up to
// 10,000 tokens; full, the memory starts over): presented again, as by every
// request of a signed-in client and every in-process service call, it skips
// the decode and the HMAC, and only its expiry is checked again. Revocation
// is never remembered: authenticate() asks the denylist each time.
class VerifiedTokens;
class Tokens {
 public:
  explicit Tokens(TokenSettings settings);
  ~Tokens();
  Tokens(Tokens&&) noexcept;
  Tokens& operator=(Tokens&&) noexcept;

  // Claims sub, role, iat, exp, iss, aud, jti, and sid when not empty.
  std::string issue(std::string_view subject, std::string_view role, std::chrono::seconds ttl,
                    std::string_view audience, std::string_view sid = {}) const;
  // An access token of the session `sid` (a refresh-token family).
  std::string issue_access(std::string_view subject, std::string_view role,
                           std::string_view sid) const {
    return issue(subject, role, settings_.access_ttl, settings_.audience, sid);
  }
  // A short-lived token a service presents to another service's internal API.
  std::string issue_service(std::string_view service_name) const;

  core::Result<Identity, TokenError> verify(std::string_view token,
                                            std::string_view audience) const;

  const TokenSettings& settings() const noexcept { return settings_; }
  // The revoked sessions authenticate() refuses.
  Denylist& denylist() const noexcept { return *denylist_; }
  // The revocation of `sid` now: until no access token of it can be valid.
  Revocation revocation(std::string sid) const;

 private:
  TokenSettings settings_;
  std::string kid_;
  std::string previous_kid_;
  std::unique_ptr<Denylist> denylist_;
  std::unique_ptr<VerifiedTokens> verified_;
};

// The value of the cookie `name` in the request's Cookie header, if sent.
std::optional<std::string> cookie(const http::Request& req, std::string_view name);

// The bearer token from `Authorization: Bearer …`, else the session cookie.
std::optional<std::string> token_from(const http::Request& req);

// For a write (POST, PUT, PATCH, DELETE) whose credential is a cookie: not_json
// unless it sends Content-Type: application/json, foreign_origin when it sends
// an Origin that is neither its own (the authority of Host or
// X-Forwarded-Host) nor one of settings.allowed_origins. nullopt otherwise.
std::optional<AuthError> cookie_write_refused(const http::Request& req,
                                              const TokenSettings& settings);

// Authenticates an end-user request: missing, expired, invalid (a service's
// token included), revoked (its sid is on the denylist), or, for a
// cookie-authenticated write, not_json / foreign_origin; unauthorized()
// answers each.
core::Result<Identity, AuthError> authenticate(const http::Request& req, const Tokens& tokens);

// Authenticates a service-to-service request (internal audience, role
// "service"); not_a_service otherwise (missing when there is no token).
core::Result<Identity, AuthError> authenticate_service(const http::Request& req,
                                                       const Tokens& tokens);

// Hashes a password with argon2id (t=2, m=19 MiB, p=1: OWASP's baseline).
// CPU- and memory-heavy: call only from blocking handlers.
std::string hash_password(std::string_view password);
bool verify_password(std::string_view encoded, std::string_view password);

// Set-Cookie values for the session cookie.
std::string session_cookie(std::string_view token, std::chrono::seconds max_age, bool secure);
std::string clear_session_cookie(bool secure);
// Set-Cookie values for the refresh cookie (Path=/api/users).
std::string refresh_cookie(std::string_view token, std::chrono::seconds max_age, bool secure);
std::string clear_refresh_cookie(bool secure);

}  // namespace emporium::auth
