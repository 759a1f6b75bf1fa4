#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.hpp"
#include "http/message.hpp"
#include "http/route_class.hpp"
#include "limit/gcra.hpp"
#include "limit/proxies.hpp"
#include "obs/metrics.hpp"

namespace emporium::cache {
class RedisCache;
}

namespace emporium::limit {

inline constexpr std::size_t kRouteClasses = 8;

struct EdgeOptions {
  // By http::RouteClass; ops and internal are never limited whatever is set.
  std::array<Policy, kRouteClasses> policies{};
  // Peers whose X-Forwarded-For is believed.
  std::vector<Cidr> trusted_proxies;
  // redis://...: quotas shared by every process on that server; empty: in-process.
  std::string redis_url;
  // Deadline of one Redis check (connect and command); past it, and for a
  // second after, checks are decided in-process.
  std::chrono::milliseconds redis_timeout{50};
};

// The edge's rate limits: one GCRA quota per route class, charged to the
// client's address and, when the request carries a valid token, to the
// signed-in user as well (each has the class's whole quota). Over it: 429
// problem+json with Retry-After. Every limited answer carries RateLimit-Policy
// and RateLimit (draft-ietf-httpapi-ratelimit-headers-10).
//
// Where the check runs matters: a check for a request handled on the blocking
// pool asks Redis (one script, bounded by redis_timeout). A check on an I/O
// thread never waits on the network: the in-process table decides, and the
// admitted request is then charged on Redis by a background worker; keys that
// Redis finds over quota are refused in-process until Redis's retry time, so
// replicas share the quota with the worker's lag (at most a few requests per
// key and replica over it). When Redis does not answer, checks fall back to
// the in-process table, counted in emporium_rate_limit_fallback_total.
class EdgeLimiter {
 public:
  EdgeLimiter(EdgeOptions options, const auth::Tokens& tokens, obs::Registry& metrics);
  ~EdgeLimiter();
  EdgeLimiter(const EdgeLimiter&) = delete;
  EdgeLimiter& operator=(const EdgeLimiter&) = delete;

  // Nullopt when `req` is admitted (the RateLimit fields to add to its answer
  // are put in `out`); the 429 answer otherwise. Requests that are not from
  // a network peer (in-process calls) are always admitted. Never throws.
  std::optional<http::Response> admit(const http::Request& req, bool on_pool,
                                      http::Headers& out) noexcept;

 private:
  class Sync;
  Decision decide(const std::vector<std::string>& keys, const Policy& p, bool on_pool);
  std::optional<Decision> shared(const std::vector<std::string>& keys, const Policy& p,
                                 std::uint64_t* refusing);
  std::vector<std::string> keys_for(const http::Request& req, std::string_view cls,
                                    const Address& client) const;

  EdgeOptions options_;
  const auth::Tokens& tokens_;
  LocalLimiter local_;
  std::unique_ptr<cache::RedisCache> redis_;
  obs::Family<obs::Counter>& rejected_;
  obs::Counter& fallback_;
  std::unique_ptr<Sync> sync_;  // last: its worker uses the members above
};

// The 429 answer for a refused request of class `cls`.
http::Response too_many_requests(std::string_view cls, const Decision& d);

// RateLimit-Policy and RateLimit for a decision under `p`.
void rate_limit_fields(std::string_view cls, const Policy& p, const Decision& d,
                       http::Headers& out);

}  // namespace emporium::limit
