#include "fakes.hpp"

#include <algorithm>
#include <cctype>

#include "core/ids.hpp"

namespace emporium::user::testing {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

core::Result<void, Error> FakeStore::insert(const User& u, const std::optional<bus::Event>& event) {
  if (by_email(u.email)) {
    return core::fail(Error::email_taken);
  }
  users.push_back(u);
  if (event) {
    outbox.push_back(*event);
  }
  return {};
}

std::optional<User> FakeStore::by_email(const std::string& email) {
  for (const auto& u : users) {
    if (lower(u.email) == lower(email)) {
      return u;
    }
  }
  return std::nullopt;
}

User* FakeStore::find(const std::string& id) {
  for (auto& u : users) {
    if (u.id == id) {
      return &u;
    }
  }
  return nullptr;
}

std::optional<User> FakeStore::by_id(const std::string& id) {
  if (auto* u = find(id)) {
    return *u;
  }
  return std::nullopt;
}

std::vector<User> FakeStore::list(std::int64_t limit, std::int64_t offset) {
  std::vector<User> newest(users.rbegin(), users.rend());
  const auto from = std::min<std::size_t>(static_cast<std::size_t>(offset), newest.size());
  const auto to = std::min<std::size_t>(from + static_cast<std::size_t>(limit), newest.size());
  return {newest.begin() + static_cast<std::ptrdiff_t>(from),
          newest.begin() + static_cast<std::ptrdiff_t>(to)};
}

std::int64_t FakeStore::count() {
  return static_cast<std::int64_t>(users.size());
}

std::vector<std::string> FakeStore::live_families(const std::string& user_id) const {
  std::vector<std::string> out;
  for (const auto& [hash, row] : refresh) {
    if (row.user_id == user_id && !row.revoked && row.expires_at > core::unix_seconds() &&
        std::find(out.begin(), out.end(), row.family) == out.end()) {
      out.push_back(row.family);
    }
  }
  return out;
}

ProfileChange FakeStore::update_profile(const std::string& id, const std::string& name,
                                        const std::optional<std::string>& password_hash,
                                        const std::string& now) {
  auto* u = find(id);
  if (u == nullptr) {
    return {};
  }
  u->name = name;
  u->updated_at = now;
  ProfileChange out{true, {}};
  if (password_hash) {
    u->password_hash = *password_hash;
    out.ended_sessions = live_families(id);
    for (auto& [hash, row] : refresh) {
      if (row.user_id == id) {
        row.revoked = true;
      }
    }
  }
  return out;
}

std::optional<std::vector<std::string>> FakeStore::set_role(const std::string& id,
                                                            const std::string& role,
                                                            const std::string& now) {
  auto* u = find(id);
  if (u == nullptr) {
    return std::nullopt;
  }
  u->role = role;
  u->updated_at = now;
  auto families = live_families(id);
  for (const auto& f : families) {
    const auto renamed = core::new_id();
    for (auto& [hash, row] : refresh) {
      if (row.family == f) {
        row.family = renamed;
      }
    }
  }
  return families;
}

void FakeStore::add_refresh(const std::string& token_hash, const std::string& family,
                            const std::string& user_id, std::int64_t expires_at) {
  refresh[token_hash] = RefreshRow{family, user_id, expires_at};
}

void FakeStore::revoke_family(const std::string& family) {
  for (auto& [hash, row] : refresh) {
    if (row.family == family) {
      row.revoked = true;
    }
  }
}

Rotation FakeStore::rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                                   std::int64_t new_expires_at) {
  auto it = refresh.find(old_hash);
  if (it == refresh.end()) {
    return {};
  }
  auto& row = it->second;
  Rotation out{RotateOutcome::rotated, row.user_id, row.family};
  if (row.used || row.revoked) {
    revoke_family(row.family);
    out.outcome = RotateOutcome::reused;
    return out;
  }
  if (row.expires_at < core::unix_seconds()) {
    out.outcome = RotateOutcome::expired;
    return out;
  }
  row.used = true;
  refresh[new_hash] = RefreshRow{row.family, row.user_id, new_expires_at};
  return out;
}

std::optional<std::string> FakeStore::revoke_family_of(const std::string& token_hash) {
  auto it = refresh.find(token_hash);
  if (it == refresh.end()) {
    return std::nullopt;
  }
  revoke_family(it->second.family);
  return it->second.family;
}

void FakeStore::add_revocations(const std::vector<auth::Revocation>& rs, std::int64_t now_ms) {
  for (const auto& r : rs) {
    revocations[r.sid] = {r.expires_at, now_ms};
  }
}

std::vector<auth::Revocation> FakeStore::revocations_after(std::int64_t after_ms) {
  std::vector<auth::Revocation> out;
  for (const auto& [sid, e] : revocations) {
    if (e.second > after_ms && e.first >= core::unix_seconds()) {
      out.push_back({sid, e.first});
    }
  }
  return out;
}

core::Result<std::string, Error> FakePasswords::hash(std::string_view password) {
  if (busy) {
    return core::fail(Error::hashing_busy);
  }
  ++hashes;
  return "fake:" + std::string(password);
}

core::Result<bool, Error> FakePasswords::verify(std::optional<std::string_view> encoded,
                                                std::string_view password) {
  if (busy) {
    return core::fail(Error::hashing_busy);
  }
  ++checks;
  if (!encoded) {
    ++unknown_checks;
    return false;
  }
  return *encoded == "fake:" + std::string(password);
}

}  // namespace emporium::user::testing
