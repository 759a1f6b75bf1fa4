#include "obs/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <stdexcept>
#include <string>

namespace emporium::obs {

namespace {

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

// spdlog writes "time" and "level"; the message part is the rest of the object.
constexpr const char* kPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})";

}  // namespace

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
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("emporium", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern(kPattern, spdlog::pattern_time_type::utc);
  logger->set_level(to_spdlog(parsed));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void flush_logs() {
  spdlog::default_logger()->flush();
}

bool log_enabled(Level level) noexcept {
  return spdlog::default_logger_raw()->should_log(to_spdlog(level));
}

void log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(to_spdlog(level))) {
    return;
  }
  std::string line = "\"msg\":";
  append_json_string(line, msg);
  for (const auto& [key, value] : fields) {
    line += ',';
    append_json_string(line, key);
    line += ':';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_json_string(line, v);
          } else if constexpr (std::is_same_v<T, bool>) {
            line += v ? "true" : "false";
          } else {
            line += std::to_string(v);
          }
        },
        value);
  }
  logger->log(to_spdlog(level), line);
}

}  // namespace emporium::obs
