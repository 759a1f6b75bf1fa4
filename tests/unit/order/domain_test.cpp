#include "order/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace emporium::order {
namespace {

namespace json = boost::json;

// The life-cycle rule on statuses as the API spells them; false for a name
// that is not a status.
bool transition_allowed(std::string_view from, std::string_view to) {
  const auto f = parse_status(from);
  const auto t = parse_status(to);
  return f && t && order::transition_allowed(*f, *t);
}

bool valid_status(std::string_view s) {
  return parse_status(s).has_value();
}

TEST(OrderStatus, OnlyTheDocumentedMovesAreAllowed) {
  EXPECT_TRUE(transition_allowed("pending", "processing"));
  EXPECT_TRUE(transition_allowed("processing", "shipped"));
  EXPECT_TRUE(transition_allowed("shipped", "delivered"));
  EXPECT_TRUE(transition_allowed("pending", "cancelled"));
  EXPECT_TRUE(transition_allowed("processing", "cancelled"));
  EXPECT_FALSE(transition_allowed("pending", "shipped"));
  EXPECT_FALSE(transition_allowed("shipped", "cancelled"));
  EXPECT_FALSE(transition_allowed("delivered", "pending"));
  EXPECT_FALSE(transition_allowed("cancelled", "pending"));
  EXPECT_FALSE(transition_allowed("cancelled", "cancelled"));
  EXPECT_FALSE(valid_status("lost"));
}

TEST(OrderStatus, NamesRoundTripAndOnlyCancellingReleasesStock) {
  for (auto s : {Status::pending, Status::processing, Status::shipped, Status::delivered,
                 Status::cancelled}) {
    EXPECT_EQ(parse_status(to_string(s)), s);
    EXPECT_EQ(releases_stock(s), s == Status::cancelled);
  }
}

TEST(OrderInput, PlaceOrderTrimsTheAddressAndJudgesItSeparately) {
  auto in = read_place_order(json::parse(R"({"userId":" u1 ","shippingAddress":{"street":" 1 Main ",
      "city":"A","state":"B","zipCode":"0","country":"C"}})")
                                 .as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->user_id, "u1");
  ASSERT_TRUE(in->address.ok());
  EXPECT_EQ(in->address->street, "1 Main");
  EXPECT_EQ(json::serialize(address_json(*in->address)),
            R"({"street":"1 Main","city":"A","state":"B","zipCode":"0","country":"C"})");

  auto bad = read_place_order(json::parse(R"({"userId":"u1","shippingAddress":[]})").as_object());
  ASSERT_TRUE(bad.ok());  // the user is known; the address is the 422
  ASSERT_FALSE(bad->address.ok());
  EXPECT_EQ(bad->address.error().status, 422);
  EXPECT_EQ(bad->address.error().detail, "Validation failed: shippingAddress Must be an object");

  auto long_part = read_place_order(
      json::parse(R"({"userId":"u1","shippingAddress":{"street":")" + std::string(201, 's') +
                  R"(","city":"A","state":"B","zipCode":"0","country":"C"}})")
          .as_object());
  ASSERT_FALSE(long_part->address.ok());
  EXPECT_EQ(long_part->address.error().fields.at(0).field, "shippingAddress.street");
  EXPECT_EQ(long_part->address.error().fields.at(0).msg, "Must be 1 to 200 characters");

  auto no_user = read_place_order(json::parse(R"({"userId":""})").as_object());
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(no_user.error().status, 400);
  EXPECT_EQ(no_user.error().detail, "Validation failed: userId Must be 1 to 64 characters");
}

TEST(OrderInput, StatusChangeNamesAStatus) {
  auto ok = read_status_change(json::parse(R"({"status":"shipped"})").as_object());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, Status::shipped);
  auto bad = read_status_change(json::parse(R"({"status":"lost"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_FALSE(read_status_change(json::parse(R"({})").as_object()).ok());
  EXPECT_FALSE(read_status_change(json::parse(R"({"status":"shipped","x":1})").as_object()).ok());
}

TEST(OrderTotals, SumPriceTimesQuantity) {
  EXPECT_EQ(total_cents({}), 0);
  EXPECT_EQ(total_cents({Item{"a", "A", 2, 999}, Item{"b", "B", 1, 2500}}), 4498);
}

}  // namespace
}  // namespace emporium::order
