#include "user/throttle.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fakes.hpp"
#include "user/handlers.hpp"
#include "user/sessions.hpp"

namespace emporium::user {
namespace {

using std::chrono::milliseconds;

constexpr BackoffPolicy kPolicy{.after = 3,
                                .base = milliseconds(1'000),
                                .max = milliseconds(8'000),
                                .forget = milliseconds(60'000)};

TEST(SignInBackoff, DoublesFromTheThresholdUpToTheCap) {
  EXPECT_EQ(backoff_for(kPolicy, 1), milliseconds(0));
  EXPECT_EQ(backoff_for(kPolicy, 2), milliseconds(0));
  EXPECT_EQ(backoff_for(kPolicy, 3), milliseconds(1'000));
  EXPECT_EQ(backoff_for(kPolicy, 4), milliseconds(2'000));
  EXPECT_EQ(backoff_for(kPolicy, 6), milliseconds(8'000));
  EXPECT_EQ(backoff_for(kPolicy, 7), milliseconds(8'000));
  EXPECT_EQ(backoff_for(kPolicy, 1'000), milliseconds(8'000));
}

TEST(SignInBackoff, RefusesWhileBackedOffAndCountsEachAllowedAttempt) {
  std::optional<Streak> s;
  std::int64_t now = 1'000'000;
  for (int i = 1; i <= 3; ++i) {
    auto step = begin_attempt(kPolicy, s, now);
    ASSERT_TRUE(step.allowed) << "attempt " << i;
    EXPECT_EQ(step.next.failures, i);
    s = step.next;
  }
  EXPECT_EQ(s->blocked_until_ms, now + 1'000) << "the third attempt holds the account for 1 s";
  auto refused = begin_attempt(kPolicy, s, now + 400);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(600));
  EXPECT_EQ(refused.next.failures, 3) << "a refused attempt is not counted";
  auto after = begin_attempt(kPolicy, s, now + 1'000);
  ASSERT_TRUE(after.allowed) << "the backoff is over";
  EXPECT_EQ(after.next.blocked_until_ms, now + 1'000 + 2'000);
}

TEST(SignInBackoff, ForgetsAStreakLeftAloneLongEnough) {
  const Streak old{.failures = 9, .blocked_until_ms = 5'000, .last_ms = 1'000};
  auto step = begin_attempt(kPolicy, old, 1'000 + 60'001);
  ASSERT_TRUE(step.allowed);
  EXPECT_EQ(step.next.failures, 1);
  EXPECT_EQ(step.next.blocked_until_ms, 0);
}

// begin_attempt over a map, on a clock the test moves.
class MemoryThrottle final : public Throttle {
 public:
  Step begin(std::string_view email) override {
    auto it = streaks.find(std::string(email));
    auto step = begin_attempt(
        kPolicy, it == streaks.end() ? std::nullopt : std::optional<Streak>(it->second), now);
    if (step.allowed) {
      streaks[std::string(email)] = step.next;
    }
    return step;
  }
  void succeeded(std::string_view email) override { streaks.erase(std::string(email)); }

  std::map<std::string, Streak> streaks;
  std::int64_t now = 1'000'000;
};

class ThrottledLogin : public ::testing::Test {
 protected:
  ThrottledLogin() {
    store_.users.push_back(User{"u-ann", "ann@example.com", "Ann", "fake:ann-password", "customer",
                                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"});
  }
  int login(const std::string& password) {
    return handlers_.login(req_, LoginInput{"ann@example.com", password}).status;
  }

  testing::FakeStore store_;
  testing::FakePasswords passwords_;
  auth::Tokens tokens_{auth::TokenSettings{.secret = "unit-test-secret-unit-test-secret!!"}};
  MemoryThrottle throttle_;
  Sessions sessions_{store_, tokens_, nullptr};
  Handlers handlers_{
      store_, passwords_, tokens_, sessions_, Settings{.refresh_ttl = std::chrono::hours(1)},
      [] {},  &throttle_};
  http::Request req_;
};

TEST_F(ThrottledLogin, ABackedOffAccountAnswers429WithoutCheckingThePassword) {
  EXPECT_EQ(login("wrong-1"), 401);
  EXPECT_EQ(login("wrong-2"), 401);
  EXPECT_EQ(login("wrong-3"), 401);
  EXPECT_EQ(passwords_.checks, 3);
  auto res = handlers_.login(req_, LoginInput{"ann@example.com", "ann-password"});
  EXPECT_EQ(res.status, 429) << "even the right password waits for the backoff";
  EXPECT_EQ(res.headers.get("Retry-After"), "1");
  EXPECT_EQ(passwords_.checks, 3) << "no password is checked while the account backs off";

  throttle_.now += 1'000;
  EXPECT_EQ(login("ann-password"), 200) << "the owner gets in once the backoff has passed";
  EXPECT_TRUE(throttle_.streaks.empty()) << "a success clears the streak";
  EXPECT_EQ(login("wrong-4"), 401);
}

}  // namespace
}  // namespace emporium::user
