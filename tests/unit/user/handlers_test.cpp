#include "user/handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/ids.hpp"
#include "fakes.hpp"

namespace emporium::user {
namespace {

namespace json = boost::json;
using testing::FakePasswords;
using testing::FakeStore;

auth::TokenSettings token_settings() {
  auth::TokenSettings s;
  s.secret = "unit-test-secret-unit-test-secret!!";
  return s;
}

json::object body_of(const http::Response& res) {
  return json::parse(res.body).as_object();
}

std::string error_of(const http::Response& res) {
  return std::string(body_of(res).at("error").as_string());
}

std::vector<std::string> set_cookies(const http::Response& res) {
  std::vector<std::string> out;
  for (const auto& [name, value] : res.headers.fields()) {
    if (name == "Set-Cookie") {
      out.push_back(value);
    }
  }
  return out;
}

// Handlers over a fake store and fake passwords, and a customer "ann"
// (password "ann-password") already registered.
class UserHandlers : public ::testing::Test {
 protected:
  UserHandlers() {
    store_.users.push_back(User{"u-ann", "ann@example.com", "Ann", "fake:ann-password", "customer",
                                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"});
  }

  http::Response login(const std::string& email, const std::string& password) {
    return handlers_.login(req_, LoginInput{email, password});
  }
  http::Response refresh(const std::string& token) {
    return handlers_.refresh(req_, RefreshInput{token});
  }
  http::Response refresh_from_cookie(const std::string& cookie_header) {
    http::Request req;
    req.method = "POST";
    req.headers.set("Content-Type", "application/json");
    req.headers.set("Cookie", cookie_header);
    return handlers_.refresh(req, RefreshInput{});
  }
  std::string refresh_token_of(const http::Response& res) {
    return std::string(body_of(res).at("refreshToken").as_string());
  }

  FakeStore store_;
  FakePasswords passwords_;
  auth::Tokens tokens_{token_settings()};
  int events_written_ = 0;
  Sessions sessions_{store_, tokens_, nullptr};
  Handlers handlers_{store_,
                     passwords_,
                     tokens_,
                     sessions_,
                     Settings{.refresh_ttl = std::chrono::seconds(3600), .cookie_secure = true},
                     [this] { ++events_written_; }};
  http::Request req_;
  auth::Identity ann_{"u-ann", "customer", "jti-1", "sid-ann"};
  auth::Identity admin_{"u-admin", "admin", "jti-2", "sid-admin"};
};

TEST_F(UserHandlers, RegisterAnswers201AndEmitsTheEventThenRefusesTheSameEmail) {
  auto res = handlers_.register_user(req_, RegisterInput{"bob@example.com", "bob-password", "Bob"});
  ASSERT_EQ(res.status, 201);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("email"), "bob@example.com");
  EXPECT_EQ(body.at("name"), "Bob");
  EXPECT_EQ(res.headers.get("Location"), "/api/users/profile");
  auto bob = store_.by_email("bob@example.com");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->id, body.at("id").as_string());
  EXPECT_EQ(bob->role, "customer");
  EXPECT_EQ(bob->password_hash, "fake:bob-password");
  ASSERT_EQ(store_.outbox.size(), 1U);
  EXPECT_EQ(store_.outbox[0].type, "user.registered");
  EXPECT_EQ(
      json::parse(store_.outbox[0].payload),
      json::parse(R"({"user_id":")" + bob->id + R"(","email":"bob@example.com","name":"Bob"})"));
  EXPECT_EQ(events_written_, 1);

