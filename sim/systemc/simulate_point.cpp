#include "sim/systemc/simulate_point.h"

#include <algorithm>
#include <cmath>
#include <future>

#include "sim/functional/check.h"

namespace cascade {

namespace {

bool uses_concat(const Expr& e) {
  if (e.op == ExprOp::Concat) return true;
  return std::any_of(e.args.begin(), e.args.end(), [](const Expr& a) { return uses_concat(a); });
}

bool uses_concat(const Cascade& c) {
  return std::any_of(c.einsums.begin(), c.einsums.end(), [](const Einsum& e) {
    return uses_concat(e.value) || (e.init && uses_concat(e.init->value));
  });
}

}  // namespace

double points_per_slice(const Problem& problem) {
  double points = 0;
  for (const ProblemEinsum& e : problem.einsums) points += e.points;
  return points;
}

bool SimulatedPoint::data_equal() const {
  for (const TensorDifference& d : differences)
    if (d.differing != 0) return false;
  return true;
}

double SimulatedPoint::difference_percent() const {
  const double analytical = ranked.stats.cycles;
  return analytical > 0 ? 100 * (sim.stats.cycles / analytical - 1) : 0.0;
}

SimulatedPoint simulate_design_point(const DesignPoint& point, const DesignPointResult& ranked,
                                     SimulateSettings settings) {
  if (settings.timing_only && settings.data)
    throw Error("--timing-only and --data exclude each other");
  SimulatedPoint out;
  out.ranked = ranked;
  // Data mode cannot run concat: such a cascade runs timing-only unless --data asks for it
  // (and gets datapath_code.cpp's error).
  out.concat = uses_concat(point.problem.cascade);
  out.data = settings.data || (!settings.timing_only && !out.concat &&
                               points_per_slice(point.problem) <= kDataModePoints);
  out.seed = settings.seed;
  TensorMap inputs;
  if (out.data) {
    out.execution = settings.execution;
    settings.model.execution = settings.execution;
    inputs = random_inputs(point.problem.cascade, point.problem.bindings, settings.seed, 1.0);
    settings.model.inputs = &inputs;
  }
  out.slices_per_group =
      settings.model.slices < 0 ? 3 * settings.model.tiles_in_flight + 1 : settings.model.slices;
  // Data mode's reference, the functional executor on the same inputs, runs on a second
  // thread while the cycle model runs (they share only the const inputs).
  std::future<TensorMap> expected;
  if (out.data)
    expected = std::async(std::launch::async, [&point, &inputs, execution = out.execution] {
      return execute(point.problem.cascade, point.problem.bindings, inputs, execution);
    });
  const SystemCModel model(point.problem, point.arch, settings.model);
  out.sim = model.simulate(ranked.mapping);
  out.result = ranked;
  out.result.stats = out.sim.stats;
  out.result.energy = energy_of(point.arch, out.sim.stats);
  out.result.latency_s = latency_of(point.arch, out.sim.stats);
  if (out.data) {
    const Cascade& cascade = point.problem.cascade;
    const std::vector<std::string> outputs(cascade.outputs.begin(), cascade.outputs.end());
    out.differences = compare_bitwise(expected.get(), out.sim.values, outputs);
  }
  return out;
}

nlohmann::json simulation_json(const SimulatedPoint& s) {
  nlohmann::json j;
  j["analytical_cycles"] = s.ranked.stats.cycles;
  j["analytical_latency_s"] = s.ranked.latency_s;
  j["difference_percent"] = s.difference_percent();
  j["stalls"] = s.sim.stats.stalls;
  j["operations"] = s.sim.operations;
  j["wall_seconds"] = s.sim.wall_seconds;
  nlohmann::json registers = nlohmann::json::array();  // resident tiles' words per PE
  for (const RegisterOccupancy& r : s.sim.register_files)
    registers.push_back({{"array", r.array},
                         {"entries", r.entries},
                         {"peak_words_per_pe", r.peak_words},
                         {"peak_cycle", r.peak_cycle},
                         {"tensors", r.tensors}});
  j["register_files"] = registers;
  if (!s.sim.tile_programs.empty()) {  // per-PE mode: runs of the 2D array as tile programs
    nlohmann::json programs = nlohmann::json::object();
    for (const auto& [einsum, runs] : s.sim.tile_programs) programs[einsum] = runs;
    j["tile_programs"] = programs;
  }
  j["slices_per_group"] = s.slices_per_group;  // 0: every slice
  nlohmann::json groups = nlohmann::json::array();
  for (const CycleGroupResult& g : s.sim.groups)
    groups.push_back({{"name", g.name},
                      {"cycles", g.cycles},
                      {"cycles_per_slice", g.cycles_per_slice},
                      {"slices", g.slices},
                      {"slices_simulated", g.slices_simulated}});
  j["groups"] = groups;
  nlohmann::json data = {{"mode", s.data ? "data" : "timing"}};
  if (s.data) {
    data["storage"] = to_string(s.execution.storage);
    data["accumulate"] = to_string(s.execution.accumulate);
    data["exp"] = to_string(s.execution.exp);
    data["seed"] = s.seed;
    data["equal"] = s.data_equal();
    data["points"] = s.sim.data_counts.points;
    data["array_runs"] = s.sim.data_counts.array_runs;      // GEMM runs computed PE by PE
    data["array_points"] = s.sim.data_counts.array_points;  // of "points"
    data["array_declined"] = s.sim.data_counts.array_declined;  // timed on zeros instead
    data["lane_runs"] = s.sim.data_counts.lane_runs;  // 1D-unit runs computed lane by lane
    data["lane_points"] = s.sim.data_counts.lane_points;
    data["lane_declined"] = s.sim.data_counts.lane_declined;
    nlohmann::json outputs = nlohmann::json::object();
    for (const TensorDifference& d : s.differences)
      outputs[d.tensor] = {
          {"elements", d.elements}, {"differing", d.differing}, {"first", d.first}};
    data["outputs"] = outputs;
  }
  j["data"] = data;
  return j;
}

}  // namespace cascade
