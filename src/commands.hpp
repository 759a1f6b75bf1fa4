#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace emporium::config {
class Config;
}

namespace emporium {

// What the command line gave a subcommand: flag values by config key, the
// --config file, and the process environment.
struct CommandLine {
  std::map<std::string, std::string> flags;
  // The subcommand's own arguments (not configuration keys), by name:
  // "out", "from", "force", "verify" (the path of `backup verify PATH`), ...
  std::map<std::string, std::string> args;
  std::optional<std::string> config_file;
  char** envp = nullptr;
};

// Adds --config and one flag per configuration key (e.g. --data-dir) to `sub`;
// parsed values land in `line`.
void add_config_flags(CLI::App& sub, CommandLine& line);

// Loads configuration, sets up logging and the data directory, then runs
// `body`; maps failures to exit codes (2 configuration, 1 anything else).
int with_config(const CommandLine& line, std::string_view what,
                const std::function<void(const config::Config&)>& body);

// Each returns the process exit code: 0 on success, 1 on a runtime failure,
// 2 on a configuration error.
int run_serve(const CommandLine& line);
int run_migrate(const CommandLine& line);
int run_version(const CommandLine& line);
int run_seed(const CommandLine& line);
int run_routes(const CommandLine& line);
int run_backup(const CommandLine& line);
int run_restore(const CommandLine& line);

// The subcommands' own arguments, added to their CLI::App; values land in
// `line.args`.
void add_seed_args(CLI::App& sub, CommandLine& line);
void add_backup_args(CLI::App& sub, CommandLine& line);
void add_restore_args(CLI::App& sub, CommandLine& line);

}  // namespace emporium
