#include "user/sessions.hpp"

#include <chrono>

#include "obs/log.hpp"

namespace emporium::user {

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Sessions::revoke(const std::vector<std::string>& sids) {
  std::vector<auth::Revocation> rs;
  for (const auto& sid : sids) {
    if (!sid.empty()) {
      rs.push_back(tokens_.revocation(sid));
    }
  }
  if (rs.empty()) {
    return;
  }
  tokens_.denylist().revoke(rs);
  publish(rs);
  if (shared_ != nullptr && !shared_->publish(rs)) {
    // The database has it: the user service keeps refusing these sessions;
    // other processes learn of them only through the shared feed.
    obs::error("session revocation not shared",
               {{"feed", shared_->name()}, {"sessions", static_cast<std::int64_t>(rs.size())}});
  }
}

bool Sessions::publish(const std::vector<auth::Revocation>& rs) {
  store_.add_revocations(rs, unix_millis());
  return true;
}

std::optional<auth::RevocationBatch> Sessions::since(std::int64_t cursor) {
  const auto now = unix_millis();
  try {
    return auth::RevocationBatch{store_.revocations_after(cursor - kOverlapMs), now};
  } catch (const std::exception&) {
    return std::nullopt;  // database away: the caller retries
  }
}

}  // namespace emporium::user
