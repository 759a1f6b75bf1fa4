#include "user/domain.hpp"

#include "auth/auth.hpp"
#include "user/passwords.hpp"

namespace emporium::user {

namespace {

// Reads a new password: the length rule, then the list of common ones.
std::optional<std::string> new_password(http::Fields& f, std::string_view name, bool required) {
  auto password = f.string(name, kPasswordMin, kPasswordMax, required);
  if (password && is_common_password(*password)) {
    f.add_error(std::string(name), std::string(kCommonPasswordMessage));
    return std::nullopt;
  }
  return password;
}

}  // namespace

bool valid_email(std::string_view e) {
  if (e.size() < 3 || e.size() > kEmailMax) {
    return false;
  }
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto domain = e.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';') {
      return false;
    }
  }
  return true;
}

std::string_view role_name(Role role) noexcept {
  return role == Role::admin ? auth::kRoleAdmin : auth::kRoleCustomer;
}

std::optional<Role> role_from(std::string_view name) noexcept {
  if (name == auth::kRoleCustomer) {
    return Role::customer;
  }
  if (name == auth::kRoleAdmin) {
    return Role::admin;
  }
  return std::nullopt;
}

http::Parsed<RegisterInput> read_register(const boost::json::object& o) {
  http::Fields f(o, {"email", "password", "name"});
  auto email = f.string("email", 3, kEmailMax);
  if (email && !valid_email(*email)) {
    f.add_error("email", "Must be a valid email address");
  }
  auto password = new_password(f, "password", true);
  auto name = f.string("name", 0, kNameMax, false);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return RegisterInput{std::move(*email), std::move(*password), name.value_or("")};
}

http::Parsed<LoginInput> read_login(const boost::json::object& o) {
  http::Fields f(o, {"email", "password"});
  auto email = f.string("email", 1, kEmailMax);
  auto password = f.string("password", 1, kPasswordMax);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return LoginInput{std::move(*email), std::move(*password)};
}

http::Parsed<RefreshInput> read_refresh(const boost::json::object& o) {
  http::Fields f(o, {"refreshToken"});
  auto token = f.string("refreshToken", 1, kRefreshTokenMax, false);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return RefreshInput{std::move(token)};
}

http::Parsed<LogoutInput> read_logout(const boost::json::object& o) {
  http::Fields f(o, {"refreshToken"});
  auto token = f.string("refreshToken", 1, kRefreshTokenMax, false);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return LogoutInput{std::move(token)};
}

http::Parsed<ProfileUpdate> read_profile_update(const boost::json::object& o) {
  http::Fields f(o, {"name", "password", "currentPassword"});
  auto name = f.string("name", 0, kNameMax, false);
  auto password = new_password(f, "password", false);
  auto current = f.string("currentPassword", 1, kPasswordMax, false);
  if (o.empty()) {
    f.add_error("body", "At least one of name or password is required");
  }
  if (password && !current) {
    f.add_error("currentPassword", "Required to change the password");
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return ProfileUpdate{std::move(name), std::move(password), std::move(current)};
}

http::Parsed<RoleInput> read_role(const boost::json::object& o) {
  http::Fields f(o, {"role"});
  auto role = f.string("role", 1, kRoleNameMax);
  std::optional<Role> parsed;
  if (role) {
    parsed = role_from(*role);
    if (!parsed) {
      f.add_error("role", "Must be customer or admin");
    }
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return RoleInput{*parsed};
}

}  // namespace emporium::user
