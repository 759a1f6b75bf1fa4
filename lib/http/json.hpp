#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"

namespace emporium::http {

// Serialises JSON with numbers in plain decimal form (19.99, not 1.999E1),
// which is how the API documents prices.
std::string dump(const boost::json::value& v);

// A JSON response built from a value.
Response json_response(int status, const boost::json::value& v);

// Formats integer minor units as a JSON number with at most two decimals.
boost::json::value money(std::int64_t cents);

// Why a request's body or query is not a valid input: answered with
// `status` (400; 422 for a well-formed input the operation cannot use),
// `detail`, and every invalid field.
struct Invalid {
  int status = 400;
  std::string detail;
  std::vector<FieldError> fields{};
};
Response problem(const Invalid& invalid);

// A typed, validated input, or why there is none.
template <class T>
using Parsed = core::Result<T, Invalid>;

// Parses a request body that must be one JSON object. Fails with "Malformed
// JSON" (also past 32 levels of nesting), "Body must be a JSON object", or
// "Duplicate key in JSON: <path>" when an object, at any depth, has a key
// twice (path as "items[0].sku"; the field error names the same path).
Parsed<boost::json::object> parse_object(std::string_view body);

// Collects field errors while reading a JSON object, so that one 400 answer
// lists every problem. Each getter records an error and returns nullopt when
// the field is missing (and required), of the wrong type, or out of range.
class Fields {
 public:
  // `allowed` lists every field the object may have; others are errors.
  Fields(const boost::json::object& o, const std::set<std::string_view>& allowed);

  bool has(std::string_view name) const { return o_.contains(name); }
  // Present with a value other than an empty string: an empty optional
  // string ("" sent by a form left blank) counts as absent.
  bool given(std::string_view name) const;

  // An optional (required = false) string that must not be empty
  // (min_len > 0) sent as "" reads as absent: nullopt, no error.
  std::optional<std::string> string(std::string_view name, std::size_t min_len, std::size_t max_len,
                                    bool required = true);
  std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max,
                                      bool required = true);
  // A non-negative amount with at most two decimals, as integer cents.
  std::optional<std::int64_t> money_cents(std::string_view name, bool required = true);
  const boost::json::object* object(std::string_view name, bool required = true);

  void add_error(std::string field, std::string msg);
  bool ok() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  // "Validation failed: <first field> <its message>", listing every error
  // (status configurable for 422 cases).
  Invalid invalid(int status = 400) const;
  Response problem(int status = 400) const { return http::problem(invalid(status)); }

 private:
  const boost::json::value* get(std::string_view name, bool required);
  const boost::json::object& o_;
  std::vector<FieldError> errors_;
};

// Reads a validated input of type T from a JSON object.
template <class T>
using Reader = Parsed<T> (*)(const boost::json::object&);

// Parses `body` as one JSON object and reads it with `read`.
template <class T>
Parsed<T> read_body(std::string_view body, Reader<T> read) {
  auto object = parse_object(body);
  if (!object) {
    return core::fail(std::move(object).error());
  }
  return read(*object);
}

// The one JSON-body adapter of every route: wraps `handler`, called as
// handler(request, args..., T&&) with the body read by `read`, so that a
// handler never sees a body that is not a valid T; otherwise the Invalid
// problem (400). The args are those the enclosing guard passes (the
// identity of signed_in), none for a plain route.
template <class T, class F>
auto with_body(Reader<T> read, F handler) {
  return [read, handler = std::move(handler)](Request& req, auto&&... args) -> Response {
    auto input = read_body<T>(req.body, read);
    if (!input) {
      return problem(input.error());
    }
    return handler(req, std::forward<decltype(args)>(args)..., std::move(*input));
  };
}

// Reads a query parameter as an integer in [min, max]; records an error on
// the Fields-like list `errors` when present but invalid.
std::optional<std::int64_t> query_int(const Request& req, std::string_view name, std::int64_t min,
                                      std::int64_t max, std::vector<FieldError>& errors);

// ?page (>= 1, default 1) and ?limit (>= 1, default 20, above 100 clamped
// to 100) of a list endpoint.
struct PageRequest {
  std::int64_t page = 1;
  std::int64_t limit = 20;
  std::int64_t offset() const noexcept { return (page - 1) * limit; }
};
PageRequest page_request(const Request& req, std::vector<FieldError>& errors);
// {"page","limit","total","pages"}
boost::json::object pagination(const PageRequest& p, std::int64_t total);
// Adds `X-Total-Count: total` and an RFC 8288 `Link` header with the
// first, prev, next and last pages of the list `req` asked for (prev/next
// only when they exist): relative references to req.path, keeping every
// other query parameter as sent and setting page and limit.
void add_paging_headers(Response& res, const Request& req, const PageRequest& p,
                        std::int64_t total);
// 400 naming the first invalid query parameter and listing them all.
Response query_problem(std::vector<FieldError> errors);

}  // namespace emporium::http