  auto again = handlers_.register_user(req_, RegisterInput{"BOB@example.com", "other-pass", ""});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(error_of(again), "Email already registered");
  EXPECT_EQ(store_.users.size(), 2U);
  EXPECT_EQ(store_.outbox.size(), 1U);
  EXPECT_EQ(events_written_, 1);
}

// mode=production: a new and a registered email get the same answer, both
// hashed; the registered one's owner is told and nothing else changes.
TEST_F(UserHandlers, ConcealedRegistrationAnswersAlikeAndTellsTheOwner) {
  FakePasswords passwords;
  int written = 0;
  Handlers concealed(store_, passwords, tokens_, sessions_, Settings{.conceal_accounts = true},
                     [&written] { ++written; });
  auto fresh =
      concealed.register_user(req_, RegisterInput{"bob@example.com", "bob-password", "Bob"});
  auto taken =
      concealed.register_user(req_, RegisterInput{"ANN@example.com", "eve-password", "<Eve>"});
  EXPECT_EQ(fresh.status, 202);
  EXPECT_EQ(taken.status, 202);
  EXPECT_EQ(fresh.body, taken.body);
  EXPECT_EQ(body_of(fresh), (json::object{{"message", kAcceptedMessage}}));
  EXPECT_EQ(fresh.headers.fields(), taken.headers.fields());
  EXPECT_FALSE(taken.headers.get("Location"));
  EXPECT_EQ(passwords.hashes, 2) << "the password is hashed for a registered email too";

  ASSERT_EQ(store_.users.size(), 2U);
  EXPECT_EQ(store_.by_email("ann@example.com")->password_hash, "fake:ann-password");
  EXPECT_EQ(store_.by_email("ann@example.com")->name, "Ann");
  ASSERT_EQ(store_.outbox.size(), 2U);
  EXPECT_EQ(store_.outbox[0].type, "user.registered");
  EXPECT_EQ(store_.outbox[1].type, "user.registration_attempted");
  EXPECT_EQ(json::parse(store_.outbox[1].payload),
            json::parse(R"({"user_id":"u-ann","email":"ann@example.com","name":"Ann"})"))
      << "the owner's address and name, not what the requester typed";
  EXPECT_EQ(written, 2);
}

TEST_F(UserHandlers, LoginIssuesASessionAndARefreshToken) {
  auto res = login("ANN@example.com", "ann-password");
  ASSERT_EQ(res.status, 200);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("tokenType"), "Bearer");
  EXPECT_EQ(body.at("expiresIn"), 900);
  EXPECT_EQ(body.at("user").as_object().at("id"), "u-ann");
  EXPECT_EQ(body.at("user").as_object().at("role"), "customer");
  auto who = tokens_.verify(body.at("token").as_string(), "emporium");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->subject, "u-ann");
  const auto cookie = res.headers.get("Set-Cookie");
  ASSERT_TRUE(cookie);
  EXPECT_EQ(*cookie,
            auth::session_cookie(body.at("token").as_string(), std::chrono::seconds(900), true));
  const auto stored = store_.refresh.find(core::sha256_hex(refresh_token_of(res)));
  ASSERT_NE(stored, store_.refresh.end());
  EXPECT_EQ(stored->second.user_id, "u-ann");
  EXPECT_GT(stored->second.expires_at, core::unix_seconds() + 3500);
}

TEST_F(UserHandlers, LoginRefusesAWrongPasswordAndAnUnknownEmailAlike) {
  auto wrong = login("ann@example.com", "not-her-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(error_of(wrong), "Invalid credentials");
  auto unknown = login("nobody@example.com", "ann-password");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_EQ(passwords_.unknown_checks, 1);  // the unknown email cost a check too
  EXPECT_TRUE(store_.refresh.empty());
  EXPECT_FALSE(wrong.headers.has("Set-Cookie"));
}

TEST_F(UserHandlers, RefreshRotatesTheTokenAndReuseRevokesTheFamily) {
  const auto first = refresh_token_of(login("ann@example.com", "ann-password"));
  auto rotated = refresh(first);
  ASSERT_EQ(rotated.status, 200);
  const auto second = refresh_token_of(rotated);
  EXPECT_NE(second, first);
  EXPECT_EQ(body_of(rotated).at("user").as_object().at("id"), "u-ann");
  EXPECT_TRUE(rotated.headers.has("Set-Cookie"));
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(first)).used);

  auto reused = refresh(first);
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(error_of(reused), "Refresh token reused; please sign in again");
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(second)).revoked);
  // The thief's replay ended the legitimate holder's login too.
  auto after = refresh(second);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(error_of(after), "Refresh token reused; please sign in again");
}

