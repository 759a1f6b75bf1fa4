#include "user/throttle.hpp"

#include <algorithm>
#include <cctype>

namespace emporium::user {

namespace {

constexpr std::string_view kFind =
    "SELECT failures, blocked_until, last_at FROM sign_in_throttle WHERE email_key = $1";
constexpr std::string_view kInsert =
    "INSERT INTO sign_in_throttle (email_key, failures, blocked_until, last_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (email_key) DO NOTHING";
// Compare-and-set on the streak read, so that two replicas (or threads)
// counting the same account cannot both win with one count.
constexpr std::string_view kUpdate =
    "UPDATE sign_in_throttle SET failures = $2, blocked_until = $3, last_at = $4 "
    "WHERE email_key = $1 AND failures = $5 AND last_at = $6";
constexpr std::string_view kDelete = "DELETE FROM sign_in_throttle WHERE email_key = $1";
constexpr std::string_view kPrune = "DELETE FROM sign_in_throttle WHERE last_at < $1";

// Attempts to count one attempt before giving up on a contended account.
constexpr int kRaces = 4;
// Stale streaks are swept once every this many attempts.
constexpr std::uint32_t kPruneEvery = 1024;

std::string key_of(std::string_view email) {
  std::string s(email);
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::chrono::milliseconds backoff_for(const BackoffPolicy& p, std::int64_t failures) {
  if (failures < p.after) {
    return std::chrono::milliseconds(0);
  }
  const auto doublings = failures - p.after;
  if (doublings >= 40) {
    return p.max;
  }
  const auto ms = p.base.count() << doublings;
  return std::min(std::chrono::milliseconds(ms), p.max);
}

Step begin_attempt(const BackoffPolicy& p, const std::optional<Streak>& stored,
                   std::int64_t now_ms) {
  Streak s = stored.value_or(Streak{});
  if (stored && now_ms - s.last_ms > p.forget.count()) {
    s = Streak{};
  }
  if (s.blocked_until_ms > now_ms) {
    return Step{.allowed = false,
                .retry_after = std::chrono::milliseconds(s.blocked_until_ms - now_ms),
                .next = s};
  }
  const auto n = s.failures + 1;
  const auto hold = backoff_for(p, n);
  return Step{.allowed = true,
              .retry_after = std::chrono::milliseconds(0),
              .next = Streak{.failures = n,
                             .blocked_until_ms = hold.count() > 0 ? now_ms + hold.count() : 0,
                             .last_ms = now_ms}};
}

Step SqlThrottle::begin(std::string_view email) {
  const auto key = key_of(email);
  auto c = db_.acquire();
  for (int race = 0; race < kRaces; ++race) {
    const auto now = now_unix_ms();
    if (race == 0) {
      prune_now_and_then(*c, now);
    }
    auto rows = c->exec(kFind, {key}).rows;
    std::optional<Streak> stored;
    if (!rows.empty()) {
      stored = Streak{rows[0].integer(0), rows[0].integer(1), rows[0].integer(2)};
    }
    auto step = begin_attempt(policy_, stored, now);
    if (!step.allowed) {
      return step;
    }
    const auto& n = step.next;
    const auto affected =
        stored ? c->exec(kUpdate, {key, n.failures, n.blocked_until_ms, n.last_ms, stored->failures,
                                   stored->last_ms})
                     .affected
               : c->exec(kInsert, {key, n.failures, n.blocked_until_ms, n.last_ms}).affected;
    if (affected == 1) {
      return step;
    }
  }
  // Lost every race: other attempts on this account are being counted now.
  return Step{.allowed = false, .retry_after = std::chrono::milliseconds(1'000), .next = {}};
}

void SqlThrottle::succeeded(std::string_view email) {
  auto c = db_.acquire();
  c->exec(kDelete, {key_of(email)});
}

void SqlThrottle::prune_now_and_then(db::Connection& c, std::int64_t now_ms) {
  if (begun_.fetch_add(1, std::memory_order_relaxed) % kPruneEvery != 0) {
    return;
  }
  c.exec(kPrune, {now_ms - std::max(policy_.forget, policy_.max).count()});
}

}  // namespace emporium::user
