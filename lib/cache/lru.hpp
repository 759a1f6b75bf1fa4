#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cache/cache.hpp"

namespace emporium::cache {

// An in-process cache bounded by entry count and by bytes (keys plus values),
// evicting the least recently used entry first; expired entries are dropped
// when met. Thread-safe (one mutex); never fails.
class LruCache final : public Cache {
 public:
  using Clock = std::chrono::steady_clock;

  // `now` replaces the clock, for tests.
  explicit LruCache(std::size_t max_entries, std::size_t max_bytes = SIZE_MAX,
                    std::function<Clock::time_point()> now = {});

  Lookup lookup(std::string_view key) override;
  bool set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  bool erase(std::string_view key) override;
  std::optional<std::int64_t> incr(std::string_view key) override;
  std::string_view backend() const noexcept override { return "memory"; }

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string value;
    Clock::time_point expires;  // time_point::max(): never
  };
  using List = std::list<Entry>;

  Clock::time_point now() const { return now_ ? now_() : Clock::now(); }
  // Requires mutex_. Returns the live entry for key, moved to the front, or end().
  List::iterator find_live(std::string_view key);
  void drop(List::iterator it);
  void put(std::string_view key, std::string value, Clock::time_point expires);
  void evict_to_bounds();

  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  List entries_;  // most recently used first
  std::unordered_map<std::string, List::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace emporium::cache