TEST_F(UserHandlers, RefreshRefusesUnknownAndExpiredTokens) {
  auto unknown = refresh("never-issued");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(error_of(unknown), "Invalid refresh token");
  store_.add_refresh(core::sha256_hex("old"), "family-1", "u-ann", core::unix_seconds() - 10);
  auto expired = refresh("old");
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(error_of(expired), "Refresh token expired");
  EXPECT_EQ(store_.refresh.size(), 1U);
  store_.add_refresh(core::sha256_hex("orphan"), "family-2", "u-gone", core::unix_seconds() + 60);
  EXPECT_EQ(error_of(refresh("orphan")), "Invalid refresh token");
}

TEST_F(UserHandlers, LogoutRevokesTheFamilyAndClearsTheCookie) {
  const auto token = refresh_token_of(login("ann@example.com", "ann-password"));
  auto res = handlers_.logout(req_, LogoutInput{token});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("message"), "Logged out");
  EXPECT_EQ(res.headers.get("Set-Cookie"), auth::clear_session_cookie(true));
  EXPECT_EQ(set_cookies(res).back(), auth::clear_refresh_cookie(true));
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(token)).revoked);
  EXPECT_EQ(refresh(token).status, 401);
  EXPECT_EQ(handlers_.logout(req_, LogoutInput{}).status, 200);
}

// A browser holds the refresh token only in its HttpOnly cookie (Path=/api/users).
TEST_F(UserHandlers, BrowsersRefreshAndLogOutWithTheRefreshCookie) {
  const auto signed_in = login("ann@example.com", "ann-password");
  const auto first = refresh_token_of(signed_in);
  const auto cookies = set_cookies(signed_in);
  ASSERT_EQ(cookies.size(), 2U);
  EXPECT_EQ(cookies[1], auth::refresh_cookie(first, std::chrono::seconds(3600), true));
  EXPECT_NE(
      cookies[1].find("emporium_refresh=" + first + "; Path=/api/users; HttpOnly; SameSite=Strict"),
      std::string::npos);

  auto rotated = refresh_from_cookie("theme=dark; emporium_refresh=" + first);
  ASSERT_EQ(rotated.status, 200);
  const auto second = refresh_token_of(rotated);
  EXPECT_EQ(set_cookies(rotated)[1],
            auth::refresh_cookie(second, std::chrono::seconds(3600), true));
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(first)).used);
  // A token in the body wins over the cookie.
  EXPECT_EQ(error_of(handlers_.refresh(req_, RefreshInput{"never-issued"})),
            "Invalid refresh token");

  auto none = refresh_from_cookie("theme=dark");
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(body_of(none).at("detail"), "Validation failed: refreshToken Required");

  http::Request out;
  out.headers.set("Cookie", "emporium_refresh=" + second);
  EXPECT_EQ(handlers_.logout(out, LogoutInput{}).status, 200);
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(second)).revoked);
}

TEST_F(UserHandlers, ProfileShowsTheSignedInUser) {
  auto res = handlers_.profile(req_, ann_);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res), json::parse(R"({"id":"u-ann","email":"ann@example.com","name":"Ann",
                                          "role":"customer","createdAt":"2026-01-01T00:00:00Z"})"));
  auto gone = handlers_.profile(req_, auth::Identity{"u-gone", "customer", "j"});
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(error_of(gone), "User not found");
}

TEST_F(UserHandlers, ChangingThePasswordNeedsTheCurrentOneAndEndsEveryLogin) {
  const auto token = refresh_token_of(login("ann@example.com", "ann-password"));
  auto wrong = handlers_.update_profile(
      req_, ann_, ProfileUpdate{.password = "new-password", .current_password = "guess"});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(error_of(wrong), "Current password is incorrect");
  EXPECT_EQ(store_.by_id("u-ann")->password_hash, "fake:ann-password");
  EXPECT_FALSE(store_.refresh.at(core::sha256_hex(token)).revoked);

  auto res = handlers_.update_profile(
      req_, ann_,
      ProfileUpdate{
          .name = "Ann B", .password = "new-password", .current_password = "ann-password"});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("name"), "Ann B");
  EXPECT_EQ(store_.by_id("u-ann")->password_hash, "fake:new-password");
  EXPECT_EQ(store_.by_id("u-ann")->name, "Ann B");
  EXPECT_TRUE(store_.refresh.at(core::sha256_hex(token)).revoked);
  EXPECT_EQ(login("ann@example.com", "new-password").status, 200);
}

