#pragma once

#include <memory>
#include <string>

#include "auth/auth.hpp"
#include "auth/revocations.hpp"
#include "svc/clients.hpp"
#include "svc/upstream.hpp"

namespace emporium::cache {
class Cache;
}

namespace emporium::svc {

// Session revocations shared through Redis (redis_url set): each one is a
// key `emporium:sessions:revoked:<n>` ("<sid> <expires_at>", expiring with
// the revocation), numbered by INCR on `emporium:sessions:revoked:seq`; the
// cursor is the last number read. A first read (cursor 0) takes at most the
// last kBackfill numbers. A number taken whose key is not written yet is read
// again next time while it is among the last kRecent.
class RedisRevocations final : public auth::RevocationFeed {
 public:
  static constexpr std::int64_t kBackfill = 10'000;
  static constexpr std::int64_t kRecent = 16;

  // On the server at `redis_url`; throws std::invalid_argument when malformed.
  explicit RedisRevocations(const std::string& redis_url);
  explicit RedisRevocations(std::unique_ptr<cache::Cache> cache);
  ~RedisRevocations() override;

  bool publish(const std::vector<auth::Revocation>& rs) override;
  std::optional<auth::RevocationBatch> since(std::int64_t cursor) override;
  std::string_view name() const noexcept override { return "redis"; }

 private:
  std::unique_ptr<cache::Cache> cache_;
};

// Session revocations read from the user service (no Redis, split shape):
// GET /internal/sessions/revoked?since=<cursor> with a service credential.
class UserServiceRevocations final : public auth::RevocationFeed, private InternalClient {
 public:
  UserServiceRevocations(Upstream& upstream, const auth::Tokens& tokens, std::string caller)
      : InternalClient(upstream, tokens, std::move(caller)) {}

  // Only the user service publishes (into its database): always false here.
  bool publish(const std::vector<auth::Revocation>&) override { return false; }
  std::optional<auth::RevocationBatch> since(std::int64_t cursor) override;
  std::string_view name() const noexcept override { return "user-service"; }
};

// The JSON the internal endpoint answers for `batch`:
// {"revocations":[{"sid","expiresAt"}],"cursor"}; and back.
std::string revocations_json(const auth::RevocationBatch& batch);
std::optional<auth::RevocationBatch> parse_revocations(std::string_view body);

}  // namespace emporium::svc
