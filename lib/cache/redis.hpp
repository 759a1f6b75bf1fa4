#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.hpp"

struct redisContext;

namespace emporium::cache {

struct RedisOptions {
  RedisAddress address;
  std::size_t pool_size = 4;
  std::chrono::milliseconds connect_timeout{100};
  std::chrono::milliseconds command_timeout{100};
  // After a failure, every operation fails at once for this long, so a dead
  // or hung server costs one deadline per period rather than one per request.
  std::chrono::milliseconds retry_after{1'000};
  // Logged once when the server goes down (and its pair when it is back):
  // what the process does meanwhile.
  std::string down_message = "cache backend unavailable; serving from the database";
  std::string up_message = "cache backend available again";
};

// A cache on a Redis server through hiredis (blocking API), with a small pool
// of connections. Connects lazily. Every operation is bounded by the connect
// and command deadlines; a failure marks the server down for `retry_after`,
// and a pooled connection that broke (say, after a server restart) is
// replaced by a fresh one once before the operation counts as failed.
// Logs when the server goes down and when it answers again.
class RedisCache final : public Cache {
 public:
  explicit RedisCache(RedisOptions options);
  ~RedisCache() override;
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;

  Lookup lookup(std::string_view key) override;
  bool set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  bool erase(std::string_view key) override;
  std::optional<std::int64_t> incr(std::string_view key) override;
  std::string_view backend() const noexcept override { return "redis"; }

  // True while failing fast after a failure.
  bool backing_off() const noexcept;

  // Runs the Lua `script` with EVALSHA (its SHA-1 from SCRIPT LOAD the first
  // time), falling back to EVAL when the server answers NOSCRIPT (it
  // restarted or flushed its scripts). Returns the script's answer when it
  // is an array of integers; nullopt when the server could not be reached in
  // time, refused the script, or answered something else.
  std::optional<std::vector<std::int64_t>> eval_integers(std::string_view script,
                                                         const std::vector<std::string>& keys,
                                                         const std::vector<std::string>& args);

 private:
  class Reply;
  // Runs one command (argv form); nullptr when the server could not be
  // reached or answered an error.
  // An error reply is returned, not logged, when `errors_ok` is set.
  Reply command(const std::vector<std::string_view>& argv, bool errors_ok = false);
  redisContext* connect();
  redisContext* take(bool& fresh);
  void give_back(redisContext* c);
  void discard(redisContext* c);
  void mark_down(const char* what);
  void mark_up();

  const RedisOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<redisContext*> idle_;          // guarded by mutex_
  std::size_t open_ = 0;                     // guarded by mutex_: idle plus leased
  std::atomic<std::int64_t> down_until_{0};  // steady_clock ticks; 0: up
  std::atomic<bool> down_{false};
  std::string script_sha_;   // guarded by mutex_: of the last script loaded
  std::string script_text_;  // guarded by mutex_
};

}  // namespace emporium::cache
