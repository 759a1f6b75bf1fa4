// Configuration (lib/config) with the binary's own schema: an input is
// loaded as the TOML file, and its lines as EMPORIUM_* variables and as
// flags (KEY=VALUE), then every key is read back with its typed accessor
// and turned into server options, as `serve` does.
//
// Findings besides sanitizer reports: any exception other than ConfigError
// while loading, or any exception reading back a configuration that loaded
// (a value that passed its check but does not parse).
#include "config/config.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "settings.hpp"

namespace {

using namespace emporium;

const std::string& scratch_file() {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("emporium-fuzz-config-" + std::to_string(::getpid()) + ".toml"))
                                      .string();
  return path;
}

void read_back(const config::Config& c) {
  for (const auto& def : settings_schema()) {
    switch (def.kind) {
      case config::Kind::string:
        (void)c.str(def.name);
        break;
      case config::Kind::integer:
        (void)c.integer(def.name);
        break;
      case config::Kind::duration:
        (void)c.duration(def.name);
        break;
      case config::Kind::boolean:
        (void)c.boolean(def.name);
        break;
      case config::Kind::address:
        (void)c.address(def.name);
        break;
    }
  }
  (void)server_options(c);
  (void)config::split_list(c.str("cors_origins"));
}

void load(const std::optional<std::string>& file, const std::map<std::string, std::string>& env,
          const std::map<std::string, std::string>& flags) {
  std::optional<config::Config> c;
  try {
    c = config::Config::load(settings_schema(), file, env, flags);
  } catch (const config::ConfigError&) {
    return;
  }
  try {
    read_back(*c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_config: a configuration that loaded does not read back: %s\n",
                 e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  load(scratch_file(), {}, {});

  std::map<std::string, std::string> env;
  std::map<std::string, std::string> flags;
  std::size_t start = 0;
  while (start < input.size()) {
    const auto end = std::min(input.find('\n', start), input.size());
    const auto line = input.substr(start, end - start);
    start = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      (void)config::parse_address(line);
      (void)config::parse_duration(line);
      continue;
    }
    std::string key(line.substr(0, eq));
    std::string value(line.substr(eq + 1));
    flags[key] = value;
    env["EMPORIUM_" + key] = value;
  }
  load(std::nullopt, env, {});
  load(std::nullopt, {}, flags);
  return 0;
}
