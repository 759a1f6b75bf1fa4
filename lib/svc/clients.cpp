#include "svc/clients.hpp"

#include <boost/json.hpp>
#include <cctype>

#include "core/error.hpp"
#include "http/json.hpp"

namespace emporium::svc {

namespace {

namespace json = boost::json;

// Returns the response, or throws when there is none or it is a 5xx.
http::Response expect_answer(http::ClientResult r, std::string_view what) {
  if (!r.has_value()) {
    const bool timeout = r.error().code == http::ClientErrc::timeout;
    throw core::Error(std::string(what) + ": " + r.error().message, true, timeout);
  }
  if (r->status >= 500) {
    throw core::Error(std::string(what) + ": upstream answered " + std::to_string(r->status), true,
                      r->status == 504);
  }
  return std::move(*r);
}

[[noreturn]] void unexpected(std::string_view what, const http::Response& r) {
  throw core::Error(std::string(what) + ": unexpected status " + std::to_string(r.status) + " " +
                        r.body.substr(0, 200),
                    false);
}

json::object body_object(std::string_view what, const http::Response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    throw core::Error(std::string(what) + ": malformed JSON from upstream", false);
  }
  return std::move(v.as_object());
}

std::string str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t num(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

// `s` as one path segment: everything but unreserved characters percent-encoded.
std::string path_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string InternalClient::token() const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(token_->mutex);
  if (token_->token.empty() || now - token_->issued >= kTokenReuse) {
    token_->token = tokens_.issue_service(caller_);
    token_->issued = now;
  }
  return token_->token;
}

http::CallOptions InternalClient::options(const std::string& request_id) const {
  http::CallOptions o;
  o.request_id = request_id;
  o.headers.set("Authorization", "Bearer " + token());
  return o;
}

std::map<std::string, ProductSummary> ProductApi::lookup(const std::vector<std::string>& ids,
                                                         const std::string& request_id) {
  std::map<std::string, ProductSummary> out;
  if (ids.empty()) {
    return out;
  }
  json::array list;
  for (const auto& id : ids) {
    list.emplace_back(id);
  }
  constexpr std::string_view what = "product lookup";
  auto res = expect_answer(
      upstream_.call("POST", "/internal/products/lookup",
                     http::dump(json::object{{"ids", std::move(list)}}), options(request_id)),
      what);
  if (res.status != 200) {
    unexpected(what, res);
  }
  const auto body = body_object(what, res);
  if (const auto* products = body.if_contains("products"); products && products->is_array()) {
    for (const auto& p : products->get_array()) {
      if (!p.is_object()) {
        continue;
      }
      const auto& o = p.get_object();
      ProductSummary s{str(o, "id"), str(o, "name"), str(o, "currency"), num(o, "priceCents"),
                       num(o, "stock")};
      out.emplace(s.id, std::move(s));
    }
  }
  return out;
}

namespace {

// {"orderId", "items":[{"productId","quantity"}]}
std::string order_lines_body(const std::string& order_id, const std::vector<Line>& lines) {
  json::array items;
  for (const auto& l : lines) {
    items.push_back(json::object{{"productId", l.product_id}, {"quantity", l.quantity}});
  }
  return http::dump(json::object{{"orderId", order_id}, {"items", std::move(items)}});
}

}  // namespace

std::variant<std::vector<ReservedLine>, Shortage> ProductApi::reserve(
    const std::string& order_id, const std::vector<Line>& lines, const std::string& request_id) {
  constexpr std::string_view what = "stock reservation";
  // Reservations are idempotent per order id, so a retry after a lost answer is safe.
  auto opts = options(request_id);
  opts.headers.set("Idempotency-Key", order_id);
  auto res = expect_answer(upstream_.call("POST", "/internal/stock/reservations",
                                          order_lines_body(order_id, lines), opts),
                           what);
  if (res.status == 409) {
    const auto b = body_object(what, res);
    return Shortage{str(b, "productId"), str(b, "productName"), num(b, "available"),
                    num(b, "requested")};
  }
  if (res.status != 200 && res.status != 201) {
    unexpected(what, res);
  }
  std::vector<ReservedLine> out;
  const auto b = body_object(what, res);
  if (const auto* arr = b.if_contains("items"); arr && arr->is_array()) {
    for (const auto& v : arr->get_array()) {
      const auto& o = v.as_object();
      out.push_back({str(o, "productId"), str(o, "name"), str(o, "currency"), num(o, "priceCents"),
                     num(o, "quantity")});
    }
  }
  return out;
}

void ProductApi::release(const std::string& order_id, const std::string& request_id) {
  constexpr std::string_view what = "stock release";
  auto opts = options(request_id);
  opts.headers.set("Idempotency-Key", "release-" + order_id);  // safe to retry
  auto res = expect_answer(
      upstream_.call("DELETE", "/internal/stock/reservations/" + order_id, {}, opts), what);
  if (res.status != 200) {
    unexpected(what, res);
  }
}

std::vector<Line> CartApi::items(const std::string& user_id, const std::string& request_id) {
  constexpr std::string_view what = "cart read";
  auto res = expect_answer(
      upstream_.call("GET", "/internal/carts/" + user_id, {}, options(request_id)), what);
  if (res.status != 200) {
    unexpected(what, res);
  }
  std::vector<Line> out;
  const auto b = body_object(what, res);
  if (const auto* arr = b.if_contains("items"); arr && arr->is_array()) {
    for (const auto& v : arr->get_array()) {
      const auto& o = v.as_object();
      out.push_back({str(o, "productId"), num(o, "quantity")});
    }
  }
  return out;
}

void CartApi::clear(const std::string& user_id, const std::string& request_id) {
  constexpr std::string_view what = "cart clear";
  auto opts = options(request_id);
  opts.headers.set("Idempotency-Key", "clear-" + user_id);  // safe to retry
  auto res = expect_answer(upstream_.call("DELETE", "/internal/carts/" + user_id, {}, opts), what);
  if (res.status != 200) {
    unexpected(what, res);
  }
}

void CartApi::remove_bought(const std::string& user_id, const std::string& order_id,
                            const std::vector<Line>& lines, const std::string& request_id) {
  constexpr std::string_view what = "cart checkout";
  auto opts = options(request_id);
  opts.headers.set("Idempotency-Key", "checkout-" + order_id);  // applied once per order
  auto res = expect_answer(
      upstream_.call("POST", "/internal/carts/" + path_segment(user_id) + "/checkouts",
                     order_lines_body(order_id, lines), opts),
      what);
  if (res.status != 200) {
    unexpected(what, res);
  }
}

std::optional<UserProfile> UserApi::profile(const std::string& user_id,
                                            const std::string& request_id) {
  constexpr std::string_view what = "user profile";
  auto res = expect_answer(
      upstream_.call("GET", "/internal/users/" + path_segment(user_id), {}, options(request_id)),
      what);
  if (res.status == 404) {
    return std::nullopt;
  }
  if (res.status != 200) {
    unexpected(what, res);
  }
  const auto b = body_object(what, res);
  UserProfile p{str(b, "id"), str(b, "email"), str(b, "name")};
  if (p.email.empty()) {
    throw core::Error(std::string(what) + ": answer without an email", false);
  }
  return p;
}

}  // namespace emporium::svc
