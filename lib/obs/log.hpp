#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/worker.hpp"

namespace emporium::obs {

class Registry;

enum class Level { debug, info, warn, error };

// A structured field value of a log line.
using FieldValue = std::variant<std::string_view, std::int64_t, double, bool>;
using Field = std::pair<std::string_view, FieldValue>;

// Log lines on their way to a file descriptor, written off the callers'
// threads by one core::Worker. push() copies the line into a buffer bounded
// by `max_bytes` and returns (no system call, no wake-up unless `urgent` or
// the buffer is a quarter full); the worker writes the buffer every
// `interval` in one write. A line that does not fit is dropped and counted.
// Lines are written whole, in the order they were pushed. After stop() (and
// from the destructor) everything pushed is written and later pushes are
// written at once, on the caller's thread.
class LineQueue {
 public:
  // Writes a batch of whole lines, each ending in '\n'; called by one thread
  // at a time.
  using Write = std::function<void(std::string_view)>;

  LineQueue(std::size_t max_bytes, std::chrono::milliseconds interval, Write write);
  ~LineQueue();
  LineQueue(const LineQueue&) = delete;
  LineQueue& operator=(const LineQueue&) = delete;

  // Queues `line` plus a newline. False when it was dropped (buffer full).
  // `urgent` wakes the writer now (warnings and errors).
  bool push(std::string_view line, bool urgent = false);
  // Writes everything pushed before the call; returns once it is written.
  void flush();
  // Stops the writer after writing what is pending. Idempotent.
  void stop() noexcept;

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  // Writes what is pending; requires write_mutex_.
  void drain_locked();
  void drain();

  const std::size_t max_bytes_;
  const std::chrono::milliseconds interval_;
  const Write write_;

  std::mutex mutex_;
  std::string pending_;     // guarded by mutex_
  bool wake_sent_ = false;  // guarded by mutex_
  bool stopped_ = false;    // guarded by mutex_
  std::mutex write_mutex_;  // one writer at a time, so batches keep their order
  std::string out_;         // guarded by write_mutex_: the batch being written
  std::atomic<std::uint64_t> dropped_{0};
  core::Worker worker_;  // last: starts once everything above exists
};

// Sets up process-wide JSON-lines logging to stdout:
// {"time":"…Z","level":"info","msg":"…",<fields>}, buffered in a LineQueue
// of 8 MiB written every 10 ms (at once for warnings and errors). Call once
// at start-up; `level` is debug, info, warn or error (throws
// std::invalid_argument otherwise). Before it is called, log lines go to
// stderr synchronously.
void init_logging(std::string_view level);

// Writes pending log lines; call before the process exits (it is also done
// at exit).
void flush_logs();

// Log lines dropped so far because the buffer was full.
std::uint64_t log_lines_dropped() noexcept;

// Adds emporium_log_lines_dropped_total (a counter) to `registry`.
void register_log_metrics(Registry& registry);

bool log_enabled(Level level) noexcept;
void log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

// Appends `s` to `out` as a JSON string (quoted and escaped).
void append_json_string(std::string& out, std::string_view s);

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  log(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  log(Level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  log(Level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  log(Level::error, m, f);
}

}  // namespace emporium::obs
