#include "cart/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace emporium::cart::testing {
namespace {

namespace json = boost::json;

svc::ProductSummary product(std::int64_t price_cents, std::int64_t stock) {
  return {
      .id = "mug", .name = "Mug", .currency = "USD", .price_cents = price_cents, .stock = stock};
}

TEST(CartQuantity, AddingSumsWithWhatTheCartHas) {
  auto want = quantity_after_add(3, 4, product(100, 10));
  ASSERT_TRUE(want);
  EXPECT_EQ(*want, 7);
  EXPECT_EQ(*quantity_after_add(0, 10, product(100, 10)), 10);
  EXPECT_EQ(*quantity_after_add(999, 1, product(100, 5000)), kMaxQuantity);
}

TEST(CartQuantity, AtMostTheLimitFitsBeforeTheStockIsAsked) {
  auto want = quantity_after_add(999, 2, product(100, 5));
  ASSERT_FALSE(want);
  EXPECT_EQ(want.error().code, Error::too_many);
  EXPECT_EQ(want.error().detail, "");
}

TEST(CartQuantity, NoMoreThanTheStock) {
  auto want = quantity_after_add(2, 2, product(100, 3));
  ASSERT_FALSE(want);
  EXPECT_EQ(want.error().code, Error::insufficient_stock);
  EXPECT_EQ(want.error().detail, "Insufficient stock for Mug: 3 available");
  EXPECT_TRUE(check_stock(3, product(100, 3)));
  auto none = check_stock(1, product(100, 0));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().detail, "Insufficient stock for Mug: 0 available");
}

TEST(CartTotals, SubtotalsAndTotalInCentsSkippingProductsNoLongerSold) {
  std::map<std::string, svc::ProductSummary> products{
      {"mug", {.id = "mug", .name = "Mug", .currency = "USD", .price_cents = 1999, .stock = 1}},
      {"lamp", {.id = "lamp", .name = "Lamp", .currency = "USD", .price_cents = 500, .stock = 1}}};
  const auto priced = price({{"lamp", 3}, {"gone", 5}, {"mug", 2}}, products);
  ASSERT_EQ(priced.lines.size(), 2u);
  EXPECT_EQ(priced.lines[0].product_id, "lamp");
  EXPECT_EQ(priced.lines[0].name, "Lamp");
  EXPECT_EQ(priced.lines[0].subtotal_cents, 1500);
  EXPECT_EQ(priced.lines[1].price_cents, 1999);
  EXPECT_EQ(priced.lines[1].quantity, 2);
  EXPECT_EQ(priced.lines[1].subtotal_cents, 3998);
  EXPECT_EQ(priced.total_cents, 5498);
  EXPECT_EQ(price({}, products).total_cents, 0);
}

TEST(CartInput, AddNeedsAProductAndAQuantityWithinTheLimit) {
  auto in = read_add_item(json::parse(R"({"productId":" mug ","quantity":1000})").as_object());
  ASSERT_TRUE(in);
  EXPECT_EQ(in->product_id, "mug");
  EXPECT_EQ(in->quantity, 1000);

  auto bad = read_add_item(json::parse(R"({"productId":"","quantity":"2","x":1})").as_object());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 400);
  std::vector<std::string> fields;
  for (const auto& e : bad.error().fields) {
    fields.push_back(e.field);
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"x", "productId", "quantity"}));
}

TEST(CartInput, SetTakesZeroToTheLimit) {
  EXPECT_EQ(read_set_quantity(json::parse(R"({"quantity":0})").as_object())->quantity, 0);
  EXPECT_EQ(read_set_quantity(json::parse(R"({"quantity":1000})").as_object())->quantity, 1000);
  auto over = read_set_quantity(json::parse(R"({"quantity":1001})").as_object());
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().detail, "Validation failed: quantity Must be between 0 and 1000");
  EXPECT_FALSE(read_set_quantity(json::parse(R"({})").as_object()));
}

}  // namespace
}  // namespace emporium::cart::testing
