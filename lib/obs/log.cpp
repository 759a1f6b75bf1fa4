#include "obs/log.hpp"

#include <unistd.h>

#include <boost/json/serializer.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "obs/metrics.hpp"

namespace emporium::obs {

// ---------------------------------------------------------------------------
// LineQueue
// ---------------------------------------------------------------------------

LineQueue::LineQueue(std::size_t max_bytes, std::chrono::milliseconds interval, Write write)
    : max_bytes_(max_bytes),
      interval_(interval),
      write_(std::move(write)),
      worker_("log-writer", [this](core::Worker& w) {
        while (w.wait_for(interval_)) {
          drain();
        }
        drain();
      }) {}

LineQueue::~LineQueue() {
  stop();
}

bool LineQueue::push(std::string_view line, bool urgent) {
  bool wake = false;
  bool now = false;
  {
    const std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() + 1 > max_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    pending_.append(line);
    pending_.push_back('\n');
    now = stopped_;
    if (!now && !wake_sent_ && (urgent || pending_.size() >= max_bytes_ / 4)) {
      wake_sent_ = true;
      wake = true;
    }
  }
  if (now) {
    drain();
  } else if (wake) {
    worker_.wake();
  }
  return true;
}

void LineQueue::drain_locked() {
  {
    const std::lock_guard lock(mutex_);
    out_.swap(pending_);
    wake_sent_ = false;
  }
  if (!out_.empty()) {
    write_(out_);
    out_.clear();
  }
}

void LineQueue::drain() {
  const std::lock_guard lock(write_mutex_);
  drain_locked();
}

void LineQueue::flush() {
  drain();
}

void LineQueue::stop() noexcept {
  {
    const std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  worker_.stop();
  drain();
}

// ---------------------------------------------------------------------------
// The process-wide log
// ---------------------------------------------------------------------------

namespace {

constexpr std::size_t kBufferBytes = std::size_t{8} << 20U;
constexpr std::chrono::milliseconds kInterval{10};

// Writes all of `data` to `fd`, retrying after interruptions and short
// writes; gives up quietly on any other error (logging must never fail
// the process).
void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct Log {
  std::atomic<int> level{static_cast<int>(Level::info)};
  // Set once by init_logging and never freed, so that threads still logging
  // while the process exits do not meet a destroyed queue.
  std::atomic<LineQueue*> queue{nullptr};
  std::mutex init_mutex;
};

Log& the_log() {
  static Log* log = new Log();  // never destroyed, for the same reason
  return *log;
}

void stop_at_exit() {
  if (auto* q = the_log().queue.load()) {
    q->stop();
  }
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

// "2026-12-01T14:20:00.123456Z", the seconds formatted at most once a
// second per thread.
void append_time(std::string& out) {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  thread_local std::time_t cached_at = -1;
  thread_local char seconds[32] = {};
  if (secs != cached_at) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_at = secs;
  }
  out += seconds;
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', 'Z'};
  auto micros = static_cast<unsigned>(us % 1'000'000);
  for (int i = 6; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out.append(frac, sizeof frac);
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[64];
  std::to_chars_result r{};
  if constexpr (std::is_floating_point_v<T>) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 6);
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out.append(buf, r.ec == std::errc() ? r.ptr : buf);
}

void append_value(std::string& out, const FieldValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          append_json_string(out, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else {
          append_number(out, v);
        }
      },
      value);
}

// The whole line, without its newline.
void format_line(std::string& line, Level level, std::string_view msg,
                 std::initializer_list<Field> fields) {
  line.assign(R"({"time":")");
  append_time(line);
  line += R"(","level":")";
  line += level_name(level);
  line += R"(","msg":)";
  append_json_string(line, msg);
  for (const auto& [key, value] : fields) {
    line += ',';
    append_json_string(line, key);
    line += ':';
    append_value(line, value);
  }
  line += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  boost::json::serializer sr;
  sr.reset(boost::json::string_view(s.data(), s.size()));
  char buf[512];
  while (!sr.done()) {
    const auto part = sr.read(buf, sizeof buf);
    out.append(part.data(), part.size());
  }
}

void init_logging(std::string_view level) {
  Level parsed;
  if (level == "debug") {
    parsed = Level::debug;
  } else if (level == "info") {
    parsed = Level::info;
  } else if (level == "warn") {
    parsed = Level::warn;
  } else if (level == "error") {
    parsed = Level::error;
  } else {
    throw std::invalid_argument("log_level must be one of debug, info, warn, error");
  }
  auto& log = the_log();
  const std::lock_guard lock(log.init_mutex);
  log.level.store(static_cast<int>(parsed));
  if (log.queue.load() == nullptr) {
    log.queue.store(new LineQueue(kBufferBytes, kInterval,
                                  [](std::string_view batch) { write_all(STDOUT_FILENO, batch); }));
    std::atexit(stop_at_exit);
  }
}

void flush_logs() {
  if (auto* q = the_log().queue.load()) {
    q->flush();
  }
}

std::uint64_t log_lines_dropped() noexcept {
  auto* q = the_log().queue.load();
  return q != nullptr ? q->dropped() : 0;
}

void register_log_metrics(Registry& registry) {
  registry.add_collector([](std::string& out) {
    out +=
        "# HELP emporium_log_lines_dropped_total Log lines dropped because the log buffer was "
        "full (the writer fell behind).\n"
        "# TYPE emporium_log_lines_dropped_total counter\n"
        "emporium_log_lines_dropped_total ";
    append_number(out, log_lines_dropped());
    out += '\n';
  });
}

bool log_enabled(Level level) noexcept {
  return static_cast<int>(level) >= the_log().level.load(std::memory_order_relaxed);
}

void log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!log_enabled(level)) {
    return;
  }
  thread_local std::string line;
  format_line(line, level, msg, fields);
  if (auto* q = the_log().queue.load(std::memory_order_acquire)) {
    q->push(line, level >= Level::warn);
    return;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace emporium::obs
