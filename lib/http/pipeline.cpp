#include "http/pipeline.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <unordered_map>

#include "core/error.hpp"
#include "http/problem.hpp"
#include "obs/log.hpp"

namespace emporium::http {

namespace {

constexpr std::array<std::string_view, 8> kMethods = {"GET",    "HEAD",  "POST",    "PUT",
                                                      "DELETE", "PATCH", "OPTIONS", "OTHER"};

// The index in kMethods of the method's label ("OTHER" for the rest).
std::size_t method_index(std::string_view m) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == m) {
      return i;
    }
  }
  return kMethods.size() - 1;
}

// One series of the request metrics: the children of the counter and the
// histogram for one pipeline, route, method and status. Family::with builds
// a key and takes a lock on every call, so each thread keeps the ones it
// used (pipelines are told apart by id, never reused; a route by its
// address, checked against its template in case the address was reused).
struct SeriesKey {
  std::uint64_t pipeline = 0;
  const Route* route = nullptr;
  std::size_t method = 0;
  int status = 0;
  bool operator==(const SeriesKey&) const = default;
};

struct SeriesKeyHash {
  std::size_t operator()(const SeriesKey& k) const noexcept {
    std::size_t h = std::hash<std::uint64_t>{}(k.pipeline);
    h = h * 31 + std::hash<const void*>{}(k.route);
    h = h * 31 + k.method;
    return h * 31 + static_cast<std::size_t>(k.status);
  }
};

struct Series {
  std::string route;
  obs::Counter* requests = nullptr;
  obs::Histogram* latency = nullptr;
};

constexpr std::size_t kMaxSeriesPerThread = 4096;
std::atomic<std::uint64_t> next_pipeline_id{1};

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
    : id_(next_pipeline_id.fetch_add(1)),
      cors_(std::move(cors)),
      requests_(metrics.counter("emporium_http_requests_total",
                                "HTTP requests answered, by route template, method and status.",
                                {"route", "method", "status"})),
      latency_(metrics.histogram("emporium_http_request_duration_seconds",
                                 "Time from a request read to its response ready, in seconds.",
                                 {"route", "method"})),
      in_flight_(
          metrics.gauge("emporium_http_requests_in_flight", "HTTP requests being handled now.")
              .with({})) {}

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
    h.add("X-Frame-Options", "DENY");
  }
  if (!h.has("Referrer-Policy")) {
    h.add("Referrer-Policy", "no-referrer");
  }
  if (!h.has("Content-Security-Policy")) {
    h.add("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (!h.has("Cache-Control")) {
    h.add("Cache-Control", "no-store");
  }
  if (!cors_.origins.empty()) {
    if (auto origin = req.headers.get("Origin"); origin && origin_allowed(cors_, *origin)) {
      const bool any = cors_.origins.size() == 1 && cors_.origins.front() == "*";
      h.set("Access-Control-Allow-Origin", any ? std::string_view("*") : *origin);
      if (!any) {
        h.set("Access-Control-Allow-Credentials", "true");
      }
      h.set("Access-Control-Expose-Headers",
            "X-Request-Id, Location, WWW-Authenticate, Link, X-Total-Count, Retry-After, "
            "RateLimit, RateLimit-Policy");
    }
    h.add("Vary", "Origin");
  }
}

template <class Produce>
std::optional<Response> Pipeline::run(Request& req, const Router::Match& match, bool fast,
                                      Produce&& produce) const noexcept {
  const auto start = Clock::now();
  std::optional<Response> res;
  in_flight_.inc();
  try {
    req.request_id = request_id_from(req.headers.get("X-Request-Id").value_or(""));
    res = fast ? produce() : std::nullopt;
    Headers extra;
    if (gate_ && (!fast || res)) {
      // A fast answer is a cache hit without side effects: it is produced
      // first and then admitted, so that a declined fast path (answered
      // next on the pool) is charged to the limits once, not twice.
      auto refused =
          gate_(req, !fast && match.route != nullptr && match.route->options.blocking, extra);
      if (refused) {
        res = std::move(refused);
      }
    }
    if (!fast && !res) {
      res = produce();
    }
    if (res) {
      complete(req, *res, extra);
    }
  } catch (...) {
    // Only allocation failure can land here; answer without touching the heap much.
    res.emplace();
    res->status = 500;
  }
  in_flight_.dec();
  if (res) {
    record(req, match, *res, start);
  }
  return res;
}

