#include "product/cache.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "core/ids.hpp"
#include "obs/log.hpp"

namespace emporium::product {

namespace {

constexpr std::string_view kCacheName = "product";
// The generation is a random token, so losing it (expiry, eviction) only
// orphans the collection entries; it expires so that abandoned namespaces
// do not stay in a shared Redis forever.
constexpr std::chrono::seconds kGenerationTtl{24 * 3600};

std::chrono::seconds ttl_of(const config::Config& config) {
  const auto ms = config.duration("cache_ttl").count();
  return std::chrono::seconds((ms + 999) / 1000);  // 1ms..1s rounds up to 1s
}

std::unique_ptr<cache::Cache> make(const config::Config& config) {
  cache::CacheSettings s;
  s.redis_url = config.str("redis_url");
  try {
    return cache::make_cache(s);
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(std::string("invalid value for redis_url: ") + e.what());
  }
}

// Entries are shared by the processes that serve the same catalog.
std::string namespace_of(const config::Config& config) {
  std::string identity = config.str("database_url");
  if (identity.empty()) {
    std::error_code ec;
    auto dir =
        std::filesystem::weakly_canonical(std::filesystem::absolute(config.str("data_dir")), ec);
    identity = "sqlite:" + (ec ? config.str("data_dir") : dir.string());
  }
  return core::sha256_hex(identity).substr(0, 16);
}

}  // namespace

ProductCache::ProductCache(const config::Config& config, obs::Registry& metrics)
    : cache_(make(config)),
      ttl_(ttl_of(config)),
      local_(enabled() && cache_->backend() == "memory"),
      prefix_("emporium:product:" + namespace_of(config) + ":"),
      requests_(metrics.counter("emporium_cache_requests_total",
                                "Cacheable reads by outcome: hit, miss (loaded from the "
                                "database), error (cache unavailable; loaded from the database).",
                                {"cache", "result"})),
      hits_(requests_.with({kCacheName, "hit"})),
      misses_(requests_.with({kCacheName, "miss"})),
      failures_(requests_.with({kCacheName, "error"})),
      coalesced_(metrics
                     .counter("emporium_cache_coalesced_total",
                              "Misses served by a concurrent identical load (stampede guard).",
                              {"cache"})
                     .with({kCacheName})),
      errors_(metrics.counter("emporium_cache_errors_total",
                              "Cache backend operations that failed, by operation.",
                              {"cache", "op"})),
      pending_gauge_(metrics
                         .gauge("emporium_cache_pending_invalidations",
                                "Invalidations not yet delivered to the cache backend.", {"cache"})
                         .with({kCacheName})) {
  for (std::string_view op : {"get", "set", "erase"}) {
    errors_.with({kCacheName, op});
  }
  obs::info("product cache", {{"backend", cache_->backend()},
                              {"ttl_seconds", static_cast<std::int64_t>(ttl_.count())},
                              {"enabled", enabled()}});
}

std::optional<std::string> ProductCache::product(const std::string& id, const Load& load) {
  if (!enabled()) {
    return load();
  }
  const std::string key = prefix_ + "id:" + id;
  if (!ready()) {
    failures_.inc();
    return bypass(key, load);
  }
  return read(key, load);
}

std::string ProductCache::collection(const std::string& name,
                                     const std::function<std::string()>& load) {
  const Load as_optional = [&load]() -> std::optional<std::string> { return load(); };
  if (!enabled()) {
    return load();
  }
  // Not ready, or no generation to read under: the load bypasses the cache.
  const auto gen = ready() ? generation() : std::nullopt;
  std::optional<std::string> body;
  if (!gen) {
    failures_.inc();
    body = bypass(prefix_ + "c:?:" + name, as_optional);
  } else {
    body = read(prefix_ + "c:" + *gen + ":" + name, as_optional);
  }
  return body ? std::move(*body) : std::string();
}

std::optional<std::string> ProductCache::cached_product(const std::string& id) {
  if (!local_) {
    return std::nullopt;
  }
  return peek(prefix_ + "id:" + id);
}

std::optional<std::string> ProductCache::cached_collection(const std::string& name) {
  if (!local_) {
    return std::nullopt;
  }
  auto gen = cache_->lookup(prefix_ + "gen").value;
  if (!gen) {
    return std::nullopt;
  }
  return peek(prefix_ + "c:" + *gen + ":" + name);
}

std::optional<std::string> ProductCache::peek(const std::string& key) {
  // An invalidation that did not reach the backend yet makes every read
  // a database read (see ready()); the in-process cache never fails, but
  // the rule is the same for both.
  if (pending_.load(std::memory_order_acquire)) {
    return std::nullopt;
  }
  auto found = cache_->lookup(key);
  if (found.value) {
    hits_.inc();
  }
  return std::move(found.value);
}

std::optional<std::string> ProductCache::read(const std::string& key, const Load& load) {
  auto r = cache::get_or_load(*cache_, flights_, key, ttl_, load, &fence_);
  if (r.lookup_failed) {
    errors_.with({kCacheName, "get"}).inc();
    failures_.inc();
  } else if (r.source == cache::Source::hit) {
    hits_.inc();
  } else {
    misses_.inc();
  }
  if (r.source == cache::Source::shared) {
    coalesced_.inc();
  }
  if (r.store_failed) {
    errors_.with({kCacheName, "set"}).inc();
    record_pending({key}, false);
  }
  return std::move(r.value);
}

std::optional<std::string> ProductCache::bypass(const std::string& key, const Load& load) {
  // Still one load per key at a time; the fence value keeps a read that
  // starts after a write from sharing a load that started before it.
  bool shared = false;
  auto value = flights_.run(key + "\x1f" + std::to_string(fence_.current()) + "\x1f" + "bypass",
                            load, &shared);
  if (shared) {
    coalesced_.inc();
  }
  return value;
}

std::optional<std::string> ProductCache::generation() {
  const std::string key = prefix_ + "gen";
  auto found = cache_->lookup(key);
  if (found.value) {
    return found.value;
  }
  if (found.failed) {
    errors_.with({kCacheName, "get"}).inc();
    return std::nullopt;
  }
  // None yet (or evicted): start one. A concurrent start or write may
  // replace it at once; entries under a replaced token are never read again.
  std::string token = core::new_id();
  if (!cache_->set(key, token, kGenerationTtl)) {
    errors_.with({kCacheName, "set"}).inc();
    return std::nullopt;
  }
  return token;
}

bool ProductCache::erase(const std::string& key) {
  if (cache_->erase(key)) {
    return true;
  }
  errors_.with({kCacheName, "erase"}).inc();
  return false;
}

bool ProductCache::replace_generation() {
  // A fresh random token rather than a counter: a counter restarted after
  // the key was lost (eviction) could meet entries of its earlier life.
  if (cache_->set(prefix_ + "gen", core::new_id(), kGenerationTtl)) {
    return true;
  }
  errors_.with({kCacheName, "set"}).inc();
  return false;
}

void ProductCache::invalidate(const std::vector<std::string>& ids) {
  if (!enabled()) {
    return;
  }
  fence_.advance();
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& id : ids) {
    keys.push_back(prefix_ + "id:" + id);
  }
  std::vector<std::string> failed;
  for (const auto& key : keys) {
    if (!erase(key)) {
      failed.push_back(key);
    }
  }
  const bool generation_replaced = replace_generation();
  if (!failed.empty() || !generation_replaced) {
    record_pending(failed, !generation_replaced);
  }
}

