#include "product/domain.hpp"

#include <boost/url/parse.hpp>
#include <cmath>
#include <exception>

namespace emporium::product {

namespace json = boost::json;

namespace {

// Reads "currency": three upper-case letters; "USD" when absent (or "") in
// create and replace mode.
std::optional<std::string> read_currency(http::Fields& f, bool full) {
  if (!f.given("currency")) {
    return full ? std::optional<std::string>("USD") : std::nullopt;
  }
  auto currency = f.string("currency", 3, 3, false);
  if (currency) {
    for (const char c : *currency) {
      if (c < 'A' || c > 'Z') {
        f.add_error("currency", "Must be a 3-letter ISO 4217 code in upper case");
        return std::nullopt;
      }
    }
  }
  return currency;
}

// Reads "imageUrl": null clears it, a string must be an http(s) URL; absent
// (or "", as a form left blank sends it) clears it in create and replace mode
// and keeps it in a patch.
ImageChange read_image_url(const json::object& body, http::Fields& f, bool full) {
  const auto* v = body.if_contains("imageUrl");
  if (v == nullptr || !f.given("imageUrl")) {
    return ImageChange{.present = full, .url = std::nullopt};
  }
  if (v->is_null()) {
    return ImageChange{.present = true, .url = std::nullopt};
  }
  auto url = f.string("imageUrl", 1, 2048, false);
  if (!url) {
    return {};
  }
  if (!valid_image_url(*url)) {
    f.add_error("imageUrl", "Must be an http or https URL");
    return {};
  }
  return ImageChange{.present = true, .url = std::move(url)};
}

// A price query parameter as cents; records an error when present but not
// a non-negative number.
std::optional<std::int64_t> query_money(const http::Request& req, std::string_view name,
                                        std::vector<http::FieldError>& errors) {
  auto raw = req.query_param(name);
  if (!raw) {
    return std::nullopt;
  }
  try {
    std::size_t used = 0;
    const double d = std::stod(std::string(*raw), &used);
    if (used == raw->size() && d >= 0 && d < 1e12) {
      return static_cast<std::int64_t>(std::llround(d * 100.0));
    }
  } catch (const std::exception&) {
  }
  errors.push_back({std::string(name), "Must be a non-negative number"});
  return std::nullopt;
}

}  // namespace

bool valid_image_url(std::string_view url) {
  if (url.size() > 2048) {
    return false;
  }
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) {
    return false;
  }
  return (u->scheme() == "http" || u->scheme() == "https") && !u->encoded_host().empty();
}