void Pipeline::complete(const Request& req, Response& res, const Headers& extra) const {
  for (const auto& [k, v] : extra.fields()) {
    res.headers.add(k, v);
  }
  decorate(req, res);
}

void Pipeline::record(const Request& req, const Router::Match& match, const Response& res,
                      Clock::time_point start) const noexcept {
  try {
    observe(req, match, res, start);
  } catch (...) {
    // Observability must never fail a request.
  }
}

void Pipeline::observe(const Request& req, const Router::Match& match, const Response& res,
                       Clock::time_point start) const {
  const auto elapsed = std::chrono::duration<double>(Clock::now() - start);
  const std::string_view route =
      match.route != nullptr ? std::string_view(match.route->path_template) : "unmatched";
  const std::size_t method = method_index(req.method);
  thread_local std::unordered_map<SeriesKey, Series, SeriesKeyHash> known;
  const SeriesKey key{
      .pipeline = id_, .route = match.route, .method = method, .status = res.status};
  auto it = known.find(key);
  if (it == known.end() || it->second.route != route) {
    if (known.size() >= kMaxSeriesPerThread) {
      known.clear();
    }
    const auto status = std::to_string(res.status);
    Series series{.route = std::string(route),
                  .requests = &requests_.with({route, kMethods[method], status}),
                  .latency = &latency_.with({route, kMethods[method]})};
    it = known.insert_or_assign(key, std::move(series)).first;
  }
  it->second.requests->inc();
  it->second.latency->observe(elapsed.count());
  if (obs::log_enabled(obs::Level::info)) {
    obs::info("request", {{"method", kMethods[method]},
                          {"route", route},
                          {"status", static_cast<std::int64_t>(res.status)},
                          {"bytes", static_cast<std::int64_t>(res.body.size())},
                          {"duration_ms", elapsed.count() * 1000.0},
                          {"request_id", req.request_id},
                          {"remote", req.remote}});
  }
}

Response Pipeline::handle(Request& req, const Router::Match& match) const noexcept {
  auto res = run(req, match, false, [&] { return std::optional<Response>(dispatch(req, match)); });
  return res ? std::move(*res) : Response{};
}

std::optional<Response> Pipeline::dispatch_fast(Request& req, const Router::Match& match) const {
  req.route = match.route->path_template;
  req.params = match.params;
  try {
    return match.route->options.fast(req);
  } catch (const std::exception& e) {
    obs::error("fast handler failed; the handler answers instead",
               {{"request_id", req.request_id}, {"route", req.route}, {"exception", e.what()}});
  } catch (...) {
    obs::error("fast handler failed; the handler answers instead",
               {{"request_id", req.request_id}, {"route", req.route}});
  }
  return std::nullopt;
}

std::optional<Response> Pipeline::handle_fast(Request& req,
                                              const Router::Match& match) const noexcept {
  if (match.route == nullptr || !match.route->options.fast) {
    return std::nullopt;
  }
  return run(req, match, true, [&] { return dispatch_fast(req, match); });
}

boost::asio::awaitable<Response> Pipeline::handle_async(Request& req,
                                                        const Router::Match& match) const {
  const auto start = Clock::now();
  std::optional<Response> res;
  in_flight_.inc();
  try {
    req.request_id = request_id_from(req.headers.get("X-Request-Id").value_or(""));
    Headers extra;
    if (gate_) {
      res = gate_(req, false, extra);  // on the I/O thread: never waits on the network
    }
    if (!res) {
      res = answer_without_handler(req, match);
    }
    if (!res) {
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
    complete(req, *res, extra);
  } catch (...) {
    // Only allocation failure can land here; answer without touching the heap much.
    res.emplace();
    res->status = 500;
  }
  in_flight_.dec();
  record(req, match, *res, start);
  co_return std::move(*res);
}

}  // namespace emporium::http
