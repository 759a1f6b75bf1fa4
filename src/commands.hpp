#pragma once

#include <map>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace emporium {

// What the command line gave a subcommand: flag values by config key, the
// --config file, and the process environment.
struct CommandLine {
  std::map<std::string, std::string> flags;
  std::optional<std::string> config_file;
  char** envp = nullptr;
};

// Adds --config and one flag per configuration key (e.g. --data-dir) to `sub`;
// parsed values land in `line`.
void add_config_flags(CLI::App& sub, CommandLine& line);

// Each returns the process exit code: 0 on success, 1 on a runtime failure,
// 2 on a configuration error.
int run_serve(const CommandLine& line);
int run_migrate(const CommandLine& line);
int run_version(const CommandLine& line);
int run_seed(const CommandLine& line);
int run_routes(const CommandLine& line);

}  // namespace emporium
