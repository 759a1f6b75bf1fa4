#include "order/domain.hpp"

#include <array>
#include <utility>

namespace emporium::order {

namespace json = boost::json;

namespace {

constexpr std::array<std::pair<Status, std::string_view>, 5> kStatusNames{{
    {Status::pending, "pending"},
    {Status::processing, "processing"},
    {Status::shipped, "shipped"},
    {Status::delivered, "delivered"},
    {Status::cancelled, "cancelled"},
}};

// The address member of a place-order body, or the 422 for it.
http::Parsed<Address> read_address(const json::object& body) {
  http::Fields a(body, {"userId", "shippingAddress"});
  const auto* addr = a.object("shippingAddress");
  Address out;
  if (addr != nullptr) {
    http::Fields af(*addr, {"street", "city", "state", "zipCode", "country"});
    const std::pair<const char*, std::string*> parts[] = {{"street", &out.street},
                                                          {"city", &out.city},
                                                          {"state", &out.state},
                                                          {"zipCode", &out.zip_code},
                                                          {"country", &out.country}};
    for (const auto& [field, value] : parts) {
      if (auto v = af.string(field, 1, 200)) {
        *value = std::move(*v);
      }
    }
    for (const auto& e : af.errors()) {
      a.add_error("shippingAddress." + e.field, e.msg);
    }
  }
  if (!a.ok()) {
    return core::fail(a.invalid(422));
  }
  return out;
}

}  // namespace

std::optional<Status> parse_status(std::string_view text) noexcept {
  for (const auto& [status, name] : kStatusNames) {
    if (name == text) {
      return status;
    }
  }
  return std::nullopt;
}

std::string_view to_string(Status status) noexcept {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) {
      return name;
    }
  }
  return "unknown";
}

bool transition_allowed(Status from, Status to) noexcept {
  switch (from) {
    case Status::pending:
      return to == Status::processing || to == Status::cancelled;
    case Status::processing:
      return to == Status::shipped || to == Status::cancelled;
    case Status::shipped:
      return to == Status::delivered;
    case Status::delivered:
    case Status::cancelled:
      return false;
  }
  return false;
}

bool releases_stock(Status to) noexcept {
  return to == Status::cancelled;
}

json::object address_json(const Address& a) {
  return json::object{{"street", a.street},
                      {"city", a.city},
                      {"state", a.state},
                      {"zipCode", a.zip_code},
                      {"country", a.country}};
}

http::Parsed<PlaceOrder> read_place_order(const json::object& body) {
  http::Fields f(body, {"userId", "shippingAddress"});
  auto user_id = f.string("userId", 1, 64);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return PlaceOrder{.user_id = std::move(*user_id), .address = read_address(body)};
}

http::Parsed<Status> read_status_change(const json::object& body) {
  http::Fields f(body, {"status"});
  auto text = f.string("status", 1, 20);
  std::optional<Status> status;
  if (text) {
    status = parse_status(*text);
    if (!status) {
      f.add_error("status", "Must be one of pending, processing, shipped, delivered, cancelled");
    }
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return *status;
}

std::int64_t total_cents(const std::vector<Item>& items) noexcept {
  std::int64_t total = 0;
  for (const auto& i : items) {
    total += i.price_cents * i.quantity;
  }
  return total;
}

}  // namespace emporium::order
