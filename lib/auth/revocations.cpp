#include "auth/revocations.hpp"

#include "core/ids.hpp"
#include "obs/log.hpp"

namespace emporium::auth {

namespace {

// Expired entries are swept at most this often (seconds).
constexpr std::int64_t kPruneEvery = 30;

}  // namespace

void Denylist::revoke(const Revocation& r) {
  revoke(std::vector<Revocation>{r});
}

void Denylist::revoke(const std::vector<Revocation>& rs) {
  const auto now = core::unix_seconds();
  std::lock_guard lock(mutex_);
  for (const auto& r : rs) {
    if (r.sid.empty() || r.expires_at < now) {
      continue;
    }
    auto& until = until_[r.sid];
    until = std::max(until, r.expires_at);
  }
  prune_locked(now);
}

bool Denylist::revoked(std::string_view sid) const {
  const auto now = core::unix_seconds();
  std::lock_guard lock(mutex_);
  const auto it = until_.find(std::string(sid));
  return it != until_.end() && it->second >= now;
}

std::size_t Denylist::size() const {
  std::lock_guard lock(mutex_);
  return until_.size();
}

void Denylist::prune_locked(std::int64_t now) {
  if (now < next_prune_) {
    return;
  }
  next_prune_ = now + kPruneEvery;
  std::erase_if(until_, [now](const auto& e) { return e.second < now; });
}

RevocationSync::RevocationSync(RevocationFeed& feed, Denylist& denylist,
                               std::chrono::milliseconds interval)
    : feed_(feed), denylist_(denylist) {
  worker_ = std::make_unique<core::Worker>("revocations", [this, interval](core::Worker& w) {
    do {
      poll();
    } while (w.wait_for(interval));
  });
}

RevocationSync::~RevocationSync() {
  worker_.reset();
}

bool RevocationSync::poll() {
  std::lock_guard lock(mutex_);
  auto batch = feed_.since(cursor_);
  if (!batch) {
    if (!failing_) {
      failing_ = true;
      obs::warn("session revocations unavailable; retrying",
                {{"feed", feed_.name()}, {"known", static_cast<std::int64_t>(denylist_.size())}});
    }
    return false;
  }
  if (failing_) {
    failing_ = false;
    obs::info("session revocations available again", {{"feed", feed_.name()}});
  }
  denylist_.revoke(batch->revocations);
  cursor_ = batch->cursor;
  return true;
}

}  // namespace emporium::auth