TEST_F(UserHandlers, ANameChangeAloneKeepsThePassword) {
  auto res = handlers_.update_profile(req_, ann_, ProfileUpdate{.name = "Annie"});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(store_.by_id("u-ann")->name, "Annie");
  EXPECT_EQ(store_.by_id("u-ann")->password_hash, "fake:ann-password");
  EXPECT_EQ(passwords_.hashes, 0);
}

TEST_F(UserHandlers, AdminListsUsersNewestFirstAndSetsRoles) {
  store_.users.push_back(User{"u-bob", "bob@example.com", "Bob", "fake:x", "customer",
                              "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z"});
  req_.query = {{"limit", "1"}};
  auto page = handlers_.list(req_, admin_);
  ASSERT_EQ(page.status, 200);
  const auto body = body_of(page);
  ASSERT_EQ(body.at("users").as_array().size(), 1U);
  EXPECT_EQ(body.at("users").as_array()[0].as_object().at("id"), "u-bob");
  EXPECT_EQ(body.at("pagination"), json::parse(R"({"page":1,"limit":1,"total":2,"pages":2})"));

  req_.params = {{"id", "u-bob"}};
  auto res = handlers_.set_role(req_, admin_, RoleInput{Role::admin});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("role"), "admin");
  EXPECT_EQ(store_.by_id("u-bob")->role, "admin");

  req_.params = {{"id", "u-gone"}};
  auto gone = handlers_.set_role(req_, admin_, RoleInput{Role::admin});
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(error_of(gone), "User not found");
}

TEST_F(UserHandlers, InternalUserShowsOnlyIdEmailAndName) {
  req_.params = {{"id", "u-ann"}};
  auto res = handlers_.internal_user(req_);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res), json::parse(R"({"id":"u-ann","email":"ann@example.com","name":"Ann"})"));
  req_.params = {{"id", "u-gone"}};
  EXPECT_EQ(handlers_.internal_user(req_).status, 404);
}

TEST_F(UserHandlers, SaturatedHashingIsA503WithRetryAfterAndChangesNothing) {
  passwords_.busy = true;
  auto reg = handlers_.register_user(req_, RegisterInput{"bob@example.com", "bob-password", ""});
  EXPECT_EQ(reg.status, 503);
  EXPECT_EQ(reg.headers.get("Retry-After"), "1");
  EXPECT_EQ(error_of(reg), "Service temporarily unavailable");
  EXPECT_EQ(store_.users.size(), 1U);
  EXPECT_TRUE(store_.outbox.empty());
  auto in = login("ann@example.com", "ann-password");
  EXPECT_EQ(in.status, 503);
  EXPECT_EQ(in.headers.get("Retry-After"), "1");
  EXPECT_TRUE(store_.refresh.empty());
  auto change = handlers_.update_profile(
      req_, ann_, ProfileUpdate{.password = "new-password", .current_password = "ann-password"});
  EXPECT_EQ(change.status, 503);
  EXPECT_EQ(store_.by_id("u-ann")->password_hash, "fake:ann-password");
}

TEST_F(UserHandlers, AnInvalidBodyNeverReachesTheHandler) {
  auto route =
      http::with_body<RegisterInput>(read_register, [this](http::Request& r, RegisterInput in) {
        return handlers_.register_user(r, std::move(in));
      });
  req_.body = R"({"email":"bob@example.com","password":"short"})";
  auto res = route(req_);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_of(res), "Validation failed: password Must be 10 to 128 characters");
  req_.body = R"({"email":"bob@example.com","password":"qwertyuiop"})";
  EXPECT_EQ(error_of(route(req_)),
            "Validation failed: password " + std::string(kCommonPasswordMessage));
  req_.body = R"({"email":"bob@example.com","password":"bob-password","email":"eve@example.com"})";
  auto twice = route(req_);
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(error_of(twice), "Duplicate key in JSON: email");
  EXPECT_EQ(store_.users.size(), 1U);
  req_.body = "{";
  EXPECT_EQ(error_of(route(req_)), "Malformed JSON");
}

}  // namespace
}  // namespace emporium::user
