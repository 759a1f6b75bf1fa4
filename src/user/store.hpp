#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/revocations.hpp"
#include "bus/event.hpp"
#include "core/result.hpp"
#include "db/db.hpp"
#include "user/errors.hpp"

namespace emporium::user {

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;
  std::string role;
  std::string created_at;
  std::string updated_at;
};

// What rotating a refresh token found.
enum class RotateOutcome { rotated, unknown, reused, expired };

struct Rotation {
  RotateOutcome outcome = RotateOutcome::unknown;
  std::string user_id;  // the token's user; empty when unknown
  std::string family;   // its family (the session id); empty when unknown
};

// What a profile update changed.
struct ProfileChange {
  bool found = false;                       // false: no user with that id
  std::vector<std::string> ended_sessions;  // families a new password revoked
};

// The user service's repository: accounts and refresh-token families.
// Emails are unique case-insensitively. Implementations throw on broken
// infrastructure (db::DbError for SqlStore).
class Store {
 public:
  virtual ~Store() = default;

  // Adds `u`; fails with email_taken when its email is registered already.
  // `event`, when given, goes into the outbox in the same transaction.
  virtual core::Result<void, Error> insert(const User& u,
                                           const std::optional<bus::Event>& event) = 0;
  // Writes `event` to the outbox on its own.
  virtual void add_event(const bus::Event& event) = 0;
  virtual std::optional<User> by_email(const std::string& email) = 0;
  virtual std::optional<User> by_id(const std::string& id) = 0;
  // Newest first.
  virtual std::vector<User> list(std::int64_t limit, std::int64_t offset) = 0;
  virtual std::int64_t count() = 0;
  // Sets the name, and the password hash when given; a new password revokes
  // every refresh token of the user and reports their live families.
  virtual ProfileChange update_profile(const std::string& id, const std::string& name,
                                       const std::optional<std::string>& password_hash,
                                       const std::string& now) = 0;
  // Sets the role and moves each live refresh family of the user to a new
  // id (tokens keep working; the next refresh issues the new role under the
  // new session id). Returns the old ids, to revoke; nullopt when the id is
  // unknown.
  virtual std::optional<std::vector<std::string>> set_role(const std::string& id,
                                                           const std::string& role,
                                                           const std::string& now) = 0;

  // Records a new refresh token (by its hash) starting or continuing `family`.
  virtual void add_refresh(const std::string& token_hash, const std::string& family,
                           const std::string& user_id, std::int64_t expires_at) = 0;
  // Marks `old_hash` used and records `new_hash` in the same family, in one
  // transaction. A token already used or revoked revokes its whole family
  // (reused); an expired one changes nothing.
  virtual Rotation rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                                  std::int64_t new_expires_at) = 0;
  // Revokes the family `token_hash` belongs to; returns it (nullopt when unknown).
  virtual std::optional<std::string> revoke_family_of(const std::string& token_hash) = 0;

  // Records revoked sessions (an already recorded sid takes the new values)
  // and drops the expired ones.
  virtual void add_revocations(const std::vector<auth::Revocation>& rs, std::int64_t now_ms) = 0;
  // The live revocations recorded after `after_ms`.
  virtual std::vector<auth::Revocation> revocations_after(std::int64_t after_ms) = 0;
};

// The Store on the service's SQL database (SQLite or PostgreSQL).
class SqlStore final : public Store {
 public:
  explicit SqlStore(db::Database& db) : db_(db) {}

  core::Result<void, Error> insert(const User& u, const std::optional<bus::Event>& event) override;
  void add_event(const bus::Event& event) override;
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

 private:
  db::Database& db_;
};

}  // namespace emporium::user
