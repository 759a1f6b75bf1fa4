#include "gateway/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/json.hpp"
#include "product/domain.hpp"

namespace emporium {
namespace {

namespace json = boost::json;

TEST(Money, JsonShowsCentsAsPlainDecimals) {
  EXPECT_EQ(http::dump(json::object{{"p", http::money(1999)}}), R"({"p":19.99})");
  EXPECT_EQ(http::dump(json::object{{"p", http::money(2000)}}), R"({"p":20})");
  EXPECT_EQ(http::dump(json::object{{"p", http::money(5)}}), R"({"p":0.05})");
  EXPECT_EQ(http::dump(json::object{{"p", http::money(123456789)}}), R"({"p":1234567.89})");
  EXPECT_EQ(http::dump(json::value("a\"b")), R"("a\"b")");
}

TEST(Money, PricesParseExactlyToCents) {
  auto cents = [](std::string_view text) -> std::optional<std::int64_t> {
    auto o = json::parse(text).as_object();
    http::Fields f(o, {"price"});
    return f.money_cents("price");
  };
  EXPECT_EQ(cents(R"({"price":19.99})"), 1999);
  EXPECT_EQ(cents(R"({"price":0.1})"), 10);
  EXPECT_EQ(cents(R"({"price":69.99})"), 6999);
  EXPECT_EQ(cents(R"({"price":149})"), 14900);
  EXPECT_EQ(cents(R"({"price":0})"), 0);
  EXPECT_FALSE(cents(R"({"price":1.005})"));
  EXPECT_FALSE(cents(R"({"price":-0.01})"));
  EXPECT_FALSE(cents(R"({"price":"5"})"));
  EXPECT_FALSE(cents(R"({"price":1e300})"));
}

TEST(ProductInput, CreateNeedsNamePriceCategoryAndRejectsUnknownFields) {
  std::vector<http::FieldError> errors;
  auto in = product::read_product_input(
      json::parse(R"({"name":"  Lamp ","price":5,"category":"Home"})").as_object(),
      product::InputMode::create, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(in.name, "Lamp");
  EXPECT_EQ(in.currency, "USD");
  EXPECT_EQ(in.stock, 0);

  errors.clear();
  product::read_product_input(
      json::parse(R"({"price":5,"colour":"red","currency":"usd"})").as_object(),
      product::InputMode::create, errors);
  std::vector<std::string> fields;
  for (const auto& e : errors) {
    fields.push_back(e.field);
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"colour", "name", "currency", "category"}));
}

TEST(ProductInput, PatchTakesAnySubsetButNotNothing) {
  std::vector<http::FieldError> errors;
  auto in = product::read_product_input(json::parse(R"({"stock":3})").as_object(),
                                        product::InputMode::patch, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(in.stock, 3);
  EXPECT_FALSE(in.name);
  product::read_product_input(json::object{}, product::InputMode::patch, errors);
  EXPECT_EQ(errors.size(), 1U);
}

TEST(ProductInput, ImageUrlsMustBeHttp) {
  EXPECT_TRUE(product::valid_image_url("https://cdn.example.com/a.jpg"));
  EXPECT_TRUE(product::valid_image_url("http://localhost:8080/x.png"));
  EXPECT_FALSE(product::valid_image_url("javascript:alert(1)"));
  EXPECT_FALSE(product::valid_image_url("ftp://x/y"));
  EXPECT_FALSE(product::valid_image_url("/relative.png"));
  EXPECT_FALSE(product::valid_image_url("https:///nohost"));
}

}  // namespace
}  // namespace emporium
