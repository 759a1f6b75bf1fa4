#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "auth/auth.hpp"
#include "http/message.hpp"
#include "user/domain.hpp"
#include "user/passwords.hpp"
#include "user/sessions.hpp"
#include "user/store.hpp"
#include "user/throttle.hpp"

namespace emporium::user {

struct Settings {
  std::chrono::seconds refresh_ttl{0};  // lifetime of a refresh token
  bool cookie_secure = false;           // the session cookie's Secure attribute
  // mode=production: registration answers alike whether or not the email
  // has an account (202 kAcceptedMessage); the owner is emailed instead.
  bool conceal_accounts = false;
};

// The body of registration's answer when accounts are concealed.
inline constexpr std::string_view kAcceptedMessage =
    "Thank you. We have sent a message to this address: check your inbox.";

// The user service's endpoints: request (+ identity, + typed input) ->
// response. Expected failures are answered from the error table (errors.hpp).
class Handlers {
 public:
  // `events_written` is called after a commit that added outbox events;
  // `throttle`, when given, backs accounts off after failed sign-ins.
  Handlers(Store& store, Passwords& passwords, const auth::Tokens& tokens, Sessions& sessions,
           Settings settings, std::function<void()> events_written, Throttle* throttle = nullptr)
      : store_(store),
        passwords_(passwords),
        tokens_(tokens),
        sessions_(sessions),
        settings_(settings),
        events_written_(std::move(events_written)),
        throttle_(throttle) {}

  // POST /api/users/register: 201 {id,email,name} + Location; emits
  // user.registered; 409 email_taken. With conceal_accounts: 202
  // {"message"} for a new email and for a registered one alike (the
  // password is hashed either way); a registered one emits
  // user.registration_attempted to its owner and changes nothing.
  http::Response register_user(http::Request& req, RegisterInput in);
  // POST /api/users/login: 200 a session (tokens, user, session cookie);
  // 401 bad_credentials; 429 sign_in_backed_off (with Retry-After) while the
  // account backs off, before any password is checked.
  http::Response login(http::Request& req, const LoginInput& in);
  // POST /api/users/refresh: a new access token (the role read from the
  // account now) with the next token of the family; 401 refresh_unknown /
  // refresh_expired / refresh_reused (which revokes the family and its
  // access tokens). With the refresh cookie (no token in the body) the
  // request must pass auth::cookie_write_refused (415 / 403).
  http::Response refresh(http::Request& req, const RefreshInput& in);
  // POST /api/users/logout: revokes the token's family (and its access
  // tokens) when given, clears the cookies; 200, or 415 / 403 as refresh.
  http::Response logout(http::Request& req, const LogoutInput& in);
  // GET /api/users/profile: the signed-in user; 404 user_not_found.
  http::Response profile(http::Request& req, const auth::Identity& who);
  // PUT /api/users/profile: a new name and/or password (the current one
  // must match: 403 wrong_current_password); 404 user_not_found. A new
  // password ends every session of the user (access tokens included); the
  // answer sets the cookies of a new session for the caller.
  http::Response update_profile(http::Request& req, const auth::Identity& who, ProfileUpdate in);
  // GET /api/users (admin): a page of users, newest first.
  http::Response list(http::Request& req, const auth::Identity& who);
  // PUT /api/users/{id}/role (admin): the updated user; 404 user_not_found.
  // Revokes the user's access tokens: the next refresh issues the new role.
  http::Response set_role(http::Request& req, const auth::Identity& who, RoleInput in);
  // GET /internal/users/{id} (services): {id,email,name}; 404 user_not_found.
  http::Response internal_user(http::Request& req);
  // GET /internal/sessions/revoked?since=<cursor> (services): the live
  // revocations since the cursor, {"revocations":[{sid,expiresAt}],"cursor"};
  // 400 for a cursor that is not an integer.
  http::Response internal_revocations(http::Request& req);

 private:
  http::Response fail(const http::Request& req, Error code) const;
  http::Response issue_session(const User& u, const std::string& refresh_token,
                               const std::string& sid);
  // The refresh token a request carries: the body's, else the cookie's
  // (then the request must pass auth::cookie_write_refused).
  core::Result<std::optional<std::string>, auth::AuthError> refresh_token_of(
      const http::Request& req, const std::optional<std::string>& in_body) const;
  std::int64_t refresh_expiry() const;
  http::Response registered(const User& u) const;
  void tell_owner(const std::string& email);

  Store& store_;
  Passwords& passwords_;
  const auth::Tokens& tokens_;
  Sessions& sessions_;
  Settings settings_;
  std::function<void()> events_written_;
  Throttle* throttle_;
};

}  // namespace emporium::user
