// `cascade passes`: the pass analysis of a cascade (FuseMax Sec. 3).
#include <fmt/core.h>

#include <memory>

#include "mappings/analysis/passes.h"
#include "mappings/cascade/parser.h"
#include "sim/cli/cli_support.h"
#include "sim/cli/commands.h"

namespace cascade::cli {

namespace {

struct PassesOptions {
  std::string file;
  std::vector<std::string> sets;
};

int run_passes(const std::string& file) {
  const Cascade c = parse_cascade_file(file);
  print_warnings(c);
  const PassReport report = analyze_passes(c);
  fmt::print("cascade {}: {} pass{} (the most over any rank)\n", c.name, report.max_passes(),
             report.max_passes() == 1 ? "" : "es");
  for (const RankPasses& r : report.ranks) {
    if (r.passes == 0) continue;
    std::string per;
    for (const auto& [e, p] : r.einsum_pass)
      per += fmt::format("{}{}:{}", per.empty() ? "" : " ", c.einsums[e].output, p);
    fmt::print("  rank {}: {} pass{}   [{}]\n", r.rank, r.passes, r.passes == 1 ? "" : "es", per);
    for (const PassCause& cause : r.causes)
      fmt::print(
          "    pass {} opens at {}: it reads {}, which needs the full reduction over {} by {}\n",
          cause.pass, c.einsums[cause.einsum].output, cause.tensor, r.rank,
          cause.reducer >= 0 ? c.einsums[cause.reducer].output : std::string("?"));
  }
  return 0;
}

}  // namespace

Command add_passes_command(CLI::App& app) {
  auto o = std::make_shared<PassesOptions>();
  auto* passes = app.add_subcommand(
      "passes", "Pass analysis: passes over each rank and the dependency that causes each pass");
  passes->add_option("cascade", o->file, "Cascade file")->required();
  return {passes, [o] { return run_passes(o->file); }};
}

}  // namespace cascade::cli
