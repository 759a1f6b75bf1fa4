#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/worker.hpp"

namespace emporium::auth {

// A revoked session (refresh-token family): access tokens whose `sid` is
// `sid` are refused until `expires_at` (unix seconds), after which none of
// them can be valid anyway (issued at most access_ttl + leeway before).
struct Revocation {
  std::string sid;
  std::int64_t expires_at = 0;
};

// The revoked sessions this process knows of: the denylist every verifier
// (auth::authenticate) checks. Thread-safe; entries drop out once expired.
class Denylist {
 public:
  void revoke(const Revocation& r);
  void revoke(const std::vector<Revocation>& rs);
  // True when `sid` is revoked and the entry has not expired.
  bool revoked(std::string_view sid) const;
  // Live entries (for tests and metrics).
  std::size_t size() const;

 private:
  void prune_locked(std::int64_t now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> until_;  // guarded by mutex_
  std::int64_t next_prune_ = 0;                          // guarded by mutex_
};

// What a feed answered: the revocations since the cursor it was asked for,
// and the cursor to ask with next time.
struct RevocationBatch {
  std::vector<Revocation> revocations;
  std::int64_t cursor = 0;
};

// Where revocations are shared between processes (Redis, or the user
// service's database). Implementations are thread-safe and never throw for
// an unreachable backend: they return false / nullopt.
class RevocationFeed {
 public:
  virtual ~RevocationFeed() = default;
  // Makes `rs` visible to every process reading the feed. False when the
  // backend failed.
  virtual bool publish(const std::vector<Revocation>& rs) = 0;
  // The revocations published since `cursor` (0: every live one); may
  // repeat some already seen. nullopt when the backend failed.
  virtual std::optional<RevocationBatch> since(std::int64_t cursor) = 0;
  // "redis", "user-service" or "database", for logs.
  virtual std::string_view name() const noexcept = 0;
};

// Copies a feed into a denylist on a worker of its own: at once (cursor 0:
// every live revocation, so a process starts knowing them), then every
// `interval`. Failures are logged once per outage and retried.
class RevocationSync {
 public:
  RevocationSync(RevocationFeed& feed, Denylist& denylist, std::chrono::milliseconds interval);
  ~RevocationSync();
  RevocationSync(const RevocationSync&) = delete;
  RevocationSync& operator=(const RevocationSync&) = delete;

  // Reads the feed once now (what the worker does each interval).
  bool poll();

 private:
  RevocationFeed& feed_;
  Denylist& denylist_;
  std::mutex mutex_;
  std::int64_t cursor_ = 0;  // guarded by mutex_
  bool failing_ = false;     // guarded by mutex_
  std::unique_ptr<core::Worker> worker_;
};

}  // namespace emporium::auth
