#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/auth.hpp"
#include "auth/revocations.hpp"
#include "user/store.hpp"

namespace emporium::user {

// Revoked sessions as the user service keeps them (docs/sessions.md): a
// revocation goes into this process's denylist at once, into the service's
// database (which other processes read through GET /internal/sessions/revoked
// when there is no Redis, and user-service replicas through this feed), and
// to the shared feed (Redis) when there is one.
//
// As a feed it reads the database: since(cursor) gives the live revocations
// recorded after cursor - kOverlapMs (so a row committed late, or written by a
// replica whose clock is a little behind, is still seen) and the time of the
// read as the next cursor.
class Sessions final : public auth::RevocationFeed {
 public:
  static constexpr std::int64_t kOverlapMs = 5'000;

  // `shared` (may be null) is the feed other processes read, e.g. Redis.
  Sessions(Store& store, const auth::Tokens& tokens, auth::RevocationFeed* shared)
      : store_(store), tokens_(tokens), shared_(shared) {}

  // Ends the sessions `sids` now, everywhere (empty ids are skipped).
  void revoke(const std::vector<std::string>& sids);

  bool publish(const std::vector<auth::Revocation>& rs) override;
  std::optional<auth::RevocationBatch> since(std::int64_t cursor) override;
  std::string_view name() const noexcept override { return "database"; }

 private:
  Store& store_;
  const auth::Tokens& tokens_;
  auth::RevocationFeed* shared_;
};

// Milliseconds since the epoch (the database feed's cursor).
std::int64_t unix_millis();

}  // namespace emporium::user