http::Parsed<ProductInput> read_product_input(const json::object& body, InputMode mode) {
  http::Fields f(body,
                 {"name", "description", "price", "currency", "category", "stock", "imageUrl"});
  const bool full = mode != InputMode::patch;
  ProductInput in;
  in.name = f.string("name", 1, 200, full);
  if (f.has("description")) {
    in.description = f.string("description", 0, 1000, false);
  } else if (full) {
    in.description = "";
  }
  in.price_cents = f.money_cents("price", full);
  in.currency = read_currency(f, full);
  in.category = f.string("category", 1, 100, full);
  if (f.has("stock")) {
    in.stock = f.integer("stock", 0, 1'000'000'000, false);
  } else if (full) {
    in.stock = 0;
  }
  in.image_url = read_image_url(body, f, full);
  if (mode == InputMode::patch && body.empty()) {
    f.add_error("body", "At least one field is required");
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return in;
}

http::Parsed<ProductInput> read_new_product(const json::object& body) {
  return read_product_input(body, InputMode::create);
}

http::Parsed<ProductInput> read_product_replacement(const json::object& body) {
  return read_product_input(body, InputMode::replace);
}

http::Parsed<ProductInput> read_product_patch(const json::object& body) {
  return read_product_input(body, InputMode::patch);
}

void apply(const ProductInput& in, Product& p) {
  if (in.name) {
    p.name = *in.name;
  }
  if (in.description) {
    p.description = *in.description;
  }
  if (in.price_cents) {
    p.price_cents = *in.price_cents;
  }
  if (in.currency) {
    p.currency = *in.currency;
  }
  if (in.category) {
    p.category = *in.category;
  }
  if (in.stock) {
    p.stock = *in.stock;
  }
  if (in.image_url.present) {
    p.image_url = in.image_url.url;
  }
}

json::object to_json(const Product& p) {
  return json::object{
      {"id", p.id},
      {"_id", p.id},
      {"name", p.name},
      {"description", p.description},
      {"price", http::money(p.price_cents)},
      {"currency", p.currency},
      {"category", p.category},
      {"stock", p.stock},
      {"imageUrl", p.image_url ? json::value(*p.image_url) : json::value(nullptr)},
      {"createdAt", p.created_at},
      {"updatedAt", p.updated_at},
  };
}

std::optional<Sort> parse_sort(std::string_view s) {
  if (s == "price") {
    return Sort::price_asc;
  }
  if (s == "-price") {
    return Sort::price_desc;
  }
  if (s == "name") {
    return Sort::name_asc;
  }
  if (s == "-createdAt") {
    return Sort::newest;
  }
  return std::nullopt;
}

core::Result<ListQuery, std::vector<http::FieldError>> read_list_query(const http::Request& req) {
  std::vector<http::FieldError> errors;
  ListQuery q;
  const auto page = http::page_request(req, errors);
  q.page = page.page;
  q.limit = page.limit;
  if (auto c = req.query_param("category"); c && !c->empty()) {
    q.category = std::string(*c);
  }
  if (auto t = req.query_param("q"); t && !t->empty()) {
    if (t->size() > kMaxSearchLength) {
      errors.push_back({"q", "Must be at most 200 characters"});
    }
    q.text = std::string(*t);
  }
  q.min_cents = query_money(req, "minPrice", errors);
  q.max_cents = query_money(req, "maxPrice", errors);
  if (auto s = req.query_param("sort"); s && !s->empty()) {
    if (auto sort = parse_sort(*s)) {
      q.sort = *sort;
    } else {
      errors.push_back({"sort", "Must be one of price, -price, name, -createdAt"});
    }
  }
  if (!errors.empty()) {
    return core::fail(std::move(errors));
  }
  return q;
}

http::Parsed<LookupInput> read_lookup(const json::object& body) {
  LookupInput in;
  if (const auto* arr = body.if_contains("ids"); arr && arr->is_array()) {
    for (const auto& v : arr->get_array()) {
      if (v.is_string() && in.ids.size() < kMaxLookupIds) {
        in.ids.emplace_back(v.get_string());
      }
    }
  }
  return in;
}

http::Parsed<ReservationInput> read_reservation(const json::object& body) {
  http::Fields f(body, {"orderId", "items"});
  auto order_id = f.string("orderId", 1, 64);
  ReservationInput in;
  const auto* items = body.if_contains("items");
  if (items == nullptr || !items->is_array() || items->get_array().empty()) {
    f.add_error("items", "Must be a non-empty array");
  } else {
    for (const auto& v : items->get_array()) {
      if (!v.is_object()) {
        f.add_error("items", "Must hold objects");
        break;
      }
      http::Fields line(v.get_object(), {"productId", "quantity"});
      auto id = line.string("productId", 1, 64);
      auto qty = line.integer("quantity", 1, 1'000'000);
      if (!line.ok()) {
        f.add_error("items", line.errors().front().field + " " + line.errors().front().msg);
        break;
      }
      in.lines.push_back({*id, *qty});
    }
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  in.order_id = std::move(*order_id);
  return in;
}

std::map<std::string, std::int64_t> merge_lines(const std::vector<svc::Line>& lines) {
  std::map<std::string, std::int64_t> wanted;
  for (const auto& l : lines) {
    wanted[l.product_id] += l.quantity;
  }
  return wanted;
}

}  // namespace emporium::product
