#include "cache/lru.hpp"

#include <charconv>

namespace emporium::cache {

LruCache::LruCache(std::size_t max_entries, std::size_t max_bytes,
                   std::function<Clock::time_point()> now)
    : max_entries_(max_entries), max_bytes_(max_bytes), now_(std::move(now)) {}

LruCache::List::iterator LruCache::find_live(std::string_view key) {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) {
    return entries_.end();
  }
  auto entry = it->second;
  if (entry->expires <= now()) {
    drop(entry);
    return entries_.end();
  }
  entries_.splice(entries_.begin(), entries_, entry);
  return entry;
}

void LruCache::drop(List::iterator it) {
  bytes_ -= it->key.size() + it->value.size();
  index_.erase(it->key);
  entries_.erase(it);
}

void LruCache::put(std::string_view key, std::string value, Clock::time_point expires) {
  if (auto it = index_.find(std::string(key)); it != index_.end()) {
    drop(it->second);
  }
  const std::size_t size = key.size() + value.size();
  if (size > max_bytes_ || max_entries_ == 0) {
    return;  // would never fit: not stored
  }
  entries_.push_front(Entry{std::string(key), std::move(value), expires});
  index_.emplace(entries_.front().key, entries_.begin());
  bytes_ += size;
  evict_to_bounds();
}

void LruCache::evict_to_bounds() {
  while (!entries_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    drop(std::prev(entries_.end()));
  }
}

Lookup LruCache::lookup(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = find_live(key);
  if (it == entries_.end()) {
    return {};
  }
  return {it->value, false};
}

bool LruCache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  try {
    const auto expires = ttl.count() > 0 ? now() + ttl : Clock::time_point::max();
    std::lock_guard lock(mutex_);
    put(key, std::string(value), expires);
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

bool LruCache::erase(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(std::string(key)); it != index_.end()) {
    drop(it->second);
  }
  return true;
}

std::optional<std::int64_t> LruCache::incr(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = find_live(key);
  if (it == entries_.end()) {
    put(key, "1", Clock::time_point::max());
    return 1;
  }
  std::int64_t v = 0;
  const auto& s = it->value;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v == INT64_MAX) {
    return std::nullopt;
  }
  ++v;
  bytes_ -= s.size();
  it->value = std::to_string(v);
  bytes_ += it->value.size();
  evict_to_bounds();
  return v;
}

std::size_t LruCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t LruCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace emporium::cache
