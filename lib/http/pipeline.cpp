#include "http/pipeline.hpp"

#include <array>
#include <chrono>
#include <random>

#include "core/error.hpp"
#include "http/problem.hpp"
#include "obs/log.hpp"

namespace emporium::http {

namespace {

std::string_view method_label(std::string_view m) {
  static constexpr std::array<std::string_view, 7> known = {"GET",    "HEAD",  "POST",   "PUT",
                                                            "DELETE", "PATCH", "OPTIONS"};
  for (auto k : known) {
    if (k == m) {
      return k;
    }
  }
  return "OTHER";
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool origin_allowed(const CorsPolicy& cors, std::string_view origin) {
  for (const auto& o : cors.origins) {
    if (o == "*" || o == origin) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string request_id_from(std::string_view candidate) {
  if (valid_request_id(candidate)) {
    return std::string(candidate);
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t half = 0; half < 2; ++half) {
    auto bits = rng();
    for (std::size_t i = 0; i < 16; ++i) {
      id[half * 16 + i] = hex[bits & 0xF];
      bits >>= 4;
    }
  }
  return id;
}

Pipeline::Pipeline(CorsPolicy cors, obs::Registry& metrics)
    : cors_(std::move(cors)),
      requests_(metrics.counter("emporium_http_requests_total",
                                "HTTP requests answered, by route template, method and status.",
                                {"route", "method", "status"})),
      latency_(metrics.histogram("emporium_http_request_duration_seconds",
                                 "Time from a request read to its response ready, in seconds.",
                                 {"route", "method"})),
      in_flight_(
          metrics.gauge("emporium_http_requests_in_flight", "HTTP requests being handled now.")
              .with({})) {}

void Pipeline::begin(Request& req) const {
  req.request_id = request_id_from(req.headers.get("X-Request-Id").value_or(""));
  in_flight_.inc();
}

std::optional<Response> Pipeline::answer_without_handler(Request& req,
                                                         const Router::Match& match) const {
  if (!cors_.origins.empty() && req.method == "OPTIONS" && req.headers.has("Origin") &&
      req.headers.has("Access-Control-Request-Method")) {
    Response res;
    res.status = 204;
    if (origin_allowed(cors_, *req.headers.get("Origin"))) {
      res.headers.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
      res.headers.set("Access-Control-Allow-Headers",
                      "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
      res.headers.set("Access-Control-Max-Age", "600");
    }
    return res;
  }
  if (match.status == 400) {
    return problem(400, "Malformed request target");
  }
  if (match.status == 404) {
    return problem(404, "Not found");
  }
  if (match.status == 405) {
    auto res = problem(405, "Method " + req.method + " not allowed on " + std::string(req.path));
    res.headers.set("Allow", match.allow);
    return res;
  }
  req.route = match.route->path_template;
  req.params = match.params;
  return std::nullopt;
}

Response Pipeline::failure(const Request& req, const std::exception_ptr& thrown) {
  try {
    std::rethrow_exception(thrown);
  } catch (const core::Error& e) {
    obs::error(e.transient() ? "dependency unavailable" : "infrastructure failure",
               {{"request_id", req.request_id}, {"route", req.route}, {"exception", e.what()}});
    if (e.transient()) {
      auto res = problem(e.timeout() ? 504 : 503, "Service temporarily unavailable");
      res.headers.set("Retry-After", "1");
      return res;
    }
  } catch (const std::exception& e) {
    obs::error("unhandled exception",
               {{"request_id", req.request_id}, {"route", req.route}, {"exception", e.what()}});
  } catch (...) {
    obs::error("unhandled exception", {{"request_id", req.request_id}, {"route", req.route}});
  }
  return problem(500, "Internal server error (request id " + req.request_id + ")");
}

Response Pipeline::dispatch(Request& req, const Router::Match& match) const {
  if (auto early = answer_without_handler(req, match)) {
    return std::move(*early);
  }
  try {
    return match.route->handler(req);
  } catch (...) {
    return failure(req, std::current_exception());
  }
}

void Pipeline::decorate(const Request& req, Response& res) const {
  auto& h = res.headers;
  h.set("X-Request-Id", req.request_id);
  h.set("X-Content-Type-Options", "nosniff");
  if (!h.has("X-Frame-Options")) {
    h.set("X-Frame-Options", "DENY");
  }
  if (!h.has("Referrer-Policy")) {
    h.set("Referrer-Policy", "no-referrer");
  }
  if (!h.has("Content-Security-Policy")) {
    h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (!h.has("Cache-Control")) {
    h.set("Cache-Control", "no-store");
  }
  if (!cors_.origins.empty()) {
    if (auto origin = req.headers.get("Origin"); origin && origin_allowed(cors_, *origin)) {
      const bool any = cors_.origins.size() == 1 && cors_.origins.front() == "*";
      h.set("Access-Control-Allow-Origin", any ? std::string_view("*") : *origin);
      if (!any) {
        h.set("Access-Control-Allow-Credentials", "true");
      }
      h.set("Access-Control-Expose-Headers",
            "X-Request-Id, Location, WWW-Authenticate, Link, X-Total-Count, Retry-After");
    }
    h.add("Vary", "Origin");
  }
}

Response Pipeline::handle(Request& req, const Router::Match& match) const noexcept {
  const auto start = Clock::now();
  Response res;
  try {
    begin(req);
    res = dispatch(req, match);
    decorate(req, res);
  } catch (...) {
    // Only allocation failure can land here; answer without touching the heap much.
    res = Response{};
    res.status = 500;
  }
  return finish(req, match, std::move(res), start);
}

boost::asio::awaitable<Response> Pipeline::handle_async(Request& req,
                                                        const Router::Match& match) const {
  const auto start = Clock::now();
  Response res;
  try {
    begin(req);
    if (auto early = answer_without_handler(req, match)) {
      res = std::move(*early);
    } else {
      std::exception_ptr thrown;
      try {
        res = co_await match.route->options.async(req);
      } catch (...) {
        thrown = std::current_exception();
      }
      if (thrown) {
        res = failure(req, thrown);
      }
    }
    decorate(req, res);
  } catch (...) {
    res = Response{};
    res.status = 500;
  }
  co_return finish(req, match, std::move(res), start);
}

Response Pipeline::finish(const Request& req, const Router::Match& match, Response res,
                          Clock::time_point start) const noexcept {
  in_flight_.dec();
  try {
    const auto elapsed = std::chrono::duration<double>(Clock::now() - start);
    const std::string_view route =
        match.route != nullptr ? std::string_view(match.route->path_template) : "unmatched";
    const auto method = method_label(req.method);
    const auto status = std::to_string(res.status);
    requests_.with({route, method, status}).inc();
    latency_.with({route, method}).observe(elapsed.count());
    if (obs::log_enabled(obs::Level::info)) {
      obs::info("request", {{"method", method},
                            {"route", route},
                            {"status", static_cast<std::int64_t>(res.status)},
                            {"bytes", static_cast<std::int64_t>(res.body.size())},
                            {"duration_ms", elapsed.count() * 1000.0},
                            {"request_id", req.request_id},
                            {"remote", req.remote}});
    }
  } catch (...) {
    // Observability must never fail a request.
  }
  return res;
}

}  // namespace emporium::http
