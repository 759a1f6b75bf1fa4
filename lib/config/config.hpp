#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::config {

// Raised when configuration cannot be loaded; the message names the key and
// the source (file, environment or flag) that was wrong.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Kind {
  string,
  integer,   // decimal, within [min, max]
  duration,  // "250ms", "10s", "5m", "1h"
  boolean,   // true/false, 1/0, yes/no, on/off
  address,   // "host:port" or "[v6]:port"
};

struct KeyDef {
  std::string name;  // snake_case; flag --name-with-dashes, env EMPORIUM_NAME
  Kind kind = Kind::string;
  std::string default_value;
  std::string help;
  std::int64_t min = 0;  // integer kind only
  std::int64_t max = INT64_MAX;
  std::vector<std::string> choices = {};  // string kind: allowed values, if any
};

struct Address {
  std::string host;
  std::uint16_t port = 0;
};

std::string env_name(std::string_view key);   // "data_dir" -> "EMPORIUM_DATA_DIR"
std::string flag_name(std::string_view key);  // "data_dir" -> "data-dir"

// Parses "host:port" / "[::1]:port". Returns nullopt when malformed.
std::optional<Address> parse_address(std::string_view s);
// Parses "250ms", "10s", "5m", "1h". Returns nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);

// Validated configuration values. Every key of the schema has a value.
class Config {
 public:
  Config() = default;

  // Loads, in increasing precedence: the schema defaults, the TOML file at
  // `file` (flat `key = value` pairs), `EMPORIUM_<KEY>` variables in `env`,
  // then `flags` (key -> value, already extracted from the command line).
  // Any key may instead be given as `<key>_file` / `EMPORIUM_<KEY>_FILE`, a
  // path whose contents (trailing newline removed) are the value, for secrets.
  // Throws ConfigError for an unknown key in the file or the environment
  // (EMPORIUM_* variables), an unreadable file, or a value of the wrong kind.
  static Config load(const std::vector<KeyDef>& schema, const std::optional<std::string>& file,
                     const std::map<std::string, std::string>& env,
                     const std::map<std::string, std::string>& flags);

  // Typed accessors. Throw std::out_of_range for a key not in the schema.
  const std::string& str(std::string_view key) const;
  std::int64_t integer(std::string_view key) const;
  std::chrono::milliseconds duration(std::string_view key) const;
  bool boolean(std::string_view key) const;
  Address address(std::string_view key) const;

  // Where a key's value came from: "default", "file", "env" or "flag".
  const std::string& source(std::string_view key) const;

 private:
  struct Entry {
    KeyDef def;
    std::string value;
    std::string source;
  };
  const Entry& entry(std::string_view key) const;
  // Sets `key` to `value` from `source`; `what` names the key and its source
  // in the ConfigError thrown for an unknown key or a value of the wrong kind.
  void assign(const std::string& key, std::string value, const std::string& source,
              const std::string& what);
  // As assign, except that `<key>_file` for a key of the schema sets that key
  // to the contents of the file named by `value`.
  void assign_or_read(const std::string& key, const std::string& value, const std::string& source,
                      const std::string& what);
  void load_file(const std::string& path);
  void load_env(const std::map<std::string, std::string>& env);
  std::map<std::string, Entry, std::less<>> entries_;
};

// Splits "a, b,,c" into {"a", "b", "c"}: comma-separated, trimmed, no empties.
std::vector<std::string> split_list(std::string_view s);

// Collects EMPORIUM_* variables from a POSIX environment block.
std::map<std::string, std::string> emporium_environment(char** envp);

}  // namespace emporium::config
