#include "user/errors.hpp"

#include <algorithm>
#include <string>

namespace emporium::user {

const http::ErrorSpec& spec(Error code) noexcept {
  static constexpr http::ErrorSpec kEmailTaken{409, {}, "Email already registered"};
  static constexpr http::ErrorSpec kBadCredentials{401, {}, "Invalid credentials"};
  static constexpr http::ErrorSpec kRefreshUnknown{401, {}, "Invalid refresh token"};
  static constexpr http::ErrorSpec kRefreshExpired{401, {}, "Refresh token expired"};
  static constexpr http::ErrorSpec kRefreshReused{
      401, {}, "Refresh token reused; please sign in again"};
  static constexpr http::ErrorSpec kUserNotFound{404, {}, "User not found"};
  static constexpr http::ErrorSpec kWrongCurrentPassword{403, {}, "Current password is incorrect"};
  static constexpr http::ErrorSpec kHashingBusy{503, {}, "Service temporarily unavailable"};
  static constexpr http::ErrorSpec kBackedOff{
      429, {}, "Too many failed sign-ins for this account; try again later"};
  switch (code) {
    case Error::email_taken:
      return kEmailTaken;
    case Error::bad_credentials:
      return kBadCredentials;
    case Error::refresh_unknown:
      return kRefreshUnknown;
    case Error::refresh_expired:
      return kRefreshExpired;
    case Error::refresh_reused:
      return kRefreshReused;
    case Error::user_not_found:
      return kUserNotFound;
    case Error::wrong_current_password:
      return kWrongCurrentPassword;
    case Error::hashing_busy:
      return kHashingBusy;
    case Error::sign_in_backed_off:
      return kBackedOff;
  }
  return kHashingBusy;
}

http::Response answer(Error code) {
  auto res = http::problem(http::Failure<Error>{.code = code});
  if (code == Error::hashing_busy) {
    res.headers.set("Retry-After", "1");
  }
  return res;
}

http::Response backed_off(std::chrono::milliseconds wait) {
  auto res = http::problem(http::Failure<Error>{.code = Error::sign_in_backed_off});
  res.headers.set("Retry-After",
                  std::to_string(std::max<std::int64_t>((wait.count() + 999) / 1000, 1)));
  return res;
}

}  // namespace emporium::user
