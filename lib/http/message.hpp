#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium::http {

// Case-insensitive ASCII comparison, as HTTP field names require.
bool iequals(std::string_view a, std::string_view b) noexcept;

// An ordered list of header fields. Lookups are case-insensitive; order and
// repeated fields are preserved as they arrived or were added.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  // Returns the value of the first field named `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field named `name` with one field holding `value`.
  void set(std::string_view name, std::string_view value);
  // Appends a field, keeping existing ones (for Set-Cookie, Vary, ...).
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const noexcept { return fields_; }
  bool empty() const noexcept { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// A parsed HTTP request as handlers see it: no sockets, no parser types.
struct Request {
  std::string method;  // upper-case token, e.g. "GET"
  std::string target;  // raw request target, e.g. "/api/products?page=2"
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote;  // peer address, "ip:port"

  // Filled by the router: the matched template and its captured parameters.
  std::string route;
  std::vector<std::pair<std::string, std::string>> params;
  // Filled by the request-id middleware.
  std::string request_id;

  // First query parameter named `name`, if present.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // Path parameter captured by the route template, e.g. "id" in "/x/{id}".
  std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // A JSON response with the given pre-serialised body.
  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string_view content_type);
};

// True for valid UTF-8 without NUL or other C0 control characters (tab
// excepted): what a path parameter or query value may hold.
bool valid_text(std::string_view s) noexcept;

// Fills req.path (as sent) and req.query (decoded) from an origin-form
// target such as "/api/products?page=2". False when the target is invalid,
// including a query value that is not valid_text.
bool parse_target(std::string_view target, Request& req);

// Canonical reason phrase for a status code ("Not Found"); "Unknown" if none.
std::string_view reason_phrase(int status) noexcept;

}  // namespace emporium::http
