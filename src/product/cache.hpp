#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/cache.hpp"
#include "cache/single_flight.hpp"
#include "config/config.hpp"
#include "obs/metrics.hpp"

namespace emporium::product {

// The product service's read cache (cache-aside): response bodies of one
// product by id, and of collections (list pages, categories).
//
// Consistency: every write and stock change goes through the product
// service, which calls invalidate() after its transaction committed. That
// erases the products' by-id entries and replaces the collections'
// generation (a random token in the key of every collection entry), so a
// read that starts after a write has returned sees the write. An
// invalidation the backend did not take (Redis down) is kept and retried
// before the cache is read again; until it succeeds reads go to the database.
// Within a process a Fence keeps a load that raced a write from being cached.
// A store that failed (it may still land late, e.g. after a timeout) is
// followed by an erase of that key, delivered the same way.
// Entries expire after `cache_ttl`, which bounds any staleness that the
// above cannot rule out (another replica's load racing this one's write).
//
// With Redis, processes that use the same database share entries (keys are
// namespaced by a hash of database_url, or of data_dir for SQLite).
//
// Never throws because of the cache: a failing backend means reads from the
// database. Metrics: emporium_cache_requests_total{cache,result=hit|miss|error},
// emporium_cache_coalesced_total{cache}, emporium_cache_errors_total{cache,op},
// emporium_cache_pending_invalidations{cache}.
class ProductCache {
 public:
  using Load = std::function<std::optional<std::string>()>;

  // From redis_url (empty: in-process LRU) and cache_ttl (0s: no caching).
  // Throws config::ConfigError for a malformed redis_url.
  ProductCache(const config::Config& config, obs::Registry& metrics);

  // The body of GET /api/products/{id}; load() gives it from the database,
  // or nothing when there is no such product (not cached).
  std::optional<std::string> product(const std::string& id, const Load& load);

  // The body of a collection response; `name` identifies the request
  // (canonical query) among all collections.
  std::string collection(const std::string& name, const std::function<std::string()>& load);

  // The body product() would give, if the in-process cache holds it: read
  // without loading, blocking or a network call, for the I/O thread. Empty
  // when the cache is off, not in-process (Redis), has invalidations
  // pending, or has no entry; then nothing is counted (product() counts
  // the read). A body returned counts as a hit.
  std::optional<std::string> cached_product(const std::string& id);
  // The same for collection(): empty also when no generation is set yet.
  std::optional<std::string> cached_collection(const std::string& name);

  // After a committed change to the products `ids` (empty for a new
  // product): drops their entries and every collection entry.
  void invalidate(const std::vector<std::string>& ids);

  bool enabled() const noexcept { return ttl_.count() > 0; }
  std::string_view backend() const noexcept { return cache_->backend(); }

 private:
  std::optional<std::string> read(const std::string& key, const Load& load);
  // The entry under `key` from an in-process cache, counted as a hit.
  std::optional<std::string> peek(const std::string& key);
  std::optional<std::string> bypass(const std::string& key, const Load& load);
  // Flushes pending invalidations; false while some cannot be delivered.
  bool ready();
  // The current collection generation; empty when the backend failed.
  std::optional<std::string> generation();
  bool erase(const std::string& key);
  bool replace_generation();
  // Keys to erase, and whether to replace the generation, once the backend
  // answers again; until then reads bypass the cache.
  void record_pending(const std::vector<std::string>& keys, bool generation);

  std::unique_ptr<cache::Cache> cache_;
  const std::chrono::seconds ttl_;
  const bool local_;          // enabled, in-process: cached_*() may answer
  const std::string prefix_;  // "emporium:product:<namespace>:"
  cache::SingleFlight<std::optional<std::string>> flights_;
  cache::Fence fence_;

  std::mutex pending_mutex_;
  std::set<std::string> pending_keys_;  // guarded by pending_mutex_
  bool pending_generation_ = false;     // guarded by pending_mutex_
  std::atomic<bool> pending_{false};

  obs::Family<obs::Counter>& requests_;
  obs::Counter& hits_;
  obs::Counter& misses_;
  obs::Counter& failures_;
  obs::Counter& coalesced_;
  obs::Family<obs::Counter>& errors_;
  obs::Gauge& pending_gauge_;
};

}  // namespace emporium::product
