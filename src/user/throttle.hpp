#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/db.hpp"

namespace emporium::user {

// How an account backs off after failed sign-ins: the first `after` - 1
// failures cost nothing; from the `after`-th attempt on, each attempt holds
// the account for `base`, doubled per further failure, at most `max`. A
// streak with no attempt for `forget` is forgotten; a success clears it.
struct BackoffPolicy {
  std::int64_t after = 5;
  std::chrono::milliseconds base{1'000};
  std::chrono::milliseconds max{900'000};
  std::chrono::milliseconds forget{3'600'000};
};

// One account's streak of attempts not (yet) known to have succeeded.
struct Streak {
  std::int64_t failures = 0;
  std::int64_t blocked_until_ms = 0;  // unix ms; 0: not backed off
  std::int64_t last_ms = 0;           // unix ms of the last attempt
};

// The backoff that `failures` failed attempts earn under `p` (0 below p.after).
std::chrono::milliseconds backoff_for(const BackoffPolicy& p, std::int64_t failures);

// What beginning an attempt decided, and the streak to store if allowed.
struct Step {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // when refused
  Streak next;
};

// Begins an attempt at `now_ms` on an account whose stored streak is
// `stored`: refused while backed off; otherwise allowed and counted as a
// failure until it succeeds, so that attempts racing each other cannot all
// slip through before the first failure is recorded.
Step begin_attempt(const BackoffPolicy& p, const std::optional<Streak>& stored,
                   std::int64_t now_ms);

// Per-account sign-in backoff, asked before a password is checked.
class Throttle {
 public:
  virtual ~Throttle() = default;
  // Allowed (the attempt is counted), or the time left in the backoff of the
  // account `email` (compared case-insensitively).
  virtual Step begin(std::string_view email) = 0;
  // The attempt on `email` succeeded: its streak is cleared.
  virtual void succeeded(std::string_view email) = 0;
};

// The Throttle on the user database, so every replica of the service sees
// one streak per account. Throws db::DbError on broken infrastructure.
class SqlThrottle final : public Throttle {
 public:
  SqlThrottle(db::Database& db, BackoffPolicy policy) : db_(db), policy_(policy) {}
  Step begin(std::string_view email) override;
  void succeeded(std::string_view email) override;

 private:
  void prune_now_and_then(db::Connection& c, std::int64_t now_ms);

  db::Database& db_;
  BackoffPolicy policy_;
  std::atomic<std::uint32_t> begun_{0};
};

}  // namespace emporium::user
