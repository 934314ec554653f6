#include "sim/cli/cli_support.h"

#include <fmt/core.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <filesystem>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/problem/workload.h"

#include <unistd.h>

#include <cstdio>
#include <tuple>

namespace cascade::cli {

int64_t parse_integer_option(const std::string& option, const std::string& text, int64_t min,
                             int64_t max) {
  const std::string range =
      max == std::numeric_limits<int64_t>::max()
          ? fmt::format("an integer >= {}", min)
          : fmt::format("an integer from {} to {}", min, max);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || *end != '\0')
    throw Error(option + " expects " + range + ", got '" + text + "'");
  if (errno == ERANGE || v < min || v > max)
    throw Error(option + " expects " + range + ", got " + text + " (out of range)");
  return static_cast<int64_t>(v);
}

uint64_t parse_unsigned_option(const std::string& option, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
    throw Error(option + " expects an integer from 0 to 18446744073709551615, got '" + text + "'");
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0')
    throw Error(option + " expects an integer from 0 to 18446744073709551615, got '" + text + "'");
  if (errno == ERANGE)
    throw Error(option + " expects an integer from 0 to 18446744073709551615, got " + text +
                " (out of range)");
  return static_cast<uint64_t>(v);
}

double parse_real_option(const std::string& option, const std::string& text, double min) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || *end != '\0' ||
      !std::isfinite(v) || errno == ERANGE)
    throw Error(option + " expects a finite number, got '" + text + "'");
  if (v < min) throw Error(option + " expects a number >= " + format_number(min) + ", got " + text);
  return v;
}

std::map<std::string, std::string> parse_settings(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t end = item.find(',', start);
      if (end == std::string::npos) end = item.size();
      const std::string pair = item.substr(start, end - start);
      if (!pair.empty()) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
          throw Error("--set expects NAME=VALUE pairs separated by commas, got '" + pair + "'");
        out[pair.substr(0, eq)] = pair.substr(eq + 1);
      }
      start = end + 1;
    }
  }
  return out;
}

void print_warnings(const Cascade& c) {
  for (const std::string& w : c.warnings) fmt::print(stderr, "{}\n", w);
}

std::string format_number(double v) {
  if (v == 0) return "0";
  if (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-3) return fmt::format("{:.3e}", v);
  return fmt::format("{:.6g}", v);
}

void add_design_point_options(CLI::App& command, DesignPointOptions& o) {
  command
      .add_option("--arch", o.arch,
                  "Architecture: a file or a name in configs/arch/ (" + config_names("arch") + ")")
      ->required();
  command
      .add_option(
          "--workload", o.workload,
          "Workload: a file or a name in configs/workloads/ (" + config_names("workloads") + ")")
      ->required();
  command.add_option("--cascade", o.cascade,
                     "Cascade file or name in configs/cascades/ (default: the workload's)");
  std::string mappers;
  for (const std::string& name : mapper_names())
    mappers += "\n    " + name + ": " + mapper_named(name).description();
  command.add_option("--mapper", o.mapper,
                     "A mapper or a mapping file (default: fusemax for a 1-pass cascade that "
                     "partitions M, else generic). Mappers:" +
                         mappers);
  command.add_option("--search-budget", o.search_budget,
                     "--mapper search: candidates to generate (pruned and rejected ones count; "
                     "default 20000), or seconds as 10s (then not reproducible)");
  command.add_option("--search-seed", o.seed, "--mapper search: the random seed (default 1)");
  command.add_option("--search-threads", o.search_threads,
                     "--mapper search: threads evaluating candidates (default 1; the result does "
                     "not depend on it)");
  command.add_option("--search-constraints", o.search_constraints,
                     "--mapper search: a YAML file whose constraints: section the search honours "
                     "(configs/mappings/README.md)");
  command.add_option("--set", o.sets, "Shapes and parameters, e.g. P=4096,M=4096");
  command.add_option("--seq", o.seq, "Sequence length: sets P and M (an integer >= 1)");
  command
      .add_option("--register-file-energy", o.register_file_energy,
                  "Overrides the architecture's register_file_energy: all_instances (every PE's "
                  "register-file accesses) or one_instance (one PE per array, the FuseMax "
                  "artifact's accounting)")
      ->check(CLI::IsMember({"all_instances", "one_instance"}));
}

