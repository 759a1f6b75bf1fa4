#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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
  bool is_admin() const noexcept { return role == kRoleAdmin; }
  bool is_service() const noexcept { return role == kRoleService; }
  // True when this identity may act on the resources of `user_id`.
  bool may_act_for(std::string_view user_id) const noexcept {
    return is_admin() || subject == user_id;
  }
};

struct TokenSettings {
  std::string secret;  // HS256 key
  std::string issuer = "emporium";
  std::string audience = "emporium";
  std::string internal_audience = "emporium-internal";  // service-to-service tokens
  std::chrono::seconds access_ttl{900};
  std::chrono::seconds leeway{30};
};

enum class TokenError { missing, expired, invalid };

// Why a request's credential was refused.
enum class AuthError {
  missing,        // no token: "No authorization header"
  expired,        // "Token expired", with WWW-Authenticate error="invalid_token"
  invalid,        // "Invalid token"
  not_a_service,  // an internal route without a service credential
};

// The 401 answer for a refused credential.
http::Response unauthorized(AuthError error);

// Issues and verifies HS256 JWTs (libjwt). Verification checks the signature,
// that alg is exactly HS256, exp (with leeway), nbf/iat not in the future,
// iss, aud, and that sub, role and jti are present.
class Tokens {
 public:
  explicit Tokens(TokenSettings settings);

  // Claims sub, role, iat, exp, iss, aud, jti.
  std::string issue(std::string_view subject, std::string_view role, std::chrono::seconds ttl,
                    std::string_view audience) const;
  std::string issue_access(std::string_view subject, std::string_view role) const {
    return issue(subject, role, settings_.access_ttl, settings_.audience);
  }
  // A short-lived token a service presents to another service's internal API.
  std::string issue_service(std::string_view service_name) const;

  core::Result<Identity, TokenError> verify(std::string_view token,
                                            std::string_view audience) const;

  const TokenSettings& settings() const noexcept { return settings_; }

 private:
  TokenSettings settings_;
};

// The value of the cookie `name` in the request's Cookie header, if sent.
std::optional<std::string> cookie(const http::Request& req, std::string_view name);

// The bearer token from `Authorization: Bearer …`, else the session cookie.
std::optional<std::string> token_from(const http::Request& req);

// Authenticates an end-user request: missing, expired or invalid (a
// service's token included) otherwise; unauthorized() answers each.
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
