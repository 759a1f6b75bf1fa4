// A request body through http::read_body and every service's reader (the
// one JSON-body adapter of every route): registration, sign-in, refresh,
// logout, profile, role; cart add, quantity, checkout; order placement and
// status; product create, replace, patch, lookup and stock reservation.
//
// Findings besides sanitizer reports: an exception, or a refusal that is
// not a 400/422 problem+json whose body is one JSON object naming a detail.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "cart/domain.hpp"
#include "http/json.hpp"
#include "order/domain.hpp"
#include "product/domain.hpp"
#include "user/domain.hpp"

namespace {

using namespace emporium;

[[noreturn]] void finding(const char* what, std::string_view reader) {
  std::fprintf(stderr, "fuzz_json_body: %s (%.*s)\n", what, static_cast<int>(reader.size()),
               reader.data());
  std::abort();
}

template <class T>
void run(std::string_view name, std::string_view body, http::Reader<T> read) {
  auto parsed = http::read_body<T>(body, read);
  if (parsed) {
    return;
  }
  const auto& invalid = parsed.error();
  if (invalid.status != 400 && invalid.status != 422) {
    finding("refusal with a status other than 400 or 422", name);
  }
  if (invalid.detail.empty()) {
    finding("refusal without a detail", name);
  }
  const http::Response res = http::problem(invalid);
  boost::system::error_code ec;
  const auto v = boost::json::parse(res.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("detail")) {
    finding("problem body is not a JSON object with a detail", name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  run<user::RegisterInput>("register", body, user::read_register);
  run<user::LoginInput>("login", body, user::read_login);
  run<user::RefreshInput>("refresh", body, user::read_refresh);
  run<user::LogoutInput>("logout", body, user::read_logout);
  run<user::ProfileUpdate>("profile", body, user::read_profile_update);
  run<user::RoleInput>("role", body, user::read_role);
  run<cart::AddItem>("add_item", body, cart::read_add_item);
  run<cart::SetQuantity>("set_quantity", body, cart::read_set_quantity);
  run<cart::Checkout>("checkout", body, cart::read_checkout);
  run<order::PlaceOrder>("place_order", body, order::read_place_order);
  run<order::Status>("status_change", body, order::read_status_change);
  run<product::ProductInput>("new_product", body, product::read_new_product);
  run<product::ProductInput>("product_replacement", body, product::read_product_replacement);
  run<product::ProductInput>("product_patch", body, product::read_product_patch);
  run<product::LookupInput>("lookup", body, product::read_lookup);
  run<product::ReservationInput>("reservation", body, product::read_reservation);
  // A placed order's address is judged later; judge it here too.
  if (auto order = http::read_body<order::PlaceOrder>(body, order::read_place_order)) {
    if (!order->address && order->address.error().status != 422) {
      finding("shipping address refused with a status other than 422", "place_order");
    }
  }
  return 0;
}
