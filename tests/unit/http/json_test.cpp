#include "http/json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>

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

}  // namespace
}  // namespace emporium
