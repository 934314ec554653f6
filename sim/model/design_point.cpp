#include "sim/model/design_point.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "arch/support/config_paths.h"
#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/mapping/mapping_file.h"

namespace cascade {

DesignPoint make_design_point(ArchSpec arch, Workload workload, Cascade cascade,
                              const DesignPointSettings& settings) {
  DesignPoint p;
  p.arch = std::move(arch);
  p.workload = std::move(workload);
  p.cascade = std::move(cascade);
  p.batch = settings.batch > 0 ? settings.batch : p.workload.batch;
  p.heads = settings.heads > 0 ? settings.heads : p.workload.heads;
  const std::map<std::string, std::string> given =
      workload_settings(p.workload, p.cascade, settings.seq, settings.overrides);

  const Mapper* mapper = settings.mapper.empty() ? &default_mapper(p.cascade)
                                                 : find_mapper(settings.mapper);
  std::map<std::string, std::string> shapes;
  Mapping file_mapping;
  if (mapper) {
    p.mapper = mapper->name();
    p.fit = mapper->fit(p.cascade);
    shapes = mapper->shape_settings(p.cascade, p.arch);
  } else {
    if (!std::filesystem::exists(settings.mapper))
      throw Error("--mapper: '" + settings.mapper + "' is neither a mapper (" +
                  join(mapper_names()) + ")" + did_you_mean(settings.mapper, mapper_names()) +
                  " nor a mapping file");
    p.mapping_file = settings.mapper;
    file_mapping = load_mapping(settings.mapper);
    shapes = file_mapping.shapes;
  }
  for (const auto& [name, value] : given) shapes[name] = value;
  // A cascade that declares the workload's head (batch) rank holds the heads itself: the
  // workload's count sets that rank's shape and no longer multiplies the cascade.
  int64_t batch_multiplier = p.batch, head_multiplier = p.heads;
  for (const auto& [key, rank] : p.cascade.workload_ranks) {
    const int64_t count = key == "heads" ? p.heads : p.batch;
    const std::string text = std::to_string(count);
    if (const auto it = given.find(rank); it != given.end() && it->second != text)
      throw Error("the cascade's " + key + " rank " + rank + " (workload_ranks) is set to " +
                  it->second + " but the workload has " + text + " " + key +
                  ": give one of them (--set " + rank + "=... or --" + key + ")");
    shapes[rank] = text;
    (key == "heads" ? head_multiplier : batch_multiplier) = 1;
  }
  p.bindings = resolve_bindings(p.cascade, shapes);
  p.problem = make_problem(p.cascade, p.bindings, batch_multiplier, head_multiplier,
                           p.arch.word_bytes());
  if (mapper) {
    p.candidates = mapper->candidates(p.problem, p.arch, settings.mapper_options);
    if (!p.fit.intended)
      for (Mapping& m : p.candidates) m.notes.push_back("note: " + p.fit.note);
  } else {
    p.candidates = {std::move(file_mapping)};
  }
  // A rank named H that is not declared the head rank is most likely one: say how it counts.
  if (!p.cascade.workload_ranks.count("heads") && p.heads > 1 && p.bindings.shapes.count("H"))
    for (Mapping& m : p.candidates)
      m.notes.push_back("note: the cascade has a rank H (" +
                        std::to_string(p.bindings.shapes.at("H")) + ") and the workload " +
                        std::to_string(p.heads) + " heads, which multiply it; if H is the head "
                        "rank, declare 'workload_ranks: {heads: H}' in the cascade");
  return p;
}

DesignPoint load_design_point(const DesignPointFiles& files, const DesignPointSettings& settings) {
  ArchSpec arch = load_arch(find_config("--arch", "arch", files.arch));
  if (!files.register_file_energy.empty())
    arch.register_file_energy = parse_register_file_energy(files.register_file_energy);
  Workload workload = load_workload(find_config("--workload", "workloads", files.workload));
  std::string cascade_file = files.cascade.empty() ? workload.cascade : files.cascade;
  if (cascade_file.empty())
    throw Error(workload.loc, "workload " + workload.name +
                                  " names no cascade: add 'cascade:' to it or pass --cascade");
  if (!files.cascade.empty()) cascade_file = find_config("--cascade", "cascades", files.cascade);
  Cascade cascade = parse_cascade_file(cascade_file);
  return make_design_point(std::move(arch), std::move(workload), std::move(cascade), settings);
}

EnergyReport energy_of(const ArchSpec& arch, const Stats& stats) {
  return compute_energy(arch, stats.actions, stats.cycles);
}

double latency_of(const ArchSpec& arch, const Stats& stats) {
  return arch.clock_hz > 0 ? stats.cycles / arch.clock_hz : 0;
}

DesignPointResult evaluate_design_point(const DesignPoint& point, const Model& ranker,
                                        const Model* model) {
  if (point.candidates.empty()) throw Error("no candidate mappings to choose from");
  DesignPointResult result;
  result.area = compute_area(point.arch);
  size_t best = 0;
  bool found = false;
  std::optional<Error> first_error;
  for (size_t i = 0; i < point.candidates.size(); ++i) {
    const Mapping& candidate = point.candidates[i];
    try {
      Stats stats = ranker.evaluate(candidate);
      EnergyReport energy = energy_of(point.arch, stats);
      const double latency = latency_of(point.arch, stats);
      result.considered.push_back({candidate.name, latency, energy.total_pj * 1e-12, ""});
      const bool better = !found || latency < result.latency_s * (1 - 1e-9) ||
                          (latency <= result.latency_s * (1 + 1e-9) &&
                           energy.total_pj < result.energy.total_pj);
      if (better) {
        best = i;
        result.stats = std::move(stats);
        result.energy = std::move(energy);
        result.latency_s = latency;
        found = true;
      }
    } catch (const Error& e) {
      if (!first_error) first_error = e;
      result.considered.push_back(
          {candidate.name, std::numeric_limits<double>::quiet_NaN(), 0, e.what()});
    }
  }
  if (!found) throw *first_error;
  result.mapping = point.candidates[best];
  if (!point.mapping_file.empty()) result.considered.clear();  // a file: nothing was chosen
  if (model) {
    result.stats = model->evaluate(result.mapping);
    result.energy = energy_of(point.arch, result.stats);
    result.latency_s = latency_of(point.arch, result.stats);
  }
  return result;
}

}  // namespace cascade
