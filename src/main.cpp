// The emporium binary: a table of subcommands, nothing else.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"

namespace {

struct Command {
  const char* name;
  const char* help;
  int (*run)(const emporium::CommandLine&);
  // Arguments of its own besides the configuration flags; may be null.
  void (*args)(CLI::App&, emporium::CommandLine&) = nullptr;
};

constexpr Command kCommands[] = {
    {"serve", "Run Emporium's HTTP services", emporium::run_serve},
    {"migrate", "Apply pending database migrations and exit", emporium::run_migrate},
    {"seed",
     "Load the demo catalog into an empty product database (or, with --products/--orders, "
     "synthetic data for drills) and exit",
     emporium::run_seed, emporium::add_seed_args},
    {"backup",
     "Take an online, consistent backup of every SQLite database under --data-dir into --out "
     "(a directory with a manifest); `backup verify PATH` checks one",
     emporium::run_backup, emporium::add_backup_args},
    {"restore",
     "Verify the backup --from and restore it into --data-dir, which must be empty (or --force) "
     "and not in use by a running shop",
     emporium::run_restore, emporium::add_restore_args},
    {"routes", "Print the public HTTP routes as JSON and exit", emporium::run_routes},
    {"version", "Print the version and exit", emporium::run_version},
};

}  // namespace

int main(int argc, char** argv, char** envp) {
  CLI::App app{"Emporium: an e-commerce platform"};
  app.require_subcommand(1);
  emporium::CommandLine line;
  line.envp = envp;
  std::vector<std::pair<CLI::App*, const Command*>> subs;
  for (const auto& cmd : kCommands) {
    auto* sub = app.add_subcommand(cmd.name, cmd.help);
    emporium::add_config_flags(*sub, line);
    if (cmd.args != nullptr) {
      cmd.args(*sub, line);
    }
    subs.emplace_back(sub, &cmd);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const auto& [sub, cmd] : subs) {
    if (sub->parsed()) {
      return cmd->run(line);
    }
  }
  return 2;
}
