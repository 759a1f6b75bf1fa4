#include "product/handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "fake_store.hpp"
#include "http/json.hpp"
#include "product/errors.hpp"

namespace emporium::product {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using testing::FakeStore;

config::Config cache_config() {
  using config::Kind;
  static const std::vector<config::KeyDef> schema{{"redis_url", Kind::string, "", ""},
                                                  {"cache_ttl", Kind::duration, "60s", ""},
                                                  {"database_url", Kind::string, "", ""},
                                                  {"data_dir", Kind::string, "data", ""}};
  return config::Config::load(schema, std::nullopt, {}, {});
}

Request request(std::string method, std::string body = {},
                std::vector<std::pair<std::string, std::string>> params = {}) {
  Request req;
  req.method = std::move(method);
  req.body = std::move(body);
  req.params = std::move(params);
  return req;
}

json::object body_of(const Response& res) {
  return json::parse(res.body).as_object();
}

std::vector<std::string> error_fields(const Response& res) {
  std::vector<std::string> out;
  const auto body = body_of(res);
  for (const auto& e : body.at("errors").as_array()) {
    out.emplace_back(e.at("field").as_string());
  }
  return out;
}

// Handlers over a fake store and a real in-process cache, with the bodies
// read as the route table reads them (http::with_body).
class ProductHandlers : public ::testing::Test {
 protected:
  Response create(std::string body) {
    auto req = request("POST", std::move(body));
    return http::with_body<ProductInput>(read_new_product, [this](Request& r, ProductInput in) {
      return handlers_.create(r, std::move(in));
    })(req);
  }
  Response change(std::string method, const std::string& id, std::string body) {
    auto req = request(method, std::move(body), {{"id", id}});
    const auto read = method == "PUT" ? read_product_replacement : read_product_patch;
    return http::with_body<ProductInput>(read, [this](Request& r, ProductInput in) {
      return handlers_.update(r, std::move(in));
    })(req);
  }
  Response get(const std::string& id) { return handlers_.get(request("GET", {}, {{"id", id}})); }
  Response list(std::vector<std::pair<std::string, std::string>> query) {
    auto req = request("GET");
    req.query = std::move(query);
    return handlers_.list(req);
  }
  Response reserve(std::string body) {
    auto req = request("POST", std::move(body));
    return http::with_body<ReservationInput>(read_reservation,
                                             [this](Request& r, ReservationInput in) {
                                               return handlers_.reserve(r, std::move(in));
                                             })(req);
  }
  Response release(const std::string& order_id) {
    return handlers_.release(request("DELETE", {}, {{"orderId", order_id}}));
  }

