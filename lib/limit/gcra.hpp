#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace emporium::limit {

// How many requests one client may make in a period: `limit` per `period`,
// all of them at once at most (the burst is the whole quota).
struct Policy {
  std::int64_t limit = 0;  // 0: no limit
  std::chrono::milliseconds period{0};
  bool off() const noexcept { return limit <= 0 || period.count() <= 0; }
};

// Parses "20/1m", "1200/1m", "10/1h", "5/30s" (a count, a slash, a duration
// as the configuration writes it), or "off". Nullopt when malformed.
std::optional<Policy> parse_policy(std::string_view text);

// What one check decided.
struct Decision {
  bool allowed = true;
  std::int64_t remaining = 0;                // requests left right now
  std::chrono::milliseconds retry_after{0};  // when refused: until one is allowed
  std::chrono::milliseconds reset{0};        // until the whole quota is back
};

// The generic cell rate algorithm (GCRA) on one theoretical arrival time
// `tat` (microseconds, same clock as `now`): admits the request and moves
// `tat` on, or refuses it and leaves `tat` alone. The Redis script runs the
// same arithmetic (ratelimit_script()).
Decision gcra(const Policy& p, std::int64_t& tat, std::int64_t now);

// The check of several keys under one policy (a client's address and user):
// admitted only when every key admits it, and then charged to every key.
// In-process and thread-safe; a key whose quota is whole again is dropped.
class LocalLimiter {
 public:
  Decision check(const std::vector<std::string>& keys, const Policy& p);
  // For tests: how many keys are tracked.
  std::size_t size() const;

 private:
  void prune(std::int64_t now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> tat_;  // guarded by mutex_
  std::size_t checks_since_prune_ = 0;                 // guarded by mutex_
};

// The Lua script that runs gcra() on Redis for KEYS[1..n], atomically, with
// the server's clock: ARGV[1] the period and ARGV[2] the limit (period in
// microseconds). Returns {allowed 0/1, remaining, retry_after_ms, reset_ms,
// refusing}, the last a bit mask of the keys that refused (bit 0: KEYS[1]).
std::string_view ratelimit_script();

}  // namespace emporium::limit
