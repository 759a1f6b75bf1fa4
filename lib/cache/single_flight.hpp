#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "cache/cache.hpp"

namespace emporium::cache {

// Collapses concurrent computations of the same key within one process into
// one: the first caller runs the computation, callers arriving while it runs
// wait for it and get a copy of its result (or its exception). Thread-safe.
template <class T>
class SingleFlight {
 public:
  // Returns load()'s result, or that of a run already in flight for `key`
  // (then `*shared` is set to true). `load` must not call run() with the
  // same key.
  template <class F>
  T run(const std::string& key, F&& load, bool* shared = nullptr) {
    std::promise<T> promise;
    std::shared_future<T> pending;
    {
      std::lock_guard lock(mutex_);
      if (auto it = flights_.find(key); it != flights_.end()) {
        pending = it->second;
      } else {
        flights_.emplace(key, promise.get_future().share());
      }
    }
    if (pending.valid()) {
      if (shared != nullptr) {
        *shared = true;
      }
      struct Waiting {
        std::atomic<std::size_t>& n;
        explicit Waiting(std::atomic<std::size_t>& counter) : n(counter) { ++n; }
        ~Waiting() { --n; }
      } waiting(waiters_);
      return pending.get();
    }
    try {
      T value = std::forward<F>(load)();
      finish(key);
      promise.set_value(value);
      return value;
    } catch (...) {
      finish(key);
      promise.set_exception(std::current_exception());
      throw;
    }
  }

  // Keys with a run in progress.
  std::size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return flights_.size();
  }

  // Callers waiting for another's run.
  std::size_t waiters() const noexcept { return waiters_.load(); }

 private:
  void finish(const std::string& key) {
    std::lock_guard lock(mutex_);
    flights_.erase(key);
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_future<T>> flights_;
  std::atomic<std::size_t> waiters_{0};
};

// Orders cache fills against invalidations within one process. It closes
// the cache-aside race where a reader loads a value, a writer commits a
// change and invalidates, and the reader then stores its now stale value.
// Writers call advance() after their database write committed and before
// invalidating; readers note current() before loading and store through
// fill(), which does nothing if advance() ran in between.
class Fence {
 public:
  std::uint64_t current() const noexcept { return value_.load(std::memory_order_acquire); }

  // Waits for fills in progress, then invalidates every earlier current().
  void advance() {
    std::unique_lock lock(mutex_);
    value_.fetch_add(1, std::memory_order_acq_rel);
  }

  // Runs store() unless advance() ran since `seen` was read; true if it ran.
  template <class F>
  bool fill(std::uint64_t seen, F&& store) {
    std::shared_lock lock(mutex_);
    if (value_.load(std::memory_order_acquire) != seen) {
      return false;
    }
    std::forward<F>(store)();
    return true;
  }

 private:
  std::shared_mutex mutex_;
  std::atomic<std::uint64_t> value_{0};
};

// Where a get_or_load result came from.
enum class Source {
  hit,     // the cache
  loaded,  // this caller's load()
  shared,  // a concurrent caller's load()
};

struct Loaded {
  std::optional<std::string> value;
  Source source = Source::loaded;
  bool lookup_failed = false;  // the cache could not be read
  bool store_failed = false;   // the loaded value could not be stored
};

// A cache-aside read: the value cached under `key`, else the result of
// load() (a std::optional<std::string>; empty means "nothing", which is
// returned and not cached), stored for `ttl`. Concurrent misses of one key in
// this process run load() once (`flights`). With a `fence`, a value is stored
// only if no invalidation happened since the call began, and a caller only
// shares a load that began after the latest invalidation, so a read that
// starts after a write has finished always sees that write. When the cache
// cannot be read, load()'s result is returned without being stored.
// Exceptions from load() propagate to every caller sharing it.
template <class F>
Loaded get_or_load(Cache& cache, SingleFlight<std::optional<std::string>>& flights,
                   const std::string& key, std::chrono::seconds ttl, F&& load,
                   Fence* fence = nullptr) {
  Loaded out;
  const std::uint64_t seen = fence != nullptr ? fence->current() : 0;
  auto found = cache.lookup(key);
  if (found.value) {
    out.value = std::move(found.value);
    out.source = Source::hit;
    return out;
  }
  out.lookup_failed = found.failed;
  std::string flight = key;
  flight += '\x1f';
  flight += std::to_string(seen);
  bool shared = false;
  out.value = flights.run(
      flight,
      [&]() -> std::optional<std::string> {
        std::optional<std::string> value = load();
        if (value && !found.failed) {
          auto store = [&] { out.store_failed = !cache.set(key, *value, ttl); };
          if (fence != nullptr) {
            fence->fill(seen, store);
          } else {
            store();
          }
        }
        return value;
      },
      &shared);
  out.source = shared ? Source::shared : Source::loaded;
  return out;
}

}  // namespace emporium::cache
