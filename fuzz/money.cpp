// Money: a price as JSON sends it (http::Fields::money_cents, as product
// create/replace/patch read "price"), as ?minPrice/?maxPrice send it
// (product::read_list_query), and back out (http::money in JSON answers,
// notification::format_cents in emails).
//
// Findings besides sanitizer reports: cents that do not survive the trip
// out and back in (JSON or the email's decimal text), negative cents, or an
// exception.
#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "http/json.hpp"
#include "http/message.hpp"
#include "notification/domain.hpp"
#include "product/domain.hpp"

namespace {

using namespace emporium;

[[noreturn]] void finding(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_money: %s for '%.*s'\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

std::optional<std::int64_t> cents_of(const boost::json::value& v) {
  const boost::json::object o{{"price", v}};
  http::Fields f(o, {"price"});
  return f.money_cents("price");
}

// format_cents text ("-1.50") read back as cents.
std::optional<std::int64_t> parse_decimal(std::string_view s) {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) {
    s.remove_prefix(1);
  }
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || s.size() - dot != 3) {
    return std::nullopt;
  }
  std::uint64_t whole = 0;
  std::uint64_t frac = 0;
  if (std::from_chars(s.data(), s.data() + dot, whole).ptr != s.data() + dot ||
      std::from_chars(s.data() + dot + 1, s.data() + s.size(), frac).ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  const std::uint64_t magnitude = whole * 100 + frac;
  return negative ? static_cast<std::int64_t>(~magnitude + 1)
                  : static_cast<std::int64_t>(magnitude);
}

void json_price(std::string_view input) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(input, ec);
  if (ec) {
    return;
  }
  const auto cents = cents_of(v);
  if (!cents) {
    return;
  }
  if (*cents < 0) {
    finding("negative cents", input);
  }
  const std::string out = http::dump(http::money(*cents));
  const auto back = cents_of(boost::json::parse(out));
  if (back != cents) {
    finding("cents changed through http::money", input);
  }
  if (parse_decimal(notification::format_cents(*cents)) != cents) {
    finding("cents changed through format_cents", input);
  }
}

void query_price(std::string_view input) {
  http::Request req;
  req.query = {{"minPrice", std::string(input)}, {"maxPrice", std::string(input)}};
  auto q = product::read_list_query(req);
  if (q && ((q->min_cents && *q->min_cents < 0) || (q->max_cents && *q->max_cents < 0))) {
    finding("negative cents from the query", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  json_price(input);
  query_price(input);
  if (size >= sizeof(std::int64_t)) {
    std::int64_t cents = 0;
    std::memcpy(&cents, data, sizeof cents);
    if (parse_decimal(notification::format_cents(cents)) != cents) {
      finding("format_cents does not read back", input);
    }
    (void)http::dump(http::money(cents));
  }
  return 0;
}
