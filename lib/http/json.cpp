#include "http/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <cmath>

namespace emporium::http {

namespace {

void write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case boost::json::kind::double_: {
      const double d = v.get_double();
      out += std::isfinite(d) ? fmt::format("{}", d) : "null";
      break;
    }
    case boost::json::kind::string:
      out += boost::json::serialize(v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write(out, e);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.get_object()) {
        if (!first) {
          out += ',';
        }
        first = false;
        out += boost::json::serialize(boost::json::string_view(k));
        out += ':';
        write(out, e);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string dump(const boost::json::value& v) {
  std::string out;
  out.reserve(256);
  write(out, v);
  return out;
}

Response json_response(int status, const boost::json::value& v) {
  return Response::json(status, dump(v));
}

boost::json::value money(std::int64_t cents) {
  if (cents % 100 == 0) {
    return cents / 100;
  }
  return static_cast<double>(cents) / 100.0;
}

Response problem(const Invalid& invalid) {
  return problem(invalid.status, invalid.detail, invalid.fields);
}

namespace {

using boost::system::error_code;
namespace bj = boost::json;

// A basic_parser handler that builds the value as boost::json::parser does
// (through a value_stack) and fails on the first object that has a key
// twice, remembering where: Boost.JSON 1.81 would keep the last silently.
// Keys are checked when their object ends, sorted, so that a body with many
// keys costs n log n, not n squared. Frames are reused across objects.
class UniqueKeys {
 public:
  static constexpr std::size_t max_object_size = bj::object::max_size();
  static constexpr std::size_t max_array_size = bj::array::max_size();
  static constexpr std::size_t max_key_size = bj::string::max_size();
  static constexpr std::size_t max_string_size = bj::string::max_size();

  UniqueKeys() : stack_({}, buffer_.data(), buffer_.size()) { stack_.reset(); }

  bj::value release() { return stack_.release(); }
  // The path of the repeated key ("items[0].sku"), when there was one.
  const std::optional<std::string>& duplicate() const noexcept { return duplicate_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return open(true); }
  bool on_object_end(std::size_t n, error_code& ec) {
    if (!unique_keys()) {
      ec = bj::error::syntax;
      return false;
    }
    stack_.push_object(n);
    return close();
  }
  bool on_array_begin(error_code&) { return open(false); }
  bool on_array_end(std::size_t n, error_code&) {
    stack_.push_array(n);
    return close();
  }
  bool on_key_part(bj::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    top().partial.append(s.data(), s.size());
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, error_code&) {
    stack_.push_key(s);
    auto& f = top();
    f.partial.append(s.data(), s.size());
    f.keys.push_back(f.partial);
    f.partial.clear();
    return true;
  }
  bool on_string_part(bj::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, error_code&) {
    stack_.push_string(s);
    return done();
  }
  bool on_number_part(bj::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, bj::string_view, error_code&) {
    stack_.push_int64(i);
    return done();
  }
  bool on_uint64(std::uint64_t u, bj::string_view, error_code&) {
    stack_.push_uint64(u);
    return done();
  }
  bool on_double(double d, bj::string_view, error_code&) {
    stack_.push_double(d);
    return done();
  }
  bool on_bool(bool b, error_code&) {
    stack_.push_bool(b);
    return done();
  }
  bool on_null(error_code&) {
    stack_.push_null();
    return done();
  }
  bool on_comment_part(bj::string_view, error_code&) { return true; }
  bool on_comment(bj::string_view, error_code&) { return true; }

 private:
  struct Frame {
    bool object = false;
    std::vector<std::string> keys;  // an object's keys so far
    std::string partial;            // a key arriving in parts
    std::size_t items = 0;          // an array's elements so far
  };

  Frame& top() { return frames_[depth_ - 1]; }

  bool open(bool object) {
    if (depth_ == frames_.size()) {
      frames_.emplace_back();
    }
    auto& f = frames_[depth_++];
    f.object = object;
    f.keys.clear();
    f.partial.clear();
    f.items = 0;
    return true;
  }
  bool close() {
    --depth_;
    return done();
  }
  // A value ended: the next one in an array has the next index.
  bool done() {
    if (depth_ > 0 && !top().object) {
      ++top().items;
    }
    return true;
  }

  // Small objects (most bodies) compare pairwise; larger ones sort.
  bool unique_keys() {
    const auto& keys = top().keys;
    constexpr std::size_t kPairwise = 8;
    if (keys.size() <= kPairwise) {
      for (std::size_t i = 1; i < keys.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (keys[i] == keys[j]) {
            duplicate_ = path_to(keys[i]);
            return false;
          }
        }
      }
      return true;
    }
    sorted_.assign(keys.begin(), keys.end());
    std::sort(sorted_.begin(), sorted_.end());
    const auto dup = std::adjacent_find(sorted_.begin(), sorted_.end());
    if (dup == sorted_.end()) {
      return true;
    }
    duplicate_ = path_to(*dup);
    return false;
  }

  // The dotted path of `key` in the innermost object, from the body's root.
  std::string path_to(std::string_view key) const {
    std::string path;
    for (std::size_t i = 0; i + 1 < depth_; ++i) {
      const auto& f = frames_[i];
      if (f.object) {
        path += (path.empty() ? "" : ".") + f.keys.back();
      } else {
        path += "[" + std::to_string(f.items) + "]";
      }
    }
    path += path.empty() ? "" : ".";
    path += key;
    return path;
  }

  // The value_stack's scratch space, as boost::json::parse gives it.
  std::array<unsigned char, 4096> buffer_{};
  bj::value_stack stack_;
  std::vector<Frame> frames_;
  std::vector<std::string_view> sorted_;
  std::size_t depth_ = 0;
  std::optional<std::string> duplicate_;
};

}  // namespace

Parsed<boost::json::object> parse_object(std::string_view body) {
  error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::basic_parser<UniqueKeys> parser(opts);
  const auto used = parser.write_some(false, body.data(), body.size(), ec);
  if (const auto& key = parser.handler().duplicate()) {
    return core::fail(
        Invalid{.detail = "Duplicate key in JSON: " + *key, .fields = {{*key, "Duplicate key"}}});
  }
  if (ec || used != body.size()) {
    return core::fail(Invalid{.detail = "Malformed JSON"});
  }
  auto v = parser.handler().release();
  if (!v.is_object()) {
    return core::fail(Invalid{.detail = "Body must be a JSON object"});
  }
  return std::move(v.as_object());
}

Fields::Fields(const boost::json::object& o, const std::set<std::string_view>& allowed) : o_(o) {
  for (const auto& [k, v] : o) {
    if (!allowed.contains(std::string_view(k))) {
      add_error(std::string(k), "Unknown field");
    }
  }
}

void Fields::add_error(std::string field, std::string msg) {
  errors_.push_back({std::move(field), std::move(msg)});
}

const boost::json::value* Fields::get(std::string_view name, bool required) {
  const auto* v = o_.if_contains(name);
  if (v == nullptr || (v->is_null() && required)) {
    if (required) {
      add_error(std::string(name), "Required");
    }
    return nullptr;
  }
  if (v->is_null()) {
    return nullptr;
  }
  return v;
}

bool Fields::given(std::string_view name) const {
  const auto* v = o_.if_contains(name);
  return v != nullptr && !(v->is_string() && v->get_string().empty());
}

std::optional<std::string> Fields::string(std::string_view name, std::size_t min_len,
                                          std::size_t max_len, bool required) {
  const auto* v = get(name, required);
  if (v == nullptr || (!required && min_len > 0 && !given(name))) {
    return std::nullopt;
  }
  if (!v->is_string()) {
    add_error(std::string(name), "Must be a string");
    return std::nullopt;
  }
  std::string s(v->get_string());
  // Trim surrounding white space; length counts UTF-8 code points.
  const auto first = s.find_first_not_of(" \t\r\n");
  s = first == std::string::npos ? std::string()
                                 : s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
  std::size_t chars = 0;
  for (unsigned char c : s) {
    chars += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  if (chars < min_len || chars > max_len) {
    add_error(std::string(name), "Must be " + std::to_string(min_len) + " to " +
                                     std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> Fields::integer(std::string_view name, std::int64_t min,
                                            std::int64_t max, bool required) {
  const auto* v = get(name, required);
  if (v == nullptr) {
    return std::nullopt;
  }
  std::optional<std::int64_t> n;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else if (v->is_double() && std::trunc(v->get_double()) == v->get_double() &&
             std::abs(v->get_double()) < 9e15) {
    n = static_cast<std::int64_t>(v->get_double());
  }
  if (!n) {
    add_error(std::string(name), "Must be an integer");
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    add_error(std::string(name),
              "Must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::int64_t> Fields::money_cents(std::string_view name, bool required) {
  const auto* v = get(name, required);
  if (v == nullptr) {
    return std::nullopt;
  }
  double d = 0;
  if (v->is_int64()) {
    d = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->get_uint64());
  } else if (v->is_double()) {
    d = v->get_double();
  } else {
    add_error(std::string(name), "Must be a number");
    return std::nullopt;
  }
  if (!(d >= 0) || d > 1e12) {
    add_error(std::string(name), "Must be between 0 and 1000000000000");
    return std::nullopt;
  }
  const double cents = d * 100.0;
  const double rounded = std::round(cents);
  if (std::abs(cents - rounded) > 1e-6 * std::max(1.0, rounded)) {
    add_error(std::string(name), "Must have at most 2 decimals");
    return std::nullopt;
  }
  return static_cast<std::int64_t>(rounded);
}

const boost::json::object* Fields::object(std::string_view name, bool required) {
  const auto* v = get(name, required);
  if (v == nullptr) {
    return nullptr;
  }
  if (!v->is_object()) {
    add_error(std::string(name), "Must be an object");
    return nullptr;
  }
  return &v->get_object();
}

Invalid Fields::invalid(int status) const {
  std::string detail = "Validation failed";
  if (!errors_.empty()) {
    detail += ": " + errors_.front().field + " " + errors_.front().msg;
  }
  return Invalid{.status = status, .detail = std::move(detail), .fields = errors_};
}

std::optional<std::int64_t> query_int(const Request& req, std::string_view name, std::int64_t min,
                                      std::int64_t max, std::vector<FieldError>& errors) {
  auto raw = req.query_param(name);
  if (!raw) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), v);
  if (ec != std::errc() || p != raw->data() + raw->size() || v < min || v > max) {
    errors.push_back({std::string(name), "Must be an integer between " + std::to_string(min) +
                                             " and " + std::to_string(max)});
    return std::nullopt;
  }
  return v;
}

PageRequest page_request(const Request& req, std::vector<FieldError>& errors) {
  PageRequest p;
  p.page = query_int(req, "page", 1, 1'000'000, errors).value_or(1);
  p.limit = std::min<std::int64_t>(query_int(req, "limit", 1, INT32_MAX, errors).value_or(20), 100);
  return p;
}

boost::json::object pagination(const PageRequest& p, std::int64_t total) {
  return boost::json::object{{"page", p.page},
                             {"limit", p.limit},
                             {"total", total},
                             {"pages", (total + p.limit - 1) / p.limit}};
}

namespace {

std::string page_link(const Request& req, const PageRequest& p, std::int64_t page) {
  boost::urls::url u;
  u.set_path(req.path);
  for (const auto& [name, value] : req.query) {
    if (name != "page" && name != "limit") {
      u.params().append({name, value});
    }
  }
  u.params().append({"page", std::to_string(page)});
  u.params().append({"limit", std::to_string(p.limit)});
  return std::string(u.buffer());
}

}  // namespace

void add_paging_headers(Response& res, const Request& req, const PageRequest& p,
                        std::int64_t total) {
  const std::int64_t last = std::max<std::int64_t>(1, (total + p.limit - 1) / p.limit);
  std::string link;
  const auto add = [&](std::int64_t page, std::string_view rel) {
    if (!link.empty()) {
      link += ", ";
    }
    link += fmt::format("<{}>; rel=\"{}\"", page_link(req, p, page), rel);
  };
  add(1, "first");
  if (p.page > 1) {
    add(std::min(p.page - 1, last), "prev");
  }
  if (p.page < last) {
    add(p.page + 1, "next");
  }
  add(last, "last");
  res.headers.set("Link", link);
  res.headers.set("X-Total-Count", std::to_string(total));
}

Response query_problem(std::vector<FieldError> errors) {
  const std::string detail = "Invalid query: " + errors.front().field + " " + errors.front().msg;
  return problem(400, detail, std::move(errors));
}

}  // namespace emporium::http
