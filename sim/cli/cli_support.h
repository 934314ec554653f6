// What the subcommands share: --set parsing, the design-point options of `run` and
// `simulate` (configs/ by name: arch/support/config_paths.h).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/support/config_paths.h"
#include "mappings/cascade/cascade.h"
#include "sim/functional/executor.h"
#include "sim/model/design_point.h"

namespace cascade::cli {

// Command-line numbers, strict: the whole text an integer (or a finite real) within
// [min, max], else an Error naming the option; out-of-range values are refused, never
// capped.
int64_t parse_integer_option(const std::string& option, const std::string& text, int64_t min,
                             int64_t max);
uint64_t parse_unsigned_option(const std::string& option, const std::string& text);
double parse_real_option(const std::string& option, const std::string& text, double min);

// "P=1024,M=1024" (repeatable) -> {P: "1024", M: "1024"}.
std::map<std::string, std::string> parse_settings(const std::vector<std::string>& items);
void print_warnings(const Cascade& cascade);
// 6 significant digits, or scientific notation outside [1e-3, 1e6).
std::string format_number(double v);

// --format, --accumulate, --exp: the executor's number formats (check, eval, simulate).
// `context` prefixes the help texts ("Data mode: ").
struct NumberOptions {
  std::string format = "fp32", accumulate, exp = "exact";
};
void add_number_options(CLI::App& command, NumberOptions& options, const std::string& context = "");
ExecutionOptions execution_options(const NumberOptions& options);

// The options that name a design point (run, simulate).
struct DesignPointOptions {
  std::string arch, workload, cascade, mapper, register_file_energy;
  std::vector<std::string> sets;
  std::string seq;  // "" = the workload's shapes
  // --mapper search
  std::string search_budget, seed, search_threads, search_constraints;
};
void add_design_point_options(CLI::App& command, DesignPointOptions& options);
// Loads the files and builds the point (prints the cascade's warnings).
DesignPoint load_design_point(const DesignPointOptions& options);
// The files a design point reads (as found from the options), each with what it is, for
// refusing an output that would overwrite one of them.
std::vector<std::pair<std::string, std::string>> design_point_inputs(
    const DesignPointOptions& options);

}  // namespace cascade::cli
