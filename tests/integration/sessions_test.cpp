// Revocable sessions and cookie-authenticated writes against the real binary
// (docs/sessions.md): in both shapes, with Redis and without, a revoked
// session's access token is refused by the gateway and by the services.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "shop.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// How long another process may take to learn of a revocation: the poll
// interval the shops run with is 200 ms.
constexpr auto kPropagation = 3s;

std::string redis_url() {
  const char* url = std::getenv("EMPORIUM_TEST_REDIS_URL");
  return url == nullptr ? std::string() : std::string(url);
}

// Where a token is checked: a port and a signed-in path on it.
struct Verifier {
  std::string name;
  std::uint16_t port;
  std::string path;
};

// (shape, redis): "all" or "split", with revocations shared through Redis or not.
class SessionsShop : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override {
    std::vector<std::string> args{"--revocation-poll=200ms"};
    if (std::get<1>(GetParam())) {
      ASSERT_FALSE(redis_url().empty()) << "EMPORIUM_TEST_REDIS_URL is not set (make test)";
      args.push_back("--redis-url=" + redis_url());
    }
    if (std::get<0>(GetParam()) == "split") {
      auto s = std::make_unique<SplitShop>(nullptr, Storage{}, args);
      split = s.get();
      shop = std::move(s);
    } else {
      shop = std::make_unique<AllInOneShop>(Storage{}, args);
    }
  }

  // The gateway (cart and profile through it) and, in the split shape, the
  // cart and user services themselves.
  std::vector<Verifier> verifiers(const Customer& c) const {
    std::vector<Verifier> out{{"gateway cart", shop->port(), "/api/cart/" + c.id},
                              {"gateway profile", shop->port(), "/api/users/profile"}};
    if (split != nullptr) {
      out.push_back({"cart service", split->service_port("cart"), "/api/cart/" + c.id});
      out.push_back({"user service", split->service_port("user"), "/api/users/profile"});
    }
    return out;
  }

  static int status(std::uint16_t port, const std::string& path, const std::string& token) {
    auto r = request("GET", port, path, {}, {"Authorization: Bearer " + token});
    return r ? r->status : 0;
  }

  void expect_accepted(const Customer& c, const std::string& token) const {
    for (const auto& v : verifiers(c)) {
      EXPECT_EQ(status(v.port, v.path, token), 200) << v.name << " " << v.path;
    }
  }

  // Refused (401) by every verifier within kPropagation; by the user
  // service, which revoked it, at once.
  void expect_refused(const Customer& c, const std::string& token) const {
    EXPECT_EQ(status(split != nullptr ? split->service_port("user") : shop->port(),
                     "/api/users/profile", token),
              401)
        << "the user service must refuse it at once";
    for (const auto& v : verifiers(c)) {
      const auto start = Clock::now();
      int got = status(v.port, v.path, token);
      const int first = got;
      while (got != 401 && Clock::now() - start < kPropagation) {
        std::this_thread::sleep_for(50ms);
        got = status(v.port, v.path, token);
      }
      EXPECT_EQ(got, 401) << v.name << " still accepts a revoked session after 3 s";
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      std::cout << "[ revoked  ] " << v.name << " refused it after " << ms << " ms (first answer "
                << first << ")\n";
    }
  }

  Reply refresh(const std::string& refresh_token) const {
    return shop->call("POST", "/api/users/refresh",
                      json::serialize(json::object{{"refreshToken", refresh_token}}));
  }

  std::unique_ptr<Shop> shop;
  SplitShop* split = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Shapes, SessionsShop,
                         ::testing::Combine(::testing::Values("all", "split"),
                                            ::testing::Values(false, true)),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) == "all" ? "AllInOne"
                                                                            : "Split") +
                                  (std::get<1>(p.param) ? "Redis" : "NoRedis");
                         });

TEST_P(SessionsShop, LogoutEndsTheAccessTokenEverywhere) {
  auto ann = shop->register_and_login("ann@example.com");
  auto bob = shop->register_and_login("bob@example.com");
  expect_accepted(ann, ann.token);
  auto out = shop->call("POST", "/api/users/logout",
                        json::serialize(json::object{{"refreshToken", ann.refresh_token}}));
  ASSERT_EQ(out.status, 200) << out.raw;
  expect_refused(ann, ann.token);
  EXPECT_EQ(refresh(ann.refresh_token).status, 401);
  expect_accepted(bob, bob.token);  // another user's session is untouched
}

