#include "user/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "user/passwords.hpp"

namespace emporium::user {
namespace {

namespace json = boost::json;

std::vector<std::string> invalid_fields(const http::Invalid& invalid) {
  std::vector<std::string> out;
  for (const auto& e : invalid.fields) {
    out.push_back(e.field);
  }
  return out;
}

TEST(Email, PlausibleAddressesOnly) {
  EXPECT_TRUE(valid_email("ann@example.com"));
  EXPECT_TRUE(valid_email("a.b+c@sub.example.co.uk"));
  EXPECT_FALSE(valid_email("ann"));
  EXPECT_FALSE(valid_email("@example.com"));
  EXPECT_FALSE(valid_email("ann@example"));
  EXPECT_FALSE(valid_email("ann@@example.com"));
  EXPECT_FALSE(valid_email("ann smith@example.com"));
}

TEST(Roles, NamesRoundTripAndNothingElseIsARole) {
  EXPECT_EQ(role_name(Role::customer), "customer");
  EXPECT_EQ(role_name(Role::admin), "admin");
  EXPECT_EQ(role_from("admin"), Role::admin);
  EXPECT_EQ(role_from("customer"), Role::customer);
  EXPECT_FALSE(role_from("service"));
  EXPECT_FALSE(role_from("Admin"));
}

TEST(RegisterInput, NeedsAnEmailAndAPasswordOfTenCharacters) {
  auto in = read_register(
      json::parse(R"({"email":"ann@example.com","password":"ann-2026-pw"})").as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->email, "ann@example.com");
  EXPECT_EQ(in->password, "ann-2026-pw");
  EXPECT_EQ(in->name, "");
  // Ten code points, whatever their bytes.
  EXPECT_TRUE(
      read_register(
          json::parse(R"({"email":"a@b.co","password":"\u00e9t\u00e9-\u00e0-lyon"})").as_object())
          .ok());

  auto bad = read_register(
      json::parse(R"({"email":"ann@example","password":"ann-2026-","admin":true})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"admin", "email", "password"}));
  EXPECT_EQ(bad.error().fields[1].msg, "Must be a valid email address");
  EXPECT_EQ(bad.error().fields[2].msg, "Must be 10 to 128 characters");
  auto long_one =
      read_register(json::object{{"email", "a@b.co"}, {"password", std::string(129, 'x')}});
  ASSERT_FALSE(long_one.ok());
  EXPECT_EQ(long_one.error().fields[0].msg, "Must be 10 to 128 characters");
  EXPECT_TRUE(
      read_register(json::object{{"email", "a@b.co"}, {"password", std::string(128, 'x')}}).ok());
}

TEST(RegisterInput, ACommonPasswordIsRefusedWhateverItsCase) {
  for (const char* common : {"1234567890", "qwertyuiop", "Password123", "QWERTYUIOP",
                             "1qaz2wsx3edc", "  basketball  "}) {
    auto bad = read_register(json::object{{"email", "a@b.co"}, {"password", common}});
    ASSERT_FALSE(bad.ok()) << common;
    EXPECT_EQ(bad.error().detail,
              "Validation failed: password Is one of the most common passwords (found in data "
              "breaches); choose another")
        << common;
  }
  EXPECT_TRUE(is_common_password("PassWord123"));
  EXPECT_FALSE(is_common_password("correct-horse-battery"));
  EXPECT_FALSE(is_common_password("1234567890 "));
}

TEST(LoginInput, AcceptsAnyNonEmptyPassword) {
  auto in = read_login(json::parse(R"({"email":"a","password":"x"})").as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->password, "x");
  auto bad = read_login(json::parse(R"({"email":"a@b.co"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"password"}));
}

// Both take the token from the body when sent (else from the refresh cookie,
// see the handler tests); "" is no token, as a blank form field.
TEST(RefreshAndLogoutInput, TokenOptionalInTheBody) {
  auto none = read_refresh(json::object{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->token);
  EXPECT_EQ(read_refresh(json::parse(R"({"refreshToken":"t"})").as_object())->token, "t");
  EXPECT_FALSE(read_refresh(json::parse(R"({"refreshToken":""})").as_object())->token);
  EXPECT_FALSE(read_refresh(json::parse(R"({"refreshToken":7})").as_object()).ok());
  auto out = read_logout(json::object{});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->token);
  EXPECT_EQ(read_logout(json::parse(R"({"refreshToken":"t"})").as_object())->token, "t");
  EXPECT_FALSE(read_logout(json::parse(R"({"refreshToken":""})").as_object())->token);
}

TEST(ProfileUpdate, ANewPasswordFollowsTheRulesOfRegistration) {
  auto shortish = read_profile_update(
      json::parse(R"({"password":"123456789","currentPassword":"old"})").as_object());
  ASSERT_FALSE(shortish.ok());
  EXPECT_EQ(shortish.error().fields[0].msg, "Must be 10 to 128 characters");
  auto common = read_profile_update(
      json::parse(R"({"password":"1q2w3e4r5t","currentPassword":"old"})").as_object());
  ASSERT_FALSE(common.ok());
  EXPECT_EQ(common.error().fields[0].field, "password");
  EXPECT_EQ(common.error().fields[0].msg, kCommonPasswordMessage);
}

TEST(ProfileUpdate, ANewPasswordNeedsTheCurrentOne) {
  auto bad = read_profile_update(json::parse(R"({"password":"new-password"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"currentPassword"}));
  EXPECT_EQ(bad.error().fields[0].msg, "Required to change the password");

  auto empty = read_profile_update(json::object{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(invalid_fields(empty.error()), (std::vector<std::string>{"body"}));

  auto ok = read_profile_update(
      json::parse(R"({"password":"new-password","currentPassword":"old"})").as_object());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->password, "new-password");
  EXPECT_EQ(ok->current_password, "old");
  EXPECT_FALSE(ok->name);
}

TEST(RoleInput, OnlyCustomerOrAdmin) {
  EXPECT_EQ(read_role(json::parse(R"({"role":"admin"})").as_object())->role, Role::admin);
  auto bad = read_role(json::parse(R"({"role":"service"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.at(0).msg, "Must be customer or admin");
}

}  // namespace
}  // namespace emporium::user
