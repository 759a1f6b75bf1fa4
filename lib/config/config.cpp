#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace emporium::config {

namespace {

constexpr std::string_view kEnvPrefix = "EMPORIUM_";

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || s.empty()) {
    return std::nullopt;
  }
  return v;
}

// Returns an error message, or empty when `value` fits `def`.
std::string check(const KeyDef& def, std::string_view value) {
  switch (def.kind) {
    case Kind::string: {
      if (def.choices.empty() ||
          std::find(def.choices.begin(), def.choices.end(), value) != def.choices.end()) {
        return {};
      }
      std::string list;
      for (const auto& c : def.choices) {
        list += (list.empty() ? "" : ", ") + c;
      }
      return "must be one of " + list;
    }
    case Kind::integer: {
      auto v = parse_int(value);
      if (!v) {
        return "must be an integer";
      }
      if (*v < def.min || *v > def.max) {
        return "must be between " + std::to_string(def.min) + " and " + std::to_string(def.max);
      }
      return {};
    }
    case Kind::duration:
      return parse_duration(value) ? std::string() : "must be a duration such as 500ms, 10s or 5m";
    case Kind::boolean:
      return parse_bool(value) ? std::string() : "must be true or false";
    case Kind::address:
      return parse_address(value) ? std::string() : "must be HOST:PORT";
  }
  return {};
}

std::string read_secret_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(what + ": cannot read file " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) {
    v.pop_back();
  }
  return v;
}

// Turns a TOML scalar into the string form the other sources use.
std::optional<std::string> toml_scalar(const toml::node& node) {
  if (auto s = node.value<std::string>()) {
    return *s;
  }
  if (node.is_boolean()) {
    return *node.value<bool>() ? "true" : "false";
  }
  if (node.is_integer()) {
    return std::to_string(*node.value<std::int64_t>());
  }
  return std::nullopt;
}

// `k` without `suffix` when it ends with it and has more before it.
std::optional<std::string> strip_suffix(std::string_view k, std::string_view suffix) {
  if (k.size() > suffix.size() && k.substr(k.size() - suffix.size()) == suffix) {
    return std::string(k.substr(0, k.size() - suffix.size()));
  }
  return std::nullopt;
}

// How errors name `key` of the config file at `path`.
std::string file_key_name(const std::string& key, const std::string& path) {
  return "'" + key + "' (config file " + path + ")";
}

}  // namespace

std::string env_name(std::string_view key) {
  return std::string(kEnvPrefix) + upper(key);
}

std::string flag_name(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::optional<Address> parse_address(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::nullopt;  // bare IPv6 must be bracketed
    }
  }
  auto p = parse_int(port);
  if (host.empty() || !p || *p < 0 || *p > 65535) {
    return std::nullopt;
  }
  return Address{std::string(host), static_cast<std::uint16_t>(*p)};
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
    ++digits;
  }
  auto n = parse_int(s.substr(0, digits));
  if (!n) {
    return std::nullopt;
  }
  const auto unit = s.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return std::nullopt;
  }
  if (*n > INT64_MAX / scale) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(*n * scale);
}

Config Config::load(const std::vector<KeyDef>& schema, const std::optional<std::string>& file,
                    const std::map<std::string, std::string>& env,
                    const std::map<std::string, std::string>& flags) {
  Config c;
  for (const auto& def : schema) {
    c.entries_[def.name] = Entry{def, def.default_value, "default"};
  }
  if (file) {
    c.load_file(*file);
  }
  c.load_env(env);
  for (const auto& [key, value] : flags) {
    c.assign(key, value, "flag", "--" + flag_name(key) + " (command line)");
  }
  return c;
}

void Config::assign(const std::string& key, std::string value, const std::string& source,
                    const std::string& what) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    throw ConfigError("unknown configuration key " + what);
  }
  if (auto err = check(it->second.def, value); !err.empty()) {
    throw ConfigError("invalid value for " + what + ": " + err);
  }
  it->second.value = std::move(value);
  it->second.source = source;
}

void Config::assign_or_read(const std::string& key, const std::string& value,
                            const std::string& source, const std::string& what) {
  if (!entries_.contains(key)) {
    if (auto base = strip_suffix(key, "_file"); base && entries_.contains(*base)) {
      assign(*base, read_secret_file(value, what), source, what);
      return;
    }
  }
  assign(key, value, source, what);
}

void Config::load_file(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config file " << path << ": " << e.description() << " at line "
        << e.source().begin.line;
    throw ConfigError(msg.str());
  }
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    const std::string what = file_key_name(key, path);
    auto value = toml_scalar(node);
    if (!value) {
      throw ConfigError("invalid value for " + what + ": must be a string, integer or boolean");
    }
    assign_or_read(key, *value, "file", what);
  }
}

void Config::load_env(const std::map<std::string, std::string>& env) {
  for (const auto& [name, value] : env) {
    if (name.rfind(kEnvPrefix, 0) != 0) {
      continue;
    }
    std::string key = name.substr(kEnvPrefix.size());
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    assign_or_read(key, value, "env", name + " (environment)");
  }
}

const Config::Entry& Config::entry(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    throw std::out_of_range("no configuration key " + std::string(key));
  }
  return it->second;
}

const std::string& Config::str(std::string_view key) const {
  return entry(key).value;
}

std::int64_t Config::integer(std::string_view key) const {
  return parse_int(entry(key).value).value();
}

std::chrono::milliseconds Config::duration(std::string_view key) const {
  return parse_duration(entry(key).value).value();
}

bool Config::boolean(std::string_view key) const {
  return parse_bool(entry(key).value).value();
}

Address Config::address(std::string_view key) const {
  return parse_address(entry(key).value).value();
}

const std::string& Config::source(std::string_view key) const {
  return entry(key).source;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const auto j = std::min(s.find(',', i), s.size());
    auto item = s.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
    i = j + 1;
  }
  return out;
}

std::map<std::string, std::string> emporium_environment(char** envp) {
  std::map<std::string, std::string> out;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    auto name = kv.substr(0, eq);
    if (name.rfind(kEnvPrefix, 0) == 0) {
      out.emplace(std::string(name), std::string(kv.substr(eq + 1)));
    }
  }
  return out;
}

}  // namespace emporium::config