DesignPoint load_design_point(const DesignPointOptions& o) {
  DesignPointSettings settings;
  settings.mapper = o.mapper;
  settings.seq = o.seq.empty() ? 0
                               : parse_integer_option("--seq", o.seq, 1,
                                                      std::numeric_limits<int64_t>::max());
  settings.overrides = parse_settings(o.sets);
  const bool search = o.mapper == "search";
  for (const auto& [key, value, flag] :
       {std::tuple{"budget", o.search_budget, "--search-budget"}, {"seed", o.seed, "--search-seed"},
        {"threads", o.search_threads, "--search-threads"},
        {"constraints", o.search_constraints, "--search-constraints"}}) {
    if (value.empty()) continue;
    if (!search) throw Error(std::string(flag) + " needs --mapper search");
    if (key == std::string("seed") || key == std::string("threads"))
      parse_integer_option(flag, value, key == std::string("seed") ? 0 : 1, 1 << 30);
    settings.mapper_options[key] = value;
  }
  if (search && isatty(fileno(stderr))) settings.mapper_options["progress"] = "1";
  DesignPoint point = cascade::load_design_point(
      {o.arch, o.workload, o.cascade, o.register_file_energy}, settings);
  print_warnings(point.cascade);
  return point;
}

std::vector<std::pair<std::string, std::string>> design_point_inputs(const DesignPointOptions& o) {
  std::vector<std::pair<std::string, std::string>> inputs;
  // Best effort: a file that cannot be found or read is reported when the point loads.
  auto add = [&](const std::string& what, const std::string& folder, const std::string& given) {
    if (given.empty()) return std::string();
    try {
      const std::string path = find_config(what, folder, given);
      inputs.emplace_back(path, what.substr(2) + " file");
      return path;
    } catch (const Error&) {
      return std::string();
    }
  };
  add("--arch", "arch", o.arch);
  const std::string workload = add("--workload", "workloads", o.workload);
  if (!o.cascade.empty()) {
    add("--cascade", "cascades", o.cascade);
  } else if (!workload.empty()) {
    try {
      const Workload w = load_workload(workload);
      if (!w.cascade.empty()) inputs.emplace_back(w.cascade, "cascade file");
    } catch (const Error&) {
    }
  }
  if (!o.mapper.empty() && std::filesystem::exists(o.mapper))
    inputs.emplace_back(o.mapper, "mapping file");
  return inputs;
}

void add_number_options(CLI::App& command, NumberOptions& o, const std::string& context) {
  // "Storage format ..." alone, "Data mode: storage format ..." after a context.
  auto text = [&](std::string what) {
    if (!context.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
    return context + what;
  };
  command.add_option("--format", o.format, text("Storage format: fp64, fp32, bf16, fp16"))
      ->capture_default_str();
  command.add_option("--accumulate", o.accumulate,
                     text("Accumulation format (default: fp32 for bf16/fp16 storage, else the "
                          "storage format)"));
  command.add_option("--exp", o.exp,
                     text("Exp as exact (std::exp), hardware (2^i * poly(f), as the RTL's pe_2d) or "
                          "fast (2^i * piecewise-linear(f), as pe_2d_fastexp)"))
      ->capture_default_str();
}

ExecutionOptions execution_options(const NumberOptions& o) {
  ExecutionOptions e;
  e.storage = parse_number_format(o.format);
  e.accumulate = o.accumulate.empty() ? default_accumulation(e.storage)
                                      : parse_number_format(o.accumulate);
  e.exp = parse_exp_mode(o.exp);
  return e;
}

}  // namespace cascade::cli
