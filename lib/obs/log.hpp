#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <variant>

namespace emporium::obs {

enum class Level { debug, info, warn, error };

// A structured field value of a log line.
using FieldValue = std::variant<std::string_view, std::int64_t, double, bool>;
using Field = std::pair<std::string_view, FieldValue>;

// Sets up process-wide JSON-lines logging to stdout through an asynchronous
// spdlog logger: {"time":"…Z","level":"info","msg":"…",<fields>}. Call once at
// start-up; `level` is debug, info, warn or error (throws std::invalid_argument
// otherwise). Before it is called, log lines go to stderr synchronously.
void init_logging(std::string_view level);

// Flushes pending log lines; call before the process exits.
void flush_logs();

bool log_enabled(Level level) noexcept;
void log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

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
