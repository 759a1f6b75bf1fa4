#include "cache/redis.hpp"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sys/time.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "obs/log.hpp"

namespace emporium::cache {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ticks(Clock::time_point t) {
  return t.time_since_epoch().count();
}

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// hiredis writes with write(2): on a connection the server has closed that
// raises SIGPIPE, which would end the process. The signal is blocked in this
// thread for the duration of a command and any SIGPIPE it raised is consumed.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{};
        sigtimedwait(&set_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

redisReply* run(redisContext* c, const std::vector<std::string_view>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (auto a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
}

}  // namespace

// Owns one hiredis reply.
class RedisCache::Reply {
 public:
  Reply() = default;
  explicit Reply(redisReply* r) : r_(r) {}
  Reply(Reply&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Reply& operator=(Reply&& o) noexcept {
    if (this != &o) {
      reset();
      r_ = std::exchange(o.r_, nullptr);
    }
    return *this;
  }
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  ~Reply() { reset(); }
  explicit operator bool() const noexcept { return r_ != nullptr; }
  const redisReply* operator->() const noexcept { return r_; }

 private:
  void reset() noexcept {
    if (r_ != nullptr) {
      freeReplyObject(r_);
      r_ = nullptr;
    }
  }
  redisReply* r_ = nullptr;
};

RedisCache::RedisCache(RedisOptions options) : options_(std::move(options)) {}

RedisCache::~RedisCache() {
  std::lock_guard lock(mutex_);
  for (auto* c : idle_) {
    redisFree(c);
  }
  idle_.clear();
}

bool RedisCache::backing_off() const noexcept {
  const auto until = down_until_.load(std::memory_order_relaxed);
  return until != 0 && ticks(Clock::now()) < until;
}

void RedisCache::mark_down(const char* what) {
  down_until_.store(ticks(Clock::now() + options_.retry_after), std::memory_order_relaxed);
  {
    // Idle connections are from the same, now suspect, era of the server.
    std::lock_guard lock(mutex_);
    for (auto* c : idle_) {
      redisFree(c);
    }
    open_ -= idle_.size();
    idle_.clear();
  }
  available_.notify_all();
  if (!down_.exchange(true)) {
    obs::warn(options_.down_message,
              {{"backend", "redis"},
               {"host", options_.address.host},
               {"port", static_cast<std::int64_t>(options_.address.port)},
               {"error", std::string_view(what)},
               {"retry_after_ms", static_cast<std::int64_t>(options_.retry_after.count())}});
  }
}

void RedisCache::mark_up() {
  if (down_.load(std::memory_order_relaxed) && down_.exchange(false)) {
    down_until_.store(0, std::memory_order_relaxed);
    obs::info(options_.up_message, {{"backend", "redis"}});
  }
}

redisContext* RedisCache::connect() {
  const auto& a = options_.address;
  redisContext* c =
      redisConnectWithTimeout(a.host.c_str(), a.port, to_timeval(options_.connect_timeout));
  if (c == nullptr) {
    return nullptr;
  }
  if (c->err != 0 || redisSetTimeout(c, to_timeval(options_.command_timeout)) != REDIS_OK) {
    redisFree(c);
    return nullptr;
  }
  auto setup = [&](const std::vector<std::string_view>& argv) {
    Reply r(run(c, argv));
    return r && r->type != REDIS_REPLY_ERROR;
  };
  if (!a.password.empty()) {
    const bool ok =
        a.user.empty() ? setup({"AUTH", a.password}) : setup({"AUTH", a.user, a.password});
    if (!ok) {
      redisFree(c);
      return nullptr;
    }
  }
  if (a.db != 0) {
    const auto db = std::to_string(a.db);
    if (!setup({"SELECT", db})) {
      redisFree(c);
      return nullptr;
    }
  }
  return c;
}

redisContext* RedisCache::take(bool& fresh) {
  std::unique_lock lock(mutex_);
  const bool ready = available_.wait_for(
      lock, options_.command_timeout, [&] { return !idle_.empty() || open_ < options_.pool_size; });
  if (!ready) {
    return nullptr;  // every connection busy: this operation is a miss
  }
  if (!idle_.empty()) {
    auto* c = idle_.back();
    idle_.pop_back();
    fresh = false;
    return c;
  }
  ++open_;
  lock.unlock();
  fresh = true;
  auto* c = connect();
  if (c == nullptr) {
    lock.lock();
    --open_;
    lock.unlock();
    available_.notify_one();
  }
  return c;
}

void RedisCache::give_back(redisContext* c) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(c);
  }
  available_.notify_one();
}

void RedisCache::discard(redisContext* c) {
  redisFree(c);
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  available_.notify_one();
}

RedisCache::Reply RedisCache::command(const std::vector<std::string_view>& argv, bool errors_ok) {
  // While backing off, one caller at a time probes the server once the
  // period is over; everyone else fails at once.
  auto until = down_until_.load(std::memory_order_relaxed);
  if (until != 0) {
    const auto now = Clock::now();
    if (ticks(now) < until ||
        !down_until_.compare_exchange_strong(until, ticks(now + options_.retry_after))) {
      return {};
    }
  }
  SigpipeBlock no_sigpipe;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    redisContext* c = take(fresh);
    if (c == nullptr) {
      if (fresh) {
        mark_down("connect failed");
      }
      return {};
    }
    Reply reply(run(c, argv));
    const int saved_errno = errno;
    if (!reply) {
      const std::string error = c->errstr;
      const bool timed_out =
          c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
      discard(c);
      if (!fresh && !timed_out) {
        // A pooled connection the server dropped (e.g. it restarted): the
        // others are as old, so start over with a fresh connection.
        {
          std::lock_guard lock(mutex_);
          for (auto* old : idle_) {
            redisFree(old);
          }
          open_ -= idle_.size();
          idle_.clear();
        }
        continue;
      }
      mark_down(timed_out ? "timed out" : error.c_str());
      return {};
    }
    give_back(c);
    mark_up();
    if (reply->type == REDIS_REPLY_ERROR && !errors_ok) {
      obs::warn("cache command refused", {{"backend", "redis"},
                                          {"command", argv.front()},
                                          {"error", std::string_view(reply->str, reply->len)}});
      return {};
    }
    return reply;
  }
  return {};
}

