#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace emporium::cache {

// What a lookup found. `failed` is true when the backend could not answer
// (then `value` is empty): callers treat it as a miss and may count it.
struct Lookup {
  std::optional<std::string> value;
  bool failed = false;
};

// A key-value cache of strings with per-entry lifetimes, shared by the
// threads of a process (and, for a networked backend, by processes).
//
// No operation throws or blocks for long on a backend failure: a failing
// backend makes reads misses and writes no-ops, reported through the return
// values so callers can count them and keep correctness (e.g. retry an
// invalidation that did not reach the backend). Implementations are
// thread-safe.
class Cache {
 public:
  virtual ~Cache() = default;

  // The value stored under `key`; empty when absent, expired, or failed.
  virtual Lookup lookup(std::string_view key) = 0;
  std::optional<std::string> get(std::string_view key) { return lookup(key).value; }

  // Stores `value` under `key` for `ttl` (zero: no expiry), replacing any
  // previous value. False when the backend failed.
  virtual bool set(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;

  // Removes `key` (absent is fine). False when the backend failed, in which
  // case the key may still be there.
  virtual bool erase(std::string_view key) = 0;

  // Adds one to the decimal integer stored under `key` (absent counts as 0,
  // the lifetime is kept) and returns the new value; empty when the backend
  // failed or the value is not an integer.
  virtual std::optional<std::int64_t> incr(std::string_view key) = 0;

  // "memory" or "redis", for logs and metrics.
  virtual std::string_view backend() const noexcept = 0;
};

// Where a Redis server is, parsed from redis://[[user]:password@]host[:port][/db].
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;      // empty: the default user
  std::string password;  // empty: no AUTH
};

// Parses a redis:// URL. Returns nullopt when it is malformed (other
// schemes, rediss:// included, are refused: TLS is not supported).
std::optional<RedisAddress> parse_redis_url(std::string_view url);

// How to build a cache.
struct CacheSettings {
  // Empty: an in-process LruCache. redis://...: a RedisCache.
  std::string redis_url;
  // In-process cache bounds.
  std::size_t max_entries = 10'000;
  std::size_t max_bytes = 64U << 20U;
  // Redis connections and deadlines.
  std::size_t pool_size = 4;
  std::chrono::milliseconds connect_timeout{100};
  std::chrono::milliseconds command_timeout{100};
  // After a failure, Redis is not tried again for this long.
  std::chrono::milliseconds retry_after{1'000};
};

// Builds the cache the settings name. Does not connect (the first operation
// does). Throws std::invalid_argument for a malformed redis_url.
std::unique_ptr<Cache> make_cache(const CacheSettings& settings);

}  // namespace emporium::cache
