#include "product/domain.hpp"

#include <boost/url/parse.hpp>

#include "http/json.hpp"

namespace emporium::product {

namespace json = boost::json;

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

ProductInput read_product_input(const json::object& body, InputMode mode,
                                std::vector<http::FieldError>& errors) {
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
  if (f.has("currency")) {
    in.currency = f.string("currency", 3, 3, false);
    if (in.currency) {
      for (char& c : *in.currency) {
        if (c < 'A' || c > 'Z') {
          f.add_error("currency", "Must be a 3-letter ISO 4217 code in upper case");
          in.currency.reset();
          break;
        }
      }
    }
  } else if (mode == InputMode::create || mode == InputMode::replace) {
    in.currency = "USD";
  }
  in.category = f.string("category", 1, 100, full);
  if (f.has("stock")) {
    in.stock = f.integer("stock", 0, 1'000'000'000, false);
  } else if (full) {
    in.stock = 0;
  }
  if (const auto* v = body.if_contains("imageUrl")) {
    if (v->is_null()) {
      in.image_url = std::optional<std::string>();
    } else if (auto url = f.string("imageUrl", 1, 2048, false)) {
      if (valid_image_url(*url)) {
        in.image_url = std::optional<std::string>(*url);
      } else {
        f.add_error("imageUrl", "Must be an http or https URL");
      }
    }
  } else if (full) {
    in.image_url = std::optional<std::string>();
  }
  if (mode == InputMode::patch && body.empty()) {
    f.add_error("body", "At least one field is required");
  }
  errors.insert(errors.end(), f.errors().begin(), f.errors().end());
  return in;
}

void apply(const ProductInput& in, Product& p) {
  if (in.name)
    p.name = *in.name;
  if (in.description)
    p.description = *in.description;
  if (in.price_cents)
    p.price_cents = *in.price_cents;
  if (in.currency)
    p.currency = *in.currency;
  if (in.category)
    p.category = *in.category;
  if (in.stock)
    p.stock = *in.stock;
  if (in.image_url)
    p.image_url = *in.image_url;
}

json::object to_json(const Product& p) {
  return json::object{
      {"id", p.id},
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
  if (s == "price")
    return Sort::price_asc;
  if (s == "-price")
    return Sort::price_desc;
  if (s == "name")
    return Sort::name_asc;
  if (s == "-createdAt")
    return Sort::newest;
  return std::nullopt;
}

}  // namespace emporium::product