TEST_P(SessionsShop, RefreshTokenReuseEndsTheSessionsAccessTokens) {
  auto ann = shop->register_and_login("ann@example.com");
  auto first = refresh(ann.refresh_token);
  ASSERT_EQ(first.status, 200) << first.raw;
  const std::string second(first.obj().at("token").as_string());
  expect_accepted(ann, second);
  auto reuse = refresh(ann.refresh_token);  // a thief replays the first refresh token
  ASSERT_EQ(reuse.status, 401);
  expect_refused(ann, second);
  expect_refused(ann, ann.token);
}

TEST_P(SessionsShop, APasswordChangeEndsEverySessionAndTheCallerContinues) {
  auto ann = shop->register_and_login("ann@example.com", "password-123");
  auto other = shop->call("POST", "/api/users/login",
                          R"({"email":"ann@example.com","password":"password-123"})");
  ASSERT_EQ(other.status, 200);
  const std::string elsewhere(other.obj().at("token").as_string());
  auto changed =
      shop->call("PUT", "/api/users/profile",
                 R"({"password":"new-password-123","currentPassword":"password-123"})", ann.token);
  ASSERT_EQ(changed.status, 200) << changed.raw;
  expect_refused(ann, ann.token);
  expect_refused(ann, elsewhere);
  // The answer carries a new session for the caller.
  std::string cookie;
  for (const auto& [k, v] : changed.headers.fields()) {
    if (http::iequals(k, "Set-Cookie") && v.rfind("emporium_session=", 0) == 0) {
      cookie = v.substr(0, v.find(';'));
    }
  }
  ASSERT_FALSE(cookie.empty()) << changed.raw;
  auto profile = request("GET", shop->port(), "/api/users/profile", {}, {"Cookie: " + cookie});
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->status, 200);
}

TEST_P(SessionsShop, ARoleChangeRevokesTheTokensAndTheNextRefreshCarriesTheNewRole) {
  auto ann = shop->register_and_login("ann@example.com");
  EXPECT_EQ(shop->call("GET", "/api/users", {}, ann.token).status, 403);
  auto promoted = shop->call("PUT", "/api/users/" + ann.id + "/role", R"({"role":"admin"})",
                             shop->admin_token());
  ASSERT_EQ(promoted.status, 200) << promoted.raw;
  expect_refused(ann, ann.token);

  auto as_admin = refresh(ann.refresh_token);
  ASSERT_EQ(as_admin.status, 200) << as_admin.raw;
  EXPECT_EQ(as_admin.obj().at("user").at("role").as_string(), "admin");
  const std::string admin_token(as_admin.obj().at("token").as_string());
  EXPECT_EQ(shop->call("GET", "/api/users", {}, admin_token).status, 200);
  expect_accepted(ann, admin_token);

  auto demoted = shop->call("PUT", "/api/users/" + ann.id + "/role", R"({"role":"customer"})",
                            shop->admin_token());
  ASSERT_EQ(demoted.status, 200) << demoted.raw;
  expect_refused(ann, admin_token);
  auto again = refresh(std::string(as_admin.obj().at("refreshToken").as_string()));
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.obj().at("user").at("role").as_string(), "customer");
  const std::string customer_token(again.obj().at("token").as_string());
  EXPECT_EQ(shop->call("GET", "/api/users", {}, customer_token).status, 403);
  expect_accepted(ann, customer_token);
}

