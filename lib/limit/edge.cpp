#include "limit/edge.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "cache/redis.hpp"
#include "config/config.hpp"
#include "core/worker.hpp"
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
    throw config::ConfigError(
        "invalid value for redis_url: must be redis://[[user]:password@]host[:port][/db]");
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

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Admitted checks waiting to be charged on Redis at most; more are dropped.
constexpr std::size_t kMaxPending = 10'000;
// How long the worker lets admitted checks gather before charging them.
constexpr std::chrono::milliseconds kSyncInterval{20};

}  // namespace

// Checks decided in-process on an I/O thread, charged on Redis off the
// request path; what Redis refuses is held in-process until its retry time.
class EdgeLimiter::Sync {
 public:
  explicit Sync(EdgeLimiter& owner)
      : owner_(owner), worker_("ratelimit-sync", [this](core::Worker& w) { run(w); }) {}

  // How long the keys are held, if any is.
  std::optional<std::chrono::milliseconds> held(const std::vector<std::string>& keys) {
    const auto now = steady_ms();
    std::lock_guard lock(mutex_);
    std::int64_t until = 0;
    for (const auto& k : keys) {
      if (auto it = held_.find(k); it != held_.end()) {
        until = std::max(until, it->second);
      }
    }
    if (until <= now) {
      return std::nullopt;
    }
    return std::chrono::milliseconds(until - now);
  }

  void charge(std::vector<std::string> keys, const Policy& p) {
    {
      std::lock_guard lock(mutex_);
      if (pending_.size() >= kMaxPending) {
        return;
      }
      pending_.push_back({std::move(keys), p});
    }
    worker_.wake();
  }

 private:
  struct Pending {
    std::vector<std::string> keys;
    Policy policy;
  };

  void run(core::Worker& w) {
    while (w.wait_for(std::chrono::seconds(1))) {
      w.sleep_for(kSyncInterval);
      std::vector<Pending> batch;
      {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
        std::erase_if(held_, [now = steady_ms()](const auto& kv) { return kv.second <= now; });
      }
      for (const auto& p : batch) {
        std::uint64_t refusing = 0;
        auto d = owner_.shared(p.keys, p.policy, &refusing);
        if (d && !d->allowed) {
          hold(p.keys, refusing, d->retry_after);
        }
      }
    }
  }

  void hold(const std::vector<std::string>& keys, std::uint64_t refusing,
            std::chrono::milliseconds wait) {
    const auto until = steady_ms() + wait.count();
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < keys.size() && i < 64; ++i) {
      if ((refusing >> i) & 1U) {
        held_[keys[i]] = until;
      }
    }
  }

  EdgeLimiter& owner_;
  std::mutex mutex_;
  std::vector<Pending> pending_;                        // guarded by mutex_
  std::unordered_map<std::string, std::int64_t> held_;  // guarded by mutex_: steady ms
  core::Worker worker_;                                 // last
};

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
                    .with({})),
      sync_(redis_ != nullptr ? std::make_unique<Sync>(*this) : nullptr) {}

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

std::optional<Decision> EdgeLimiter::shared(const std::vector<std::string>& keys, const Policy& p,
                                            std::uint64_t* refusing) {
  const auto period_us = std::chrono::duration_cast<std::chrono::microseconds>(p.period).count();
  // Each key names its quota: processes configured with other quotas (a
  // rollout changing a limit, or a test beside a shop) keep separate counts
  // instead of reading one another's timestamps as their own.
  const std::string quota = ":" + std::to_string(p.limit) + "/" + std::to_string(p.period.count());
  std::vector<std::string> named;
  named.reserve(keys.size());
  for (const auto& k : keys) {
    named.push_back(k + quota);
  }
  auto r = redis_->eval_integers(ratelimit_script(), named,
                                 {std::to_string(period_us), std::to_string(p.limit)});
  if (!r || r->size() != 5) {
    fallback_.inc();
    return std::nullopt;
  }
  if (refusing != nullptr) {
    *refusing = static_cast<std::uint64_t>((*r)[4]);
  }
  return Decision{.allowed = (*r)[0] == 1,
                  .remaining = (*r)[1],
                  .retry_after = std::chrono::milliseconds((*r)[2]),
                  .reset = std::chrono::milliseconds((*r)[3])};
}

Decision EdgeLimiter::decide(const std::vector<std::string>& keys, const Policy& p, bool on_pool) {
  if (redis_ == nullptr) {
    return local_.check(keys, p);
  }
  if (on_pool) {
    if (auto d = shared(keys, p, nullptr)) {
      return *d;
    }
    return local_.check(keys, p);
  }
  if (auto wait = sync_->held(keys)) {
    return Decision{.allowed = false, .remaining = 0, .retry_after = *wait, .reset = *wait};
  }
  auto d = local_.check(keys, p);
  if (d.allowed) {
    sync_->charge(keys, p);
  }
  return d;
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