Lookup RedisCache::lookup(std::string_view key) {
  try {
    auto r = command({"GET", key});
    if (!r) {
      return {std::nullopt, true};
    }
    if (r->type == REDIS_REPLY_STRING) {
      return {std::string(r->str, r->len), false};
    }
    return {std::nullopt, r->type != REDIS_REPLY_NIL};
  } catch (const std::exception&) {
    return {std::nullopt, true};
  }
}

bool RedisCache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  try {
    if (ttl.count() > 0) {
      const auto seconds = std::to_string(ttl.count());
      return static_cast<bool>(command({"SET", key, value, "EX", seconds}));
    }
    return static_cast<bool>(command({"SET", key, value}));
  } catch (const std::exception&) {
    return false;
  }
}

bool RedisCache::erase(std::string_view key) {
  try {
    return static_cast<bool>(command({"DEL", key}));
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<std::int64_t> RedisCache::incr(std::string_view key) {
  try {
    auto r = command({"INCR", key});
    if (r && r->type == REDIS_REPLY_INTEGER) {
      return static_cast<std::int64_t>(r->integer);
    }
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::vector<std::int64_t>> RedisCache::eval_integers(
    std::string_view script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args) {
  try {
    std::string sha;
    {
      std::lock_guard lock(mutex_);
      if (script_text_ == script) {
        sha = script_sha_;
      }
    }
    if (sha.empty()) {
      auto loaded = command({"SCRIPT", "LOAD", script});
      if (!loaded || loaded->type != REDIS_REPLY_STRING) {
        return std::nullopt;
      }
      sha.assign(loaded->str, loaded->len);
      std::lock_guard lock(mutex_);
      script_text_ = script;
      script_sha_ = sha;
    }
    const auto count = std::to_string(keys.size());
    std::vector<std::string_view> argv{"EVALSHA", sha, count};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = command(argv, true);
    if (reply && reply->type == REDIS_REPLY_ERROR &&
        std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
      argv[0] = "EVAL";
      argv[1] = script;
      reply = command(argv, true);
    }
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
      if (reply && reply->type == REDIS_REPLY_ERROR) {
        obs::warn("redis script refused", {{"error", std::string_view(reply->str, reply->len)}});
      }
      return std::nullopt;
    }
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < reply->elements; ++i) {
      const auto* e = reply->element[i];
      if (e->type != REDIS_REPLY_INTEGER) {
        return std::nullopt;
      }
      out.push_back(static_cast<std::int64_t>(e->integer));
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace emporium::cache