// Cookie-authenticated writes: JSON only, and from the shop's own origin.
TEST_P(SessionsShop, CookieWritesNeedJsonAndAnAllowedOrigin) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto product = shop->create_product("Lamp", 10, 5);
  const std::string own = "Origin: http://127.0.0.1:" + std::to_string(shop->port());
  const std::string session = "Cookie: emporium_session=" + ann.token;
  const std::string item = json::serialize(json::object{{"productId", product}, {"quantity", 1}});
  const std::string items = "/api/cart/" + ann.id + "/items";
  auto cart_lines = [&] {
    auto r = shop->call("GET", "/api/cart/" + ann.id, {}, ann.token);
    return r.obj().at("items").as_array().size();
  };
  auto post = [&](const std::string& path, const std::string& body,
                  std::vector<std::string> headers) {
    auto r = request("POST", shop->port(), path, body, headers);
    return r ? r->status : 0;
  };

  EXPECT_EQ(post(items, item, {session, "Content-Type: text/plain", own}), 415);
  EXPECT_EQ(post(items, item, {session, "Content-Type: application/x-www-form-urlencoded"}), 415);
  EXPECT_EQ(post(items, item, {session}), 415);
  EXPECT_EQ(post(items, item,
                 {session, "Content-Type: application/json", "Origin: https://evil.example"}),
            403);
  EXPECT_EQ(cart_lines(), 0U) << "a refused write must change nothing";
  EXPECT_EQ(post(items, item, {session, "Content-Type: application/json", own}), 201);
  EXPECT_EQ(cart_lines(), 1U);
  // Bearer clients are unaffected by either rule (the same product again: 200).
  EXPECT_EQ(post(items, item,
                 {"Authorization: Bearer " + ann.token, "Content-Type: text/plain",
                  "Origin: https://evil.example"}),
            200);
  auto cart = shop->call("GET", "/api/cart/" + ann.id, {}, ann.token);
  EXPECT_EQ(cart.obj().at("items").as_array().at(0).at("quantity").as_int64(), 2);

  // The refresh cookie: refused writes neither rotate nor revoke it.
  const std::string refresh_cookie = "Cookie: emporium_refresh=" + ann.refresh_token;
  EXPECT_EQ(post("/api/users/refresh", "{}", {refresh_cookie, "Content-Type: text/plain"}), 415);
  EXPECT_EQ(
      post("/api/users/refresh", "{}",
           {refresh_cookie, "Content-Type: application/json", "Origin: https://evil.example"}),
      403);
  EXPECT_EQ(
      post("/api/users/logout", "{}",
           {refresh_cookie, "Content-Type: application/json", "Origin: https://evil.example"}),
      403);
  EXPECT_EQ(post("/api/users/logout", "{}", {refresh_cookie, "Content-Type: text/plain"}), 415);
  EXPECT_EQ(shop->call("GET", "/api/users/profile", {}, ann.token).status, 200)
      << "a refused logout must not end the session";
  auto rotated = request("POST", shop->port(), "/api/users/refresh", "{}",
                         {refresh_cookie, "Content-Type: application/json", own});
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200) << "the refresh token must have survived the refused calls";
  boost::system::error_code ec;
  const auto next = json::parse(rotated->body, ec).at("refreshToken").as_string();
  EXPECT_EQ(post("/api/users/logout", "{}",
                 {"Cookie: emporium_refresh=" + std::string(next), "Content-Type: application/json",
                  own}),
            200);
  EXPECT_EQ(refresh(std::string(next)).status, 401);
}

// Key rotation: the shop signs with jwt_secret and still accepts tokens the
// previous key signed; any other key is refused.
TEST(SessionsShopKeys, ThePreviousKeyVerifiesAfterARotationAndOthersDoNot) {
  const std::string previous = "the-key-before-the-rotation-0123456789";
  const std::string dir = temp_dir();
  std::string ann_id;
  {
    AllInOneShop before(Storage{}, {}, dir);
    ann_id = before.register_and_login("ann@example.com").id;
  }
  AllInOneShop shop(Storage{}, {"--jwt-previous-secret=" + previous}, dir);
  auto profile = [&](const std::string& token) {
    return shop.call("GET", "/api/users/profile", {}, token).status;
  };
  auth::Tokens old_key(auth::TokenSettings{.secret = previous});
  auth::Tokens unknown_key(auth::TokenSettings{.secret = "a-key-nobody-configured-0123456789"});
  auth::Tokens current(auth::TokenSettings{.secret = kTestSecret});
  EXPECT_EQ(profile(old_key.issue_access(ann_id, "customer", "sid-old")), 200);
  EXPECT_EQ(profile(current.issue_access(ann_id, "customer", "sid-new")), 200);
  EXPECT_EQ(profile(unknown_key.issue_access(ann_id, "customer", "sid-x")), 401);
  // Tokens from before sessions (no sid) are refused: clients refresh.
  EXPECT_EQ(profile(current.issue(ann_id, "customer", 60s, "emporium")), 401);
  // What the shop issues now names the current key.
  auto login = shop.call("POST", "/api/users/login",
                         R"({"email":"ann@example.com","password":"password-123"})");
  ASSERT_EQ(login.status, 200);
  const std::string issued(login.obj().at("token").as_string());
  EXPECT_TRUE(current.verify(issued, "emporium").ok());
  EXPECT_FALSE(old_key.verify(issued, "emporium").ok());
}

}  // namespace
}  // namespace emporium::test
