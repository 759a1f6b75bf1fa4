#pragma once

#include <chrono>

#include "http/message.hpp"
#include "http/problem.hpp"

namespace emporium::user {

// Every expected failure the user service answers.
enum class Error {
  email_taken,             // 409: register with an email already registered
  bad_credentials,         // 401: unknown email or wrong password at login
  refresh_unknown,         // 401: a refresh token never issued (or its user gone)
  refresh_expired,         // 401: a refresh token past its expiry
  refresh_reused,          // 401: a refresh token used twice; its family is revoked
  user_not_found,          // 404: no user with that id
  wrong_current_password,  // 403: a password change with the wrong current password
  hashing_busy,            // 503: every password-hashing slot stayed busy
  sign_in_backed_off,      // 429: too many failed sign-ins for the account; wait and retry
};

// The one table: code -> status, title (empty: the status's reason phrase)
// and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

// The problem+json answer for `code`. hashing_busy is answered as any
// transient failure: 503 "Service temporarily unavailable" with Retry-After: 1.
http::Response answer(Error code);

// The 429 for an account backed off for `wait` more (Retry-After in whole
// seconds, rounded up).
http::Response backed_off(std::chrono::milliseconds wait);

}  // namespace emporium::user
