#include "product/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/json.hpp"

namespace emporium::product {
namespace {

namespace json = boost::json;

std::vector<std::string> field_names(const std::vector<http::FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) {
    out.push_back(e.field);
  }
  return out;
}

http::Request with_query(std::vector<std::pair<std::string, std::string>> query) {
  http::Request req;
  req.method = "GET";
  req.path = "/api/products";
  req.query = std::move(query);
  return req;
}

TEST(ProductInput, CreateNeedsNamePriceCategoryAndRejectsUnknownFields) {
  auto in = read_product_input(
      json::parse(R"({"name":"  Lamp ","price":5,"category":"Home"})").as_object(),
      InputMode::create);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->name, "Lamp");
  EXPECT_EQ(in->currency, "USD");
  EXPECT_EQ(in->stock, 0);

  auto bad = read_product_input(
      json::parse(R"({"price":5,"colour":"red","currency":"usd"})").as_object(), InputMode::create);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(field_names(bad.error().fields),
            (std::vector<std::string>{"colour", "name", "currency", "category"}));
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(bad.error().detail, "Validation failed: colour Unknown field");
}

TEST(ProductInput, PatchTakesAnySubsetButNotNothing) {
  auto in = read_product_input(json::parse(R"({"stock":3})").as_object(), InputMode::patch);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->stock, 3);
  EXPECT_FALSE(in->name);
  auto none = read_product_input(json::object{}, InputMode::patch);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().fields.size(), 1U);
}

TEST(ProductInput, ImageUrlsMustBeHttp) {
  EXPECT_TRUE(valid_image_url("https://cdn.example.com/a.jpg"));
  EXPECT_TRUE(valid_image_url("http://localhost:8080/x.png"));
  EXPECT_FALSE(valid_image_url("javascript:alert(1)"));
  EXPECT_FALSE(valid_image_url("ftp://x/y"));
  EXPECT_FALSE(valid_image_url("/relative.png"));
  EXPECT_FALSE(valid_image_url("https:///nohost"));
}

TEST(ProductInput, ImageUrlIsKeptClearedOrSet) {
  const auto read = [](std::string_view body, InputMode mode) {
    return read_product_input(json::parse(body).as_object(), mode);
  };
  Product p;
  p.image_url = "https://cdn.example.com/old.jpg";
  apply(*read(R"({"stock":1})", InputMode::patch), p);
  EXPECT_EQ(p.image_url, "https://cdn.example.com/old.jpg");
  apply(*read(R"({"imageUrl":"https://cdn.example.com/new.jpg"})", InputMode::patch), p);
  EXPECT_EQ(p.image_url, "https://cdn.example.com/new.jpg");
  apply(*read(R"({"imageUrl":null})", InputMode::patch), p);
  EXPECT_FALSE(p.image_url);
  p.image_url = "https://cdn.example.com/old.jpg";
  apply(*read(R"({"name":"Lamp","price":5,"category":"Home"})", InputMode::replace), p);
  EXPECT_FALSE(p.image_url);
  EXPECT_EQ(field_names(read(R"({"imageUrl":"ftp://x/y"})", InputMode::patch).error().fields),
            std::vector<std::string>{"imageUrl"});
}

// The prototype's product form sends "" for the fields left blank.
TEST(ProductInput, BlankOptionalFieldsAreAbsent) {
  const auto in = read_product_input(
      json::parse(R"({"name":"Lamp","price":5,"category":"Home","description":"","imageUrl":"",
                      "currency":""})")
          .as_object(),
      InputMode::create);
  ASSERT_TRUE(in.ok());
  Product p;
  apply(*in, p);
  EXPECT_FALSE(p.image_url);
  EXPECT_EQ(p.description, "");
  EXPECT_EQ(p.currency, "USD");
  p.image_url = "https://cdn.example.com/old.jpg";
  apply(*read_product_input(json::parse(R"({"imageUrl":""})").as_object(), InputMode::patch), p);
  EXPECT_EQ(p.image_url, "https://cdn.example.com/old.jpg");
}

TEST(ProductJson, CarriesThePrototypesIdToo) {
  Product p;
  p.id = "p-1";
  const auto o = to_json(p);
  EXPECT_EQ(o.at("_id"), "p-1");
  EXPECT_EQ(o.at("id"), "p-1");
}

TEST(ListQuery, DefaultsAndEveryParameter) {
  auto q = read_list_query(with_query({}));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->page, 1);
  EXPECT_EQ(q->limit, 20);
  EXPECT_EQ(q->sort, Sort::newest);
  EXPECT_FALSE(q->category);

  q = read_list_query(with_query({{"page", "2"},
                                  {"limit", "500"},
                                  {"category", "Home"},
                                  {"q", "lamp"},
                                  {"minPrice", "1.5"},
                                  {"maxPrice", "20"},
                                  {"sort", "-price"}}));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->page, 2);
  EXPECT_EQ(q->limit, 100);
  EXPECT_EQ(q->category, "Home");
  EXPECT_EQ(q->text, "lamp");
  EXPECT_EQ(q->min_cents, 150);
  EXPECT_EQ(q->max_cents, 2000);
  EXPECT_EQ(q->sort, Sort::price_desc);
}

TEST(ListQuery, ReportsEveryInvalidParameter) {
  auto q = read_list_query(with_query({{"page", "0"},
                                       {"q", std::string(kMaxSearchLength + 1, 'x')},
                                       {"minPrice", "-1"},
                                       {"maxPrice", "ten"},
                                       {"sort", "price,desc"}}));
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(field_names(q.error()),
            (std::vector<std::string>{"page", "q", "minPrice", "maxPrice", "sort"}));
  EXPECT_TRUE(read_list_query(with_query({{"q", std::string(kMaxSearchLength, 'x')}})).ok());
}

TEST(Reservation, NeedsAnOrderAndValidLines) {
  auto in = read_reservation(
      json::parse(R"({"orderId":"o1","items":[{"productId":"p1","quantity":2}]})").as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->order_id, "o1");
  ASSERT_EQ(in->lines.size(), 1U);
  EXPECT_EQ(in->lines[0].quantity, 2);

  auto bad = read_reservation(json::parse(R"({"items":[]})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(field_names(bad.error().fields), (std::vector<std::string>{"orderId", "items"}));
  bad = read_reservation(
      json::parse(R"({"orderId":"o1","items":[{"productId":"p1","quantity":0}]})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.at(0).field, "items");
  EXPECT_EQ(bad.error().fields.at(0).msg.rfind("quantity ", 0), 0U);
}

TEST(Reservation, RepeatedProductsAreMergedAndLowStockCrossedOnce) {
  const auto merged = merge_lines({{"a", 1}, {"b", 2}, {"a", 3}});
  EXPECT_EQ(merged, (std::map<std::string, std::int64_t>{{"a", 4}, {"b", 2}}));
  EXPECT_TRUE(crossed_low_stock(5, 1));
  EXPECT_TRUE(crossed_low_stock(0, 10));
  EXPECT_FALSE(crossed_low_stock(4, 1));
  EXPECT_FALSE(crossed_low_stock(6, 1));
}

TEST(Lookup, TakesStringIdsUpToTheLimit) {
  json::array ids;
  for (std::size_t i = 0; i < kMaxLookupIds + 5; ++i) {
    ids.emplace_back(std::to_string(i));
  }
  ids.emplace_back(7);
  auto in = read_lookup(json::object{{"ids", ids}, {"other", true}});
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->ids.size(), kMaxLookupIds);
  EXPECT_TRUE(read_lookup(json::object{{"ids", "x"}})->ids.empty());
}

}  // namespace
}  // namespace emporium::product
