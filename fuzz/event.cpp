// Event envelopes (lib/bus/event.*): an input is decoded as an envelope off
// the bus; one that decodes is encoded again and must decode to the same
// event. Its first two lines are also tried as a binding pattern and a
// routing key (topic_matches, validate_pattern).
//
// Findings besides sanitizer reports: an exception other than
// std::invalid_argument, or an event that changes through encode/decode
// (a double in the payload may move by its last bits: Boost.JSON 1.81
// parses numbers with exponents far from 0 to within an ULP, not exactly;
// corpus/event/regression_double_ulp).
#include "bus/event.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace emporium;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_event: %s\n", what);
  std::abort();
}

// The same JSON value, doubles equal to within 1e-15 of their size.
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.to_number<double>();
    const double y = b.to_number<double>();
    return x == y || std::abs(x - y) <= 1e-15 * std::max(std::abs(x), std::abs(y));
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  if (a.is_array()) {
    const auto &p = a.get_array(), &q = b.get_array();
    return p.size() == q.size() && std::equal(p.begin(), p.end(), q.begin(), same);
  }
  if (a.is_object()) {
    const auto &p = a.get_object(), &q = b.get_object();
    return p.size() == q.size() && std::all_of(p.begin(), p.end(), [&](const auto& kv) {
             const auto* w = q.if_contains(kv.key());
             return w != nullptr && same(kv.value(), *w);
           });
  }
  return a == b;
}

void envelope(std::string_view input) {
  bus::Event e;
  try {
    e = bus::decode(input);
  } catch (const std::invalid_argument&) {
    return;
  }
  const bus::Event again = bus::decode(bus::encode(e));
  if (again.id != e.id || again.type != e.type || again.time != e.time ||
      again.version != e.version ||
      !same(boost::json::parse(again.payload), boost::json::parse(e.payload))) {
    finding("event changed through encode and decode");
  }
}

void topics(std::string_view input) {
  const auto nl = input.find('\n');
  const auto pattern = input.substr(0, nl);
  const auto key = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  const auto key_line = key.substr(0, key.find('\n'));
  bool valid = true;
  try {
    bus::validate_pattern(pattern);
  } catch (const std::invalid_argument&) {
    valid = false;
  }
  // Only patterns the code could bind are matched (a '#' run costs time
  // exponential in the number of '#' words otherwise).
  if (valid && pattern.size() <= 64) {
    const bool m = bus::topic_matches(pattern, key_line);
    if (pattern == "#" && !m) {
      finding("'#' does not match every key");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  envelope(input);
  topics(input);
  return 0;
}
