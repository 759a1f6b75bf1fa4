#include "limit/edge.hpp"

#include <stdexcept>

#include "cache/redis.hpp"
#include "http/problem.hpp"

namespace emporium::limit {

namespace {

std::int64_t seconds_up(std::chrono::milliseconds d) {
  return std::max<std::int64_t>((d.count() + 999) / 1000, 0);
}

std::unique_ptr<cache::RedisCache> open_redis(const EdgeOptions& o) {
  if (o.redis_url.empty()) {
    return nullptr;
  }
  auto address = cache::parse_redis_url(o.redis_url);
  if (!address) {
    throw std::invalid_argument("invalid redis_url");
  }
  return std::make_unique<cache::RedisCache>(cache::RedisOptions{
      .address = *address,
      .pool_size = 8,
      .connect_timeout = o.redis_timeout,
      .command_timeout = o.redis_timeout,
      .retry_after = std::chrono::seconds(1),
      .down_message = "rate limit store unavailable; limiting in-process until it answers",
      .up_message = "rate limit store available again"});
}

}  // namespace

void rate_limit_fields(std::string_view cls, const Policy& p, const Decision& d,
                       http::Headers& out) {
  const std::string id = "\"" + std::string(cls) + "\"";
  out.set("RateLimit-Policy", id + ";q=" + std::to_string(p.limit) + ";w=" +
                                  std::to_string(std::max<std::int64_t>(seconds_up(p.period), 1)));
  const auto t = d.allowed ? d.reset : d.retry_after;
  out.set("RateLimit",
          id + ";r=" + std::to_string(d.remaining) + ";t=" + std::to_string(seconds_up(t)));
}

http::Response too_many_requests(std::string_view cls, const Decision& d) {
  const auto wait = std::max<std::int64_t>(seconds_up(d.retry_after), 1);
  auto res =
      http::problem(429, "Too many " + std::string(cls) + " requests from this client; retry in " +
                             std::to_string(wait) + " s");
  res.headers.set("Retry-After", std::to_string(wait));
  return res;
}

EdgeLimiter::EdgeLimiter(EdgeOptions options, const auth::Tokens& tokens, obs::Registry& metrics)
    : options_(std::move(options)),
      tokens_(tokens),
      redis_(open_redis(options_)),
      rejected_(metrics.counter("emporium_rate_limit_rejected_total",
                                "Requests refused with 429 by the edge's rate limits, by route "
                                "class.",
                                {"class"})),
      fallback_(metrics
                    .counter("emporium_rate_limit_fallback_total",
                             "Rate-limit checks decided in-process because Redis did not answer.")
                    .with({})) {}

EdgeLimiter::~EdgeLimiter() = default;

std::vector<std::string> EdgeLimiter::keys_for(const http::Request& req, std::string_view cls,
                                               const Address& client) const {
  std::vector<std::string> keys;
  keys.push_back("emporium:rl:" + std::string(cls) + ":a:" + client.text());
  if (auto token = auth::token_from(req)) {
    auto who = tokens_.verify(*token, tokens_.settings().audience);
    if (who) {
      keys.push_back("emporium:rl:" + std::string(cls) + ":u:" + who->subject);
    }
  }
  return keys;
}

Decision EdgeLimiter::decide(const std::vector<std::string>& keys, const Policy& p, bool on_pool) {
  if (redis_ == nullptr || !on_pool) {
    return local_.check(keys, p);
  }
  const auto period_us = std::chrono::duration_cast<std::chrono::microseconds>(p.period).count();
  auto r = redis_->eval_integers(ratelimit_script(), keys,
                                 {std::to_string(period_us), std::to_string(p.limit)});
  if (!r || r->size() != 4) {
    fallback_.inc();
    return local_.check(keys, p);
  }
  return Decision{.allowed = (*r)[0] == 1,
                  .remaining = (*r)[1],
                  .retry_after = std::chrono::milliseconds((*r)[2]),
                  .reset = std::chrono::milliseconds((*r)[3])};
}

std::optional<http::Response> EdgeLimiter::admit(const http::Request& req, bool on_pool,
                                                 http::Headers& out) noexcept {
  try {
    const auto cls = http::classify(req.method, req.path);
    if (cls == http::RouteClass::ops || cls == http::RouteClass::internal) {
      return std::nullopt;
    }
    const auto& policy = options_.policies.at(static_cast<std::size_t>(cls));
    if (policy.off()) {
      return std::nullopt;
    }
    auto client = client_address(req.remote, req.headers, options_.trusted_proxies);
    if (!client) {
      return std::nullopt;
    }
    const auto name = http::name(cls);
    const auto d = decide(keys_for(req, name, *client), policy, on_pool);
    rate_limit_fields(name, policy, d, out);
    if (d.allowed) {
      return std::nullopt;
    }
    rejected_.with({name}).inc();
    auto res = too_many_requests(name, d);
    for (const auto& [k, v] : out.fields()) {
      res.headers.set(k, v);
    }
    out = {};
    return res;
  } catch (...) {
    // A limiter fault must not refuse the shop's traffic.
    return std::nullopt;
  }
}

}  // namespace emporium::limit
