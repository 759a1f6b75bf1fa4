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

// Parses a request body that must be one JSON object. Returns the object, or
// a 400 problem ("Malformed JSON" / "Body must be a JSON object").
std::variant<boost::json::object, Response> parse_object(std::string_view body);

// Collects field errors while reading a JSON object, so that one 400 answer
// lists every problem. Each getter records an error and returns nullopt when
// the field is missing (and required), of the wrong type, or out of range.
class Fields {
 public:
  // `allowed` lists every field the object may have; others are errors.
  Fields(const boost::json::object& o, std::set<std::string_view> allowed);

  bool has(std::string_view name) const { return o_.contains(name); }

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
  // 400 problem listing the errors (status configurable for 422 cases).
  Response problem(int status = 400) const;

 private:
  const boost::json::value* get(std::string_view name, bool required);
  const boost::json::object& o_;
  std::vector<FieldError> errors_;
};

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
// 400 naming the first invalid query parameter and listing them all.
Response query_problem(std::vector<FieldError> errors);

}  // namespace emporium::http
