// The subcommands of `cascade`, one file each. A command registers its options on the app
// and returns what runs it; main() parses, runs the chosen one and maps errors to exit
// codes (0 success, 1 a check failed, 2 bad input).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace cascade::cli {

constexpr int kExitCheckFailed = 1;
constexpr int kExitBadInput = 2;

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_check_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_passes_command(CLI::App& app);
Command add_print_command(CLI::App& app);
Command add_ops_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_simulate_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);

}  // namespace cascade::cli
