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

namespace emporium {
namespace {

http::Request list_request(std::string target) {
  http::Request req;
  req.method = "GET";
  EXPECT_TRUE(http::parse_target(target, req));
  req.target = std::move(target);
  return req;
}

TEST(Paging, LinkHeaderNamesFirstPrevNextLastKeepingOtherParameters) {
  auto req = list_request("/api/orders?status=pending&page=2&limit=10");
  http::Response res;
  http::add_paging_headers(res, req, http::PageRequest{.page = 2, .limit = 10}, 35);
  EXPECT_EQ(res.headers.get("X-Total-Count").value_or(""), "35");
  EXPECT_EQ(res.headers.get("Link").value_or(""),
            "</api/orders?status=pending&page=1&limit=10>; rel=\"first\", "
            "</api/orders?status=pending&page=1&limit=10>; rel=\"prev\", "
            "</api/orders?status=pending&page=3&limit=10>; rel=\"next\", "
            "</api/orders?status=pending&page=4&limit=10>; rel=\"last\"");
}

TEST(Paging, OnePageHasNeitherPrevNorNextAndValuesAreEncoded) {
  auto req = list_request("/api/orders?userId=a%26b");
  http::Response res;
  http::add_paging_headers(res, req, http::PageRequest{}, 0);
  EXPECT_EQ(res.headers.get("X-Total-Count").value_or(""), "0");
  EXPECT_EQ(res.headers.get("Link").value_or(""),
            "</api/orders?userId=a%26b&page=1&limit=20>; rel=\"first\", "
            "</api/orders?userId=a%26b&page=1&limit=20>; rel=\"last\"");
}

TEST(Fields, AnEmptyOptionalStringIsAbsent) {
  const auto o = boost::json::parse(R"({"imageUrl":"","name":""})").as_object();
  http::Fields f(o, {"imageUrl", "name"});
  EXPECT_FALSE(f.given("imageUrl"));
  EXPECT_TRUE(f.has("imageUrl"));
  EXPECT_EQ(f.string("imageUrl", 1, 2048, false), std::nullopt);
  // Where "" is a value (min 0) it stays one; a required field still fails.
  EXPECT_EQ(f.string("name", 0, 10, false), std::optional<std::string>(""));
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.string("name", 1, 10, true), std::nullopt);
  EXPECT_FALSE(f.ok());
}

}  // namespace
}  // namespace emporium