void ProductCache::record_pending(const std::vector<std::string>& keys, bool generation) {
  std::lock_guard lock(pending_mutex_);
  const bool was_pending = pending_.load(std::memory_order_relaxed);
  pending_keys_.insert(keys.begin(), keys.end());
  pending_generation_ = pending_generation_ || generation;
  pending_.store(true, std::memory_order_release);
  pending_gauge_.set(static_cast<double>(pending_keys_.size() + (pending_generation_ ? 1 : 0)));
  if (!was_pending) {
    obs::warn("cache invalidation deferred; reads bypass the cache until it is delivered",
              {{"cache", kCacheName}});
  }
}

bool ProductCache::ready() {
  if (!pending_.load(std::memory_order_acquire)) {
    return true;
  }
  std::lock_guard lock(pending_mutex_);
  auto update_gauge = [&] {
    pending_gauge_.set(static_cast<double>(pending_keys_.size() + (pending_generation_ ? 1 : 0)));
  };
  for (auto it = pending_keys_.begin(); it != pending_keys_.end();) {
    if (!erase(*it)) {
      update_gauge();
      return false;
    }
    it = pending_keys_.erase(it);
  }
  if (pending_generation_) {
    if (!replace_generation()) {
      update_gauge();
      return false;
    }
    pending_generation_ = false;
  }
  pending_.store(false, std::memory_order_release);
  update_gauge();
  obs::info("cache invalidations delivered", {{"cache", kCacheName}});
  return true;
}

}  // namespace emporium::product
