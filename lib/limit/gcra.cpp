#include "limit/gcra.hpp"

#include <algorithm>
#include <charconv>

#include "config/config.hpp"

namespace emporium::limit {

namespace {

using Clock = std::chrono::steady_clock;

// Prunes the table once every this many checks.
constexpr std::size_t kPruneEvery = 4096;

std::int64_t micros(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

std::chrono::milliseconds ceil_ms(std::int64_t us) {
  return std::chrono::milliseconds((std::max<std::int64_t>(us, 0) + 999) / 1000);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<Policy> parse_policy(std::string_view text) {
  if (text == "off") {
    return Policy{};
  }
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return std::nullopt;
  }
  std::int64_t n = 0;
  const auto count = text.substr(0, slash);
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || end != count.data() + count.size() || n <= 0) {
    return std::nullopt;
  }
  auto period = config::parse_duration(text.substr(slash + 1));
  if (!period || period->count() <= 0) {
    return std::nullopt;
  }
  return Policy{.limit = n, .period = *period};
}

Decision gcra(const Policy& p, std::int64_t& tat, std::int64_t now) {
  const auto period = micros(p.period);
  const double interval = static_cast<double>(period) / static_cast<double>(p.limit);
  const std::int64_t start = std::max(tat, now);
  const auto next = start + static_cast<std::int64_t>(interval);
  const auto allow_at = next - period;
  if (now < allow_at) {
    return {.allowed = false,
            .remaining = 0,
            .retry_after = ceil_ms(allow_at - now),
            .reset = ceil_ms(start - now)};
  }
  tat = next;
  const auto left = static_cast<double>(period - (next - now)) / interval;
  return {.allowed = true,
          .remaining = std::max<std::int64_t>(static_cast<std::int64_t>(left), 0),
          .retry_after = std::chrono::milliseconds(0),
          .reset = ceil_ms(next - now)};
}

Decision LocalLimiter::check(const std::vector<std::string>& keys, const Policy& p) {
  const auto now = now_us();
  std::lock_guard lock(mutex_);
  if (++checks_since_prune_ >= kPruneEvery) {
    prune(now);
  }
  Decision out{.allowed = true, .remaining = p.limit};
  std::vector<std::int64_t> next;
  next.reserve(keys.size());
  for (const auto& k : keys) {
    auto it = tat_.find(k);
    std::int64_t tat = it == tat_.end() ? now : it->second;
    const auto d = gcra(p, tat, now);
    if (!d.allowed) {
      out.allowed = false;
      out.remaining = 0;
      out.retry_after = std::max(out.retry_after, d.retry_after);
    } else {
      out.remaining = std::min(out.remaining, d.remaining);
    }
    out.reset = std::max(out.reset, d.reset);
    next.push_back(tat);
  }
  if (out.allowed) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      tat_[keys[i]] = next[i];
    }
  }
  return out;
}

void LocalLimiter::prune(std::int64_t now) {
  checks_since_prune_ = 0;
  std::erase_if(tat_, [now](const auto& kv) { return kv.second <= now; });
}

std::size_t LocalLimiter::size() const {
  std::lock_guard lock(mutex_);
  return tat_.size();
}

std::string_view ratelimit_script() {
  // Refuses without writing when any key refuses; otherwise charges every
  // key. A key expires when its quota is whole again.
  return R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local interval = period / limit
local allowed, remaining, retry, reset, refusing = 1, limit, 0, 0, 0
local next = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  local tat = v and tonumber(v) or now
  if tat < now then tat = now end
  local n = math.floor(tat + interval)
  local allow_at = n - period
  if now < allow_at then
    allowed = 0
    remaining = 0
    refusing = refusing + 2 ^ (i - 1)
    retry = math.max(retry, math.ceil((allow_at - now) / 1000))
    reset = math.max(reset, math.ceil((tat - now) / 1000))
  else
    remaining = math.min(remaining, math.floor((period - (n - now)) / interval))
    reset = math.max(reset, math.ceil((n - now) / 1000))
  end
  next[i] = n
end
if allowed == 1 then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, string.format('%d', next[i]), 'PX', math.ceil((next[i] - now) / 1000) + 1)
  end
else
  remaining = 0
end
return {allowed, math.max(remaining, 0), retry, reset, refusing}
)lua";
}

}  // namespace emporium::limit
