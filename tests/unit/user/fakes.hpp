#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bus/event.hpp"
#include "user/passwords.hpp"
#include "user/store.hpp"

namespace emporium::user::testing {

// One stored refresh token, as the fake store keeps it.
struct RefreshRow {
  std::string family;
  std::string user_id;
  std::int64_t expires_at = 0;
  bool used = false;
  bool revoked = false;
};

// An in-memory Store with the SQL store's rules: emails unique regardless of
// case, refresh families revoked on reuse, and a new password revoking every
// refresh token of its user. Its members are open for tests to inspect.
class FakeStore final : public Store {
 public:
  core::Result<void, Error> insert(const User& u, const std::optional<bus::Event>& event) override;
  void add_event(const bus::Event& event) override { outbox.push_back(event); }
  std::optional<User> by_email(const std::string& email) override;
  std::optional<User> by_id(const std::string& id) override;
  std::vector<User> list(std::int64_t limit, std::int64_t offset) override;
  std::int64_t count() override;
  ProfileChange update_profile(const std::string& id, const std::string& name,
                               const std::optional<std::string>& password_hash,
                               const std::string& now) override;
  std::optional<std::vector<std::string>> set_role(const std::string& id, const std::string& role,
                                                   const std::string& now) override;
  void add_refresh(const std::string& token_hash, const std::string& family,
                   const std::string& user_id, std::int64_t expires_at) override;
  Rotation rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                          std::int64_t new_expires_at) override;
  std::optional<std::string> revoke_family_of(const std::string& token_hash) override;
  void add_revocations(const std::vector<auth::Revocation>& rs, std::int64_t now_ms) override;
  std::vector<auth::Revocation> revocations_after(std::int64_t after_ms) override;

  std::vector<User> users;                    // in insertion order
  std::map<std::string, RefreshRow> refresh;  // by token hash
  std::vector<bus::Event> outbox;             // events committed with inserts
  // Recorded revocations: sid -> (expires_at, recorded at ms).
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> revocations;

 private:
  void revoke_family(const std::string& family);
  std::vector<std::string> live_families(const std::string& user_id) const;
  User* find(const std::string& id);
};

// Passwords without argon2: the "hash" of p is "fake:" + p. `busy` makes
// every call fail with hashing_busy; `unknown_checks` counts verifications
// made for an unknown account.
class FakePasswords final : public Passwords {
 public:
  core::Result<std::string, Error> hash(std::string_view password) override;
  core::Result<bool, Error> verify(std::optional<std::string_view> encoded,
                                   std::string_view password) override;

  bool busy = false;
  int hashes = 0;
  int checks = 0;  // every verification
  int unknown_checks = 0;
};

}  // namespace emporium::user::testing