  FakeStore store_;
  obs::Registry metrics_;
  config::Config config_ = cache_config();
  ProductCache cache_{config_, metrics_};
  int events_written_ = 0;
  Handlers handlers_{store_, cache_, [this] { ++events_written_; }};
};

TEST_F(ProductHandlers, GetAnswersTheProductOr404) {
  store_.add("p1", "Mug", 1999, 7);
  auto res = get("p1");
  EXPECT_EQ(res.status, 200);
  auto b = body_of(res);
  EXPECT_EQ(b.at("name"), "Mug");
  EXPECT_EQ(b.at("price").as_double(), 19.99);
  EXPECT_EQ(b.at("stock"), 7);
  EXPECT_TRUE(b.at("imageUrl").is_null());

  res = get("nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(body_of(res).at("error"), "Product not found");
  EXPECT_EQ(body_of(res).at("title"), "Not Found");
}

TEST_F(ProductHandlers, GetIsCachedUntilAWriteInvalidatesIt) {
  store_.add("p1", "Mug", 1999, 7);
  EXPECT_EQ(get("p1").status, 200);
  const int reads = store_.reads;
  EXPECT_EQ(get("p1").status, 200);
  EXPECT_EQ(store_.reads, reads);  // a hit
  EXPECT_EQ(change("PATCH", "p1", R"({"name":"Big mug"})").status, 200);
  EXPECT_EQ(body_of(get("p1")).at("name"), "Big mug");
}

TEST_F(ProductHandlers, CachedGetAnswersOnlyAHitAndNeverAfterAWrite) {
  store_.add("p1", "Mug", 1999, 7);
  const auto by_id = request("GET", {}, {{"id", "p1"}});
  EXPECT_FALSE(handlers_.cached_get(by_id)) << "nothing cached yet: the handler answers";
  const auto filled = get("p1");
  ASSERT_EQ(filled.status, 200);

  const int reads = store_.reads;
  auto hit = handlers_.cached_get(by_id);
  ASSERT_TRUE(hit);
  EXPECT_EQ(store_.reads, reads);
  EXPECT_EQ(hit->status, 200);
  EXPECT_EQ(hit->body, filled.body);
  EXPECT_EQ(hit->headers.fields(), filled.headers.fields());

  EXPECT_EQ(change("PATCH", "p1", R"({"stock":3})").status, 200);
  EXPECT_FALSE(handlers_.cached_get(by_id)) << "a write drops the entry";
  EXPECT_EQ(body_of(get("p1")).at("stock"), 3);
  ASSERT_TRUE(handlers_.cached_get(by_id));
  EXPECT_EQ(body_of(*handlers_.cached_get(by_id)).at("stock"), 3);
  EXPECT_FALSE(handlers_.cached_get(request("GET", {}, {{"id", "nope"}})));
}

TEST_F(ProductHandlers, CachedListAndCategoriesFollowWrites) {
  store_.add("a", "Lamp", 3000, 1);
  auto req = request("GET");
  req.query = {{"q", "lamp"}, {"limit", "5"}};
  EXPECT_FALSE(handlers_.cached_list(req));
  EXPECT_FALSE(handlers_.cached_categories(req));
  const auto page = list(req.query);
  ASSERT_EQ(page.status, 200);
  const auto categories = handlers_.categories(req);
  auto hit = handlers_.cached_list(req);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body, page.body);
  EXPECT_EQ(hit->headers.fields(), page.headers.fields());
  ASSERT_TRUE(handlers_.cached_categories(req));
  EXPECT_EQ(handlers_.cached_categories(req)->body, categories.body);
  // Equivalent queries share the entry; an invalid one is left to the handler.
  auto same = request("GET");
  same.query = {{"limit", "5"}, {"q", "lamp"}, {"page", "1"}};
  EXPECT_TRUE(handlers_.cached_list(same));
  auto bad = request("GET");
  bad.query = {{"limit", "0"}};
  EXPECT_FALSE(handlers_.cached_list(bad));

  EXPECT_EQ(create(R"({"name":"Desk lamp","price":10,"category":"Home","stock":1})").status, 201);
  EXPECT_FALSE(handlers_.cached_list(req)) << "a new product drops every collection";
  EXPECT_FALSE(handlers_.cached_categories(req));
  EXPECT_EQ(body_of(list(req.query)).at("products").as_array().size(), 2U);
}

TEST(ProductCacheFastPath, ARedisCacheNeverAnswersOnTheIoThread) {
  using config::Kind;
  static const std::vector<config::KeyDef> schema{{"redis_url", Kind::string, "", ""},
                                                  {"cache_ttl", Kind::duration, "60s", ""},
                                                  {"database_url", Kind::string, "", ""},
                                                  {"data_dir", Kind::string, "data", ""}};
  // Nothing listens on port 1: a lookup would fail, but none may be tried.
  const auto config =
      config::Config::load(schema, std::nullopt, {}, {{"redis_url", "redis://127.0.0.1:1"}});
  obs::Registry metrics;
  ProductCache cache(config, metrics);
  ASSERT_EQ(cache.backend(), "redis");
  EXPECT_FALSE(cache.cached_product("p1"));
  EXPECT_FALSE(cache.cached_collection("categories"));
  EXPECT_EQ(metrics.render().find("emporium_cache_errors_total{cache=\"product\",op=\"get\"} 1"),
            std::string::npos);
}

TEST_F(ProductHandlers, ListValidatesItsQueryNamingTheFields) {
  auto res = list({{"limit", "0"}, {"q", std::string(201, 'x')}, {"sort", "colour"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_fields(res), (std::vector<std::string>{"limit", "q", "sort"}));
  EXPECT_EQ(body_of(res).at("error"),
            "Invalid query: limit Must be an integer between 1 and 2147483647");

  res = list({{"minPrice", "cheap"}, {"maxPrice", "-3"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_fields(res), (std::vector<std::string>{"minPrice", "maxPrice"}));
}

TEST_F(ProductHandlers, ListFiltersSortsAndPages) {
  store_.add("a", "Lamp", 3000, 1);
  store_.add("b", "Desk lamp", 1000, 1);
  store_.add("c", "Chair", 2000, 1, "Office");
  auto res = list({{"q", "LAMP"}, {"sort", "price"}, {"limit", "1"}, {"page", "2"}});
  ASSERT_EQ(res.status, 200);
  auto b = body_of(res);
  ASSERT_EQ(b.at("products").as_array().size(), 1U);
  EXPECT_EQ(b.at("products").as_array()[0].at("id"), "a");
  EXPECT_EQ(b.at("pagination"),
            (json::object{{"page", 2}, {"limit", 1}, {"total", 2}, {"pages", 2}}));

  res = list({{"category", "Office"}, {"maxPrice", "25"}});
  EXPECT_EQ(body_of(res).at("products").as_array().size(), 1U);
}

TEST_F(ProductHandlers, CategoriesCountProducts) {
  store_.add("a", "Lamp", 3000, 1);
  store_.add("b", "Desk", 1000, 1);
  store_.add("c", "Chair", 2000, 1, "Office");
  auto b = body_of(handlers_.categories(request("GET")));
  EXPECT_EQ(b.at("categories"), (json::array{json::object{{"name", "Home"}, {"count", 2}},
                                             json::object{{"name", "Office"}, {"count", 1}}}));
}

TEST_F(ProductHandlers, CreateAnswers201WithLocationAndStoresIt) {
  auto res = create(R"({"name":"Lamp","price":12.5,"category":"Home","stock":4})");
  ASSERT_EQ(res.status, 201);
  auto b = body_of(res);
  const std::string id(b.at("id").as_string());
  EXPECT_EQ(res.headers.get("Location"), "/api/products/" + id);
  ASSERT_EQ(store_.products.count(id), 1U);
  EXPECT_EQ(store_.products.at(id).price_cents, 1250);
  EXPECT_EQ(store_.products.at(id).stock, 4);
  EXPECT_EQ(store_.products.at(id).currency, "USD");
  EXPECT_EQ(b.at("createdAt"), b.at("updatedAt"));
}

TEST_F(ProductHandlers, CreateRejectsAnInvalidBodyAndStoresNothing) {
  auto res = create(R"({"price":1.005,"category":""})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_fields(res), (std::vector<std::string>{"name", "price", "category"}));
  EXPECT_EQ(body_of(res).at("error").as_string().subview().substr(0, 24),
            "Validation failed: name ");
  EXPECT_EQ(create("{nope").status, 400);
  EXPECT_EQ(body_of(create("{nope")).at("error"), "Malformed JSON");
  EXPECT_EQ(body_of(create("[1]")).at("error"), "Body must be a JSON object");
  EXPECT_TRUE(store_.products.empty());
}

TEST_F(ProductHandlers, PatchChangesOnlyTheGivenFields) {
  store_.add("p1", "Mug", 1999, 7);
  auto res = change("PATCH", "p1", R"({"price":5})");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("price").as_int64(), 5);
  EXPECT_EQ(store_.products.at("p1").price_cents, 500);
  EXPECT_EQ(store_.products.at("p1").name, "Mug");
  EXPECT_EQ(store_.products.at("p1").stock, 7);

  res = change("PATCH", "p1", "{}");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(body_of(res).at("error"), "Validation failed: body At least one field is required");
  res = change("PATCH", "p1", R"({"currency":"eur","stock":-1})");
  EXPECT_EQ(error_fields(res), (std::vector<std::string>{"currency", "stock"}));
  EXPECT_EQ(store_.products.at("p1").currency, "USD");
  EXPECT_EQ(change("PATCH", "nope", R"({"price":5})").status, 404);
}

TEST_F(ProductHandlers, PutReplacesEveryFieldAndNeedsTheRequiredOnes) {
  auto p = store_.add("p1", "Mug", 1999, 7);
  store_.products.at("p1").image_url = "https://cdn.example.com/mug.jpg";
  auto res = change("PUT", "p1", R"({"name":"Cup"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_fields(res), (std::vector<std::string>{"price", "category"}));

  res = change("PUT", "p1", R"({"name":"Cup","price":3,"category":"Kitchen"})");
  ASSERT_EQ(res.status, 200);
  const auto& stored = store_.products.at("p1");
  EXPECT_EQ(stored.name, "Cup");
  EXPECT_EQ(stored.category, "Kitchen");
  EXPECT_FALSE(stored.image_url);
  EXPECT_EQ(stored.stock, 0);  // replace mode: stock absent means 0
  EXPECT_EQ(body_of(res).at("id").as_string(), p.id);
  EXPECT_EQ(change("PUT", "nope", R"({"name":"Cup","price":3,"category":"K"})").status, 404);
}

TEST_F(ProductHandlers, DeleteRemovesOnceThen404) {
  store_.add("p1", "Mug", 1999, 7);
  EXPECT_EQ(get("p1").status, 200);  // cached
  auto res = handlers_.remove(request("DELETE", {}, {{"id", "p1"}}));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res), (json::object{{"message", "Product deleted"}}));
  EXPECT_TRUE(store_.products.empty());
  EXPECT_EQ(get("p1").status, 404);
  EXPECT_EQ(handlers_.remove(request("DELETE", {}, {{"id", "p1"}})).status, 404);
}

TEST_F(ProductHandlers, LookupAnswersTheProductsThatExist) {
  store_.add("p1", "Mug", 1999, 7);
  auto res = handlers_.lookup(request("POST"), LookupInput{{"p1", "nope"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("products"), (json::array{json::object{{"id", "p1"},
                                                                   {"name", "Mug"},
                                                                   {"priceCents", 1999},
                                                                   {"currency", "USD"},
                                                                   {"stock", 7}}}));
}

TEST_F(ProductHandlers, ReserveTakesEveryLineOrNone) {
  store_.add("a", "Mug", 1000, 3);
  store_.add("b", "Lamp", 2000, 1);
  EXPECT_EQ(get("a").status, 200);  // cached with stock 3
  auto res = reserve(R"({"orderId":"o1","items":[{"productId":"a","quantity":2},
                                                 {"productId":"b","quantity":2}]})");
  EXPECT_EQ(res.status, 409);
  auto b = body_of(res);
  EXPECT_EQ(b.at("error"), "Insufficient stock for Lamp");
  EXPECT_EQ(b.at("productId"), "b");
  EXPECT_EQ(b.at("productName"), "Lamp");
  EXPECT_EQ(b.at("available"), 1);
  EXPECT_EQ(b.at("requested"), 2);
  EXPECT_EQ(store_.products.at("a").stock, 3);
  EXPECT_EQ(store_.products.at("b").stock, 1);

  res = reserve(R"({"orderId":"o1","items":[{"productId":"a","quantity":1},
                                            {"productId":"a","quantity":1},
                                            {"productId":"b","quantity":1}]})");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("items").as_array().size(), 2U);
  EXPECT_EQ(store_.products.at("a").stock, 1);
  EXPECT_EQ(store_.products.at("b").stock, 0);
  EXPECT_EQ(body_of(get("a")).at("stock"), 1);  // the cached entry was dropped
  EXPECT_EQ(events_written_, 2);

  // The same order again takes nothing more.
  EXPECT_EQ(reserve(R"({"orderId":"o1","items":[{"productId":"a","quantity":1}]})").status, 200);
  EXPECT_EQ(store_.products.at("a").stock, 1);
}

TEST_F(ProductHandlers, ReserveNamesAMissingProductAndValidatesItsBody) {
  store_.add("a", "Mug", 1000, 3);
  auto res = reserve(R"({"orderId":"o1","items":[{"productId":"a","quantity":1},
                                                 {"productId":"zz","quantity":1}]})");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(body_of(res).at("error"), "Product zz not found");
  EXPECT_EQ(body_of(res).at("productName"), "");
  EXPECT_EQ(store_.products.at("a").stock, 3);

