#include "user/passwords.hpp"

#include <gtest/gtest.h>

#include "auth/auth.hpp"
#include "fakes.hpp"
#include "user/admin.hpp"
#include "user/handlers.hpp"

// Tests with real argon2id hashes (about 100 ms each): kept to a few.
namespace emporium::user {
namespace {

using namespace std::chrono_literals;

TEST(Argon2Passwords, HashesThatVerifyAndUnknownAccountsNeverMatch) {
  Argon2Passwords passwords;
  auto hash = passwords.hash("correct horse");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(*passwords.verify(*hash, "correct horse"));
  EXPECT_FALSE(*passwords.verify(*hash, "wrong horse"));
  EXPECT_FALSE(*passwords.verify(std::nullopt, "correct horse"));
}

TEST(Argon2Passwords, NoFreeSlotIsHashingBusyAfterTheWait) {
  Argon2Passwords passwords(0, 10ms);
  auto hash = passwords.hash("correct horse");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error(), Error::hashing_busy);
  auto check = passwords.verify(std::nullopt, "x");
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error(), Error::hashing_busy);
}

TEST(Argon2Passwords, RegisterStoresAHashNotThePassword) {
  testing::FakeStore store;
  Argon2Passwords passwords;
  auth::TokenSettings settings;
  settings.secret = "unit-test-secret-unit-test-secret!!";
  const auth::Tokens tokens(settings);
  Sessions sessions(store, tokens, nullptr);
  Handlers handlers(store, passwords, tokens, sessions, Settings{}, [] {});
  http::Request req;
  auto res = handlers.register_user(req, RegisterInput{"ann@example.com", "ann-password", "Ann"});
  ASSERT_EQ(res.status, 201);
  ASSERT_EQ(store.users.size(), 1U);
  const auto& stored = store.users[0].password_hash;
  EXPECT_EQ(stored.find("ann-password"), std::string::npos);
  EXPECT_TRUE(auth::verify_password(stored, "ann-password"));
}

TEST(AdminBootstrap, CreatesTheAdminOncePromotesOnlyWithItsPassword) {
  testing::FakeStore store;
  bootstrap_admin(store, AdminBootstrap{});
  EXPECT_TRUE(store.users.empty());
  bootstrap_admin(store, AdminBootstrap{.email = "root@example.com"});
  EXPECT_TRUE(store.users.empty());  // no password outside development
  EXPECT_THROW(bootstrap_admin(store, {.email = "root@example.com", .password = "short"}),
               std::runtime_error);

  bootstrap_admin(store, {.email = "root@example.com", .password = "root-password"});
  ASSERT_EQ(store.users.size(), 1U);
  EXPECT_EQ(store.users[0].role, "admin");
  EXPECT_EQ(store.users[0].name, "Administrator");

  // Someone registered the configured address first: not promoted on a
  // wrong password, promoted on the right one.
  store.users.push_back(
      User{"u-eve", "ops@example.com", "Eve", store.users[0].password_hash, "customer", "t", "t"});
  bootstrap_admin(store, {.email = "OPS@example.com", .password = "not-root-password"});
  EXPECT_EQ(store.by_id("u-eve")->role, "customer");
  bootstrap_admin(store, {.email = "ops@example.com", .password = "root-password"});
  EXPECT_EQ(store.by_id("u-eve")->role, "admin");
}

TEST(AdminBootstrap, DevelopmentGeneratesAPasswordOnlyForANewAccount) {
  testing::FakeStore store;
  store.users.push_back(User{"u-1", "dev@example.com", "Dev", "fake:x", "customer", "t", "t"});
  bootstrap_admin(store, {.email = "dev@example.com", .development = true});
  EXPECT_EQ(store.by_id("u-1")->role, "customer");
  bootstrap_admin(store, {.email = "new@example.com", .development = true});
  ASSERT_EQ(store.users.size(), 2U);
  EXPECT_EQ(store.users[1].role, "admin");
  EXPECT_TRUE(store.users[1].password_hash.starts_with("$argon2id$"));
}

}  // namespace
}  // namespace emporium::user
