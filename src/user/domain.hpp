#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/json.hpp"

namespace emporium::user {

// Password rules: a new password has 10 to 128 characters and is not one of
// the most common breached passwords (is_common_password); one presented at
// sign-in (or as the current password) 1 to 128.
inline constexpr std::size_t kPasswordMin = 10;
inline constexpr std::size_t kPasswordMax = 128;
// A display name has at most 100 characters (empty allowed).
inline constexpr std::size_t kNameMax = 100;
// An email address has at most 254 characters.
inline constexpr std::size_t kEmailMax = 254;
// A role as sent to PUT /api/users/{id}/role: 1 to 20 characters.
inline constexpr std::size_t kRoleNameMax = 20;
// A refresh token as clients send it back: 1 to 200 characters.
inline constexpr std::size_t kRefreshTokenMax = 200;

// True for a plausible email address: one '@', non-empty local part, a
// domain with a dot, no spaces, at most 254 characters.
bool valid_email(std::string_view email);

// The roles an account can hold.
enum class Role { customer, admin };

// "customer" or "admin", as stored and as put in tokens.
std::string_view role_name(Role role) noexcept;
// The role named `name`; nullopt for any other text.
std::optional<Role> role_from(std::string_view name) noexcept;

// POST /api/users/register: {"email","password"[,"name"]}.
struct RegisterInput {
  std::string email{};
  std::string password{};
  std::string name{};
};
http::Parsed<RegisterInput> read_register(const boost::json::object& o);

// POST /api/users/login: {"email","password"}.
struct LoginInput {
  std::string email{};
  std::string password{};
};
http::Parsed<LoginInput> read_login(const boost::json::object& o);

// POST /api/users/refresh: {"refreshToken"}.
struct RefreshInput {
  std::optional<std::string> token{};  // else the refresh cookie
};
http::Parsed<RefreshInput> read_refresh(const boost::json::object& o);

// POST /api/users/logout: an optional {"refreshToken"} (its family is revoked).
struct LogoutInput {
  std::optional<std::string> token{};
};
http::Parsed<LogoutInput> read_logout(const boost::json::object& o);

// PUT /api/users/profile: at least one of "name" and "password"; a new
// password needs "currentPassword".
struct ProfileUpdate {
  std::optional<std::string> name{};
  std::optional<std::string> password{};
  std::optional<std::string> current_password{};
};
http::Parsed<ProfileUpdate> read_profile_update(const boost::json::object& o);

// PUT /api/users/{id}/role: {"role": "customer" | "admin"}.
struct RoleInput {
  Role role = Role::customer;
};
http::Parsed<RoleInput> read_role(const boost::json::object& o);

}  // namespace emporium::user
