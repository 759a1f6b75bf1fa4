#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace emporium::http {

// A handler turns a request into a response. It may throw only for bugs or
// broken infrastructure; expected failures are returned as problem responses.
using Handler = std::function<Response(Request&)>;

// A handler that never blocks (no database, no network, no waiting beyond a
// short lock): it answers, e.g. from an in-process cache, or declines with
// std::nullopt, and then the route's Handler answers as usual. An exception
// escaping it counts as declining (and is logged).
using FastHandler = std::function<std::optional<Response>(const Request&)>;

// A handler that waits only on asynchronous I/O (an upstream over
// AsyncClient): a coroutine the server runs on the I/O thread.
using AsyncHandler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct RouteOptions {
  // True when the handler may block (database, upstream calls): the server
  // runs it on the blocking worker pool instead of an I/O thread.
  bool blocking = true;
  // Tried first, on the I/O thread, through the same Pipeline (request id,
  // metrics, access log, CORS and security headers); empty: none.
  FastHandler fast{};
  // When set, the server co_awaits this on the I/O thread instead of calling
  // the route's handler, through the same middleware (`blocking` is then
  // not used); the handler still serves callers without an event loop.
  AsyncHandler async{};
};

struct Route {
  std::string method;
  std::string path_template;  // e.g. "/api/products/{id}"
  Handler handler;
  RouteOptions options;
  // Compiled template: literal segments, or "" with is_param set.
  std::vector<std::pair<std::string, bool>> segments;
};

// Maps method + path templates to handlers. Literal segments win over
// parameters ("/api/products/categories" beats "/api/products/{id}"). A single
// trailing slash is ignored. HEAD is served by the GET handler.
class Router {
 public:
  struct Match {
    const Route* route = nullptr;  // set when status == 200
    int status = 404;              // 200, 404 or 405
    std::string allow;             // for 405: the methods the path accepts
    std::vector<std::pair<std::string, std::string>> params;  // percent-decoded
  };

  // Registers a route. Throws std::invalid_argument on a malformed template
  // ("{}" or a segment mixing text and braces) or a duplicate method+template.
  void add(std::string_view method, std::string_view path_template, Handler handler,
           RouteOptions options = {});

  // Registers a handler for every method on `prefix` and every path below it
  // ("/api/cart" matches "/api/cart" and "/api/cart/u1/items"). Used only
  // when no template route matches; the longest prefix wins ("/" matches
  // every path). Its route template (for metrics and logs) is "<prefix>/*".
  void add_prefix(std::string_view prefix, Handler handler, RouteOptions options = {});

  // Finds the route for `encoded_path` (the path as sent, without query).
  Match match(std::string_view method, std::string_view encoded_path) const;

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, Route>> prefixes_;
};

}  // namespace emporium::http
