#include "user/errors.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace emporium::user {
namespace {

namespace json = boost::json;

struct Expected {
  Error code;
  int status;
  std::string_view title;
  std::string_view error;
};

TEST(UserErrors, EachCodeReachesTheClientWithItsStatusAndText) {
  const Expected table[] = {
      {Error::email_taken, 409, "Conflict", "Email already registered"},
      {Error::bad_credentials, 401, "Unauthorized", "Invalid credentials"},
      {Error::refresh_unknown, 401, "Unauthorized", "Invalid refresh token"},
      {Error::refresh_expired, 401, "Unauthorized", "Refresh token expired"},
      {Error::refresh_reused, 401, "Unauthorized", "Refresh token reused; please sign in again"},
      {Error::user_not_found, 404, "Not Found", "User not found"},
      {Error::wrong_current_password, 403, "Forbidden", "Current password is incorrect"},
      {Error::hashing_busy, 503, "Service Unavailable", "Service temporarily unavailable"},
  };
  for (const auto& e : table) {
    SCOPED_TRACE(std::string(e.error));
    const auto res = answer(e.code);
    EXPECT_EQ(res.status, e.status);
    EXPECT_EQ(res.headers.get("Content-Type"), "application/problem+json");
    EXPECT_EQ(json::parse(res.body), json::value({{"type", "about:blank"},
                                                  {"title", e.title},
                                                  {"status", e.status},
                                                  {"detail", e.error},
                                                  {"error", e.error}}));
    EXPECT_EQ(res.headers.has("Retry-After"), e.code == Error::hashing_busy);
  }
}

// Saturated hashing is answered as the pipeline answers any transient
// infrastructure failure, so clients see no change.
TEST(UserErrors, HashingBusyLooksLikeATransientFailure) {
  const auto transient = http::problem(503, "Service temporarily unavailable");
  const auto res = answer(Error::hashing_busy);
  EXPECT_EQ(res.body, transient.body);
  EXPECT_EQ(res.headers.get("Retry-After"), "1");
}

}  // namespace
}  // namespace emporium::user
