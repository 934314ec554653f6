// The `cascade` command-line tool: CLI11 wiring of the subcommands (one *_command.cpp each).
// Exit codes: 0 success, 1 a check failed, 2 bad input (the message names file:line:col).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include "arch/support/error.h"
#include "sim/analytical/search_evaluator.h"
#include "sim/cli/commands.h"

int main(int argc, char** argv) {
  using namespace cascade::cli;
  cascade::install_analytical_search_evaluator();  // --mapper search prices with it
  CLI::App app{"cascade: Einsum-cascade simulator and design model for attention accelerators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cascade 0.1.0");
  const std::vector<Command> commands = {
      add_check_command(app), add_eval_command(app),     add_passes_command(app),
      add_print_command(app), add_ops_command(app),      add_run_command(app),
      add_simulate_command(app), add_sweep_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }

  int code = 0;
  try {
    for (const Command& c : commands)
      if (*c.app) {
        code = c.run();
        break;
      }
  } catch (const cascade::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", e.what());
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    fmt::print(stderr, "error: out of memory\n");
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitBadInput;
  }
  // The report on standard output is an output too: a failed write is an error.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    fmt::print(stderr, "error: cannot write standard output: {}\n", std::strerror(err));
    return kExitBadInput;
  }
  return code;
}
