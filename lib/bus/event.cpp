#include "bus/event.hpp"

#include <boost/json.hpp>
#include <climits>
#include <stdexcept>
#include <vector>

#include "core/ids.hpp"
#include "http/json.hpp"

namespace emporium::bus {
namespace {

constexpr std::size_t kMaxShortString = 255;  // AMQP shortstr: message_id, routing key

boost::json::parse_options parse_options() {
  boost::json::parse_options o;
  o.max_depth = 64;
  return o;
}

bool word_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(s.substr(start));
      return words;
    }
    words.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Checks words of [a-z0-9_-]; `wildcards` also allows the words "*" and "#".
void check_words(std::string_view what, std::string_view s, bool wildcards) {
  if (s.empty() || s.size() > kMaxShortString) {
    throw std::invalid_argument(std::string(what) + " must have 1 to 255 characters");
  }
  for (auto w : split_words(s)) {
    if (wildcards && (w == "*" || w == "#")) {
      continue;
    }
    if (w.empty()) {
      throw std::invalid_argument(std::string(what) + " has an empty word: " + std::string(s));
    }
    for (char c : w) {
      if (!word_char(c)) {
        throw std::invalid_argument(std::string(what) + " may only hold words of [a-z0-9_-]" +
                                    (wildcards ? ", '*' or '#'" : "") +
                                    " separated by '.': " + std::string(s));
      }
    }
  }
}

void check_payload(std::string_view payload) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(payload, ec, {}, parse_options());
  if (ec) {
    throw std::invalid_argument("event payload is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) {
    throw std::invalid_argument("event payload must be a JSON object");
  }
}

void check_header(const Event& e) {
  if (e.id.empty() || e.id.size() > kMaxShortString) {
    throw std::invalid_argument("event id must have 1 to 255 characters");
  }
  for (unsigned char c : e.id) {
    if (c <= 0x20 || c >= 0x7f) {
      throw std::invalid_argument("event id must be printable ASCII without spaces");
    }
  }
  check_words("event type", e.type, false);
  if (e.time.empty() || e.time.size() > 64) {
    throw std::invalid_argument("event time must have 1 to 64 characters");
  }
  for (unsigned char c : e.time) {
    if (c < 0x20 || c >= 0x7f) {
      throw std::invalid_argument("event time must be printable ASCII");
    }
  }
  if (e.version < 1) {
    throw std::invalid_argument("event version must be >= 1");
  }
}

std::string quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

const boost::json::string& string_member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    throw std::invalid_argument("event envelope: \"" + std::string(name) + "\" must be a string");
  }
  return v->get_string();
}

// AMQP topic matching: `*` is one word, `#` zero or more. Which prefixes of
// the key the pattern's words so far can match, word by word: O(|p| x |k|),
// where trying every split at each `#` is exponential in their number.
bool match_words(const std::vector<std::string_view>& p, const std::vector<std::string_view>& k) {
  std::vector<char> reach(k.size() + 1, 0);
  reach[0] = 1;
  for (const auto word : p) {
    if (word == "#") {
      for (std::size_t j = 1; j <= k.size(); ++j) {
        reach[j] = static_cast<char>(reach[j] != 0 || reach[j - 1] != 0);
      }
      continue;
    }
    for (std::size_t j = k.size(); j > 0; --j) {
      reach[j] = static_cast<char>(reach[j - 1] != 0 && (word == "*" || word == k[j - 1]));
    }
    reach[0] = 0;
  }
  return reach[k.size()] != 0;
}

}  // namespace

Event make_event(std::string_view type, std::string payload, int version) {
  return Event{.id = core::new_id(),
               .type = std::string(type),
               .time = core::now_iso8601(),
               .version = version,
               .payload = std::move(payload)};
}

void validate(const Event& e) {
  check_header(e);
  check_payload(e.payload);
}

std::string encode(const Event& e) {
  validate(e);
  std::string out;
  out.reserve(64 + e.id.size() + e.type.size() + e.time.size() + e.payload.size());
  out += "{\"id\":";
  out += quote(e.id);
  out += ",\"type\":";
  out += quote(e.type);
  out += ",\"time\":";
  out += quote(e.time);
  out += ",\"version\":";
  out += std::to_string(e.version);
  out += ",\"payload\":";
  out += e.payload;
  out += '}';
  return out;
}

Event decode(std::string_view json) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(json, ec, {}, parse_options());
  if (ec) {
    throw std::invalid_argument("event envelope is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) {
    throw std::invalid_argument("event envelope must be a JSON object");
  }
  const auto& o = v.get_object();
  Event e;
  e.id = std::string(string_member(o, "id"));
  e.type = std::string(string_member(o, "type"));
  e.time = std::string(string_member(o, "time"));
  const auto* version = o.if_contains("version");
  if (version == nullptr || !(version->is_int64() || version->is_uint64())) {
    throw std::invalid_argument("event envelope: \"version\" must be an integer");
  }
  if (version->is_uint64() || version->get_int64() < 1 || version->get_int64() > INT_MAX) {
    throw std::invalid_argument("event envelope: \"version\" must be >= 1");
  }
  e.version = static_cast<int>(version->get_int64());
  const auto* payload = o.if_contains("payload");
  if (payload == nullptr || !payload->is_object()) {
    throw std::invalid_argument("event envelope: \"payload\" must be an object");
  }
  e.payload = http::dump(*payload);
  check_header(e);
  return e;
}

bool topic_matches(std::string_view pattern, std::string_view key) noexcept {
  try {
    return match_words(split_words(pattern), split_words(key));
  } catch (...) {  // allocation failure
    return false;
  }
}

void validate_pattern(std::string_view pattern) {
  check_words("binding pattern", pattern, true);
}

}  // namespace emporium::bus
