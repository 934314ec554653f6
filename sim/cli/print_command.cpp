// `cascade print`: the cascade as parsed (print -> parse round-trips).
#include <fmt/core.h>

#include <memory>

#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"

namespace cascade::cli {

namespace {

struct PrintOptions {
  std::string file;
  std::vector<std::string> sets;
};

int run_print(const std::string& file) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  fmt::print("{}", print_cascade(c));
  return 0;
}

}  // namespace

Command add_print_command(CLI::App& app) {
  auto o = std::make_shared<PrintOptions>();
  auto* print = app.add_subcommand("print", "Print the cascade as parsed (round-trips)");
  print->add_option("cascade", o->file, "Cascade file")->required();
  return {print, [o] { return run_print(o->file); }};
}

}  // namespace cascade::cli
