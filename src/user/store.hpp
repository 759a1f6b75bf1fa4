#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bus/event.hpp"
#include "db/db.hpp"

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

enum class RotateResult { rotated, unknown, reused, expired };

// The user service's storage. Throws db::DbError.
class Store {
 public:
  explicit Store(db::Database& db) : db_(db) {}

  // False when the (case-insensitive) email is taken. `event`, when given,
  // goes into the outbox in the same transaction.
  bool insert(const User& u, const std::optional<bus::Event>& event = std::nullopt);
  std::optional<User> by_email(const std::string& email);
  std::optional<User> by_id(const std::string& id);
  std::vector<User> list(std::int64_t limit, std::int64_t offset);
  std::int64_t count();
  bool update_profile(const std::string& id, const std::string& name,
                      const std::optional<std::string>& password_hash, const std::string& now);
  bool set_role(const std::string& id, const std::string& role, const std::string& now);

  void add_refresh(const std::string& token_hash, const std::string& family,
                   const std::string& user_id, std::int64_t expires_at);
  // Marks `old_hash` used and records `new_hash` in the same family, in one
  // transaction. A token already used or revoked revokes its whole family.
  RotateResult rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                              std::int64_t new_expires_at, std::string& user_id);
  // Revokes the family `token_hash` belongs to; false when unknown.
  bool revoke_family_of(const std::string& token_hash);

 private:
  db::Database& db_;
};

}  // namespace emporium::user