  res = reserve(R"({"orderId":"o1","items":[{"productId":"a"}]})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(body_of(res).at("error"), "Validation failed: items quantity Required");
  EXPECT_EQ(store_.products.at("a").stock, 3);
  EXPECT_TRUE(store_.reservations.empty());
}

TEST_F(ProductHandlers, ReleaseGivesStockBackExactlyOnce) {
  store_.add("a", "Mug", 1000, 3);
  ASSERT_EQ(reserve(R"({"orderId":"o1","items":[{"productId":"a","quantity":2}]})").status, 200);
  EXPECT_EQ(body_of(get("a")).at("stock"), 1);
  auto res = release("o1");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res), (json::object{{"released", true}}));
  EXPECT_EQ(store_.products.at("a").stock, 3);
  EXPECT_EQ(body_of(get("a")).at("stock"), 3);
  EXPECT_EQ(body_of(release("o1")), (json::object{{"released", false}}));
  EXPECT_EQ(store_.products.at("a").stock, 3);
  EXPECT_EQ(body_of(release("never")), (json::object{{"released", false}}));
}

TEST(ProductErrors, EveryCodeHasItsStatusAndText) {
  const std::vector<std::tuple<Error, int, std::string>> table{
      {Error::product_not_found, 404, "Product not found"},
      {Error::unknown_product, 409, "Product not found"},
      {Error::insufficient_stock, 409, "Insufficient stock"}};
  for (const auto& [code, status, text] : table) {
    auto res = http::problem(http::Failure<Error>{.code = code});
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(json::parse(res.body).at("error").as_string(), text);
    EXPECT_EQ(json::parse(res.body).at("status"), status);
  }
}

}  // namespace
}  // namespace emporium::product
