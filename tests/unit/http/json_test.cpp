#include "http/json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>

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

namespace emporium {
namespace {

// The problem parse_object reports for `body`, or "" when it parses.
std::string parse_problem(std::string_view body) {
  auto parsed = http::parse_object(body);
  return parsed ? std::string() : parsed.error().detail;
}

TEST(JsonBody, ParsesAnObjectAsBoostJsonDoes) {
  auto parsed = http::parse_object(
      R"( {"a":1,"b":[true,null,"x",{"c":-2.5}],"d":{"e":18446744073709551615}} )");
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(
      json::value(*parsed),
      json::parse(R"({"a":1,"b":[true,null,"x",{"c":-2.5}],"d":{"e":18446744073709551615}})"));
  EXPECT_EQ(parse_problem("{}"), "");
  EXPECT_EQ(parse_problem(R"({"a":1,"A":2,"ab":3})"), "") << "keys differ by case or length";
}

TEST(JsonBody, ADuplicateKeyIsRefusedNamingIt) {
  auto parsed = http::parse_object(R"({"email":"a@b.io","password":"x","email":"c@d.io"})");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().status, 400);
  EXPECT_EQ(parsed.error().detail, "Duplicate key in JSON: email");
  ASSERT_EQ(parsed.error().fields.size(), 1U);
  EXPECT_EQ(parsed.error().fields[0].field, "email");
  EXPECT_EQ(parsed.error().fields[0].msg, "Duplicate key");
  // The same key spelled with an escape is the same key.
  EXPECT_EQ(parse_problem(R"({"role":"customer","r\u006fle":"admin"})"),
            "Duplicate key in JSON: role");
}

TEST(JsonBody, DuplicatesInNestedObjectsAreNamedByTheirPath) {
  EXPECT_EQ(parse_problem(R"({"shippingAddress":{"city":"A","zip":"1","city":"B"}})"),
            "Duplicate key in JSON: shippingAddress.city");
  EXPECT_EQ(parse_problem(R"({"items":[{"q":1},{"sku":"a","q":1,"q":9}]})"),
            "Duplicate key in JSON: items[1].q");
  EXPECT_EQ(parse_problem(R"({"a":[[1],[{"b":{"c":1,"c":2}}]]})"),
            "Duplicate key in JSON: a[1][0].b.c");
  // The same key in sibling objects is no duplicate.
  EXPECT_EQ(parse_problem(R"({"items":[{"q":1},{"q":2}],"q":3})"), "");
}

TEST(JsonBody, MalformedAndNonObjectBodiesKeepTheirAnswers) {
  EXPECT_EQ(parse_problem("{not json"), "Malformed JSON");
  EXPECT_EQ(parse_problem(R"({"a":1} {"b":2})"), "Malformed JSON");
  EXPECT_EQ(parse_problem(""), "Malformed JSON");
  EXPECT_EQ(parse_problem(std::string(33, '[') + std::string(33, ']')), "Malformed JSON");
  EXPECT_EQ(parse_problem("[1,2]"), "Body must be a JSON object");
  EXPECT_EQ(parse_problem("\"text\""), "Body must be a JSON object");
}

TEST(JsonBody, ManyKeysAreCheckedQuickly) {
  std::string body = "{";
  for (int i = 0; i < 100'000; ++i) {
    body += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) + "\":" + std::to_string(i);
  }
  const auto unique = body + "}";
  const auto repeated = body + ",\"k77\":0}";
  // A guard against a check quadratic in the number of keys (which would
  // take minutes here), not a speed target.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parse_problem(unique), "");
  EXPECT_EQ(parse_problem(repeated), "Duplicate key in JSON: k77");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace emporium
