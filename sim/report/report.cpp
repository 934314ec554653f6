#include "sim/report/report.h"

#include <fmt/core.h>

#include <cmath>

namespace cascade {

namespace {

std::string bytes_text(double b) {
  if (b >= 1e12) return fmt::format("{:.3f} TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.3f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.3f} MB", b / 1e6);
  return fmt::format("{:.0f} B", b);
}

std::string exact(double v) { return fmt::format("{:.17g}", v); }

}  // namespace

std::string with_commas(double v) {
  const std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    out += digits[i];
    if (digits[i] != '-' && (n - i - 1) % 3 == 0 && i + 1 < n) out += ',';
  }
  return out;
}

std::string mapper_label(const DesignPoint& point, const DesignPointResult& result) {
  if (!result.mapping.mapper.empty()) return result.mapping.mapper;
  return point.mapper.empty() ? point.mapping_file : point.mapper;
}

std::string text_report(const DesignPoint& point, const DesignPointResult& result) {
  const ArchSpec& arch = point.arch;
  const Stats& st = result.stats;
  const Mapping& mapping = result.mapping;
  std::string out;
  std::string shapes;
  for (const auto& [name, value] : point.bindings.shapes)
    shapes += fmt::format("{}{}={}", shapes.empty() ? "" : " ", name, value);
  out += fmt::format("cascade run: arch {}, workload {} (batch {}, heads {}), cascade {}\n",
                     arch.name, point.workload.name, point.batch, point.heads, point.cascade.name);
  out += fmt::format("  shapes       {}\n", shapes);
  out += fmt::format(
      "  mapping      {}{}\n", mapping.name,
      mapping.mapper.empty()
          ? std::string(" (from " + point.mapping_file + ")")
          : " (mapper " + mapping.mapper +
                (result.considered.size() > 1
                     ? fmt::format(", best of {} candidates", result.considered.size())
                     : std::string()) +
                ")");
  for (const std::string& note : mapping.notes) out += fmt::format("               - {}\n", note);
  out += fmt::format("  cycles       {}\n", with_commas(st.cycles));
  out += fmt::format("  latency      {:.6g} ms\n", result.latency_s * 1e3);
  std::string util;
  for (const auto& [name, u] : st.utilization)
    util += fmt::format("{}{} {:.1f} %", util.empty() ? "" : "   ", name, u * 100);
  out += fmt::format("  utilization  {}\n", util);
  out += fmt::format("  DRAM         {} (read {}, write {})\n", bytes_text(st.dram_bytes),
                     bytes_text(st.dram_read_bytes), bytes_text(st.dram_write_bytes));
  out += fmt::format("  bottleneck   {}\n", st.bottleneck);
  std::string busy;
  for (const auto& [name, c] : st.busy_cycles)
    busy += fmt::format("{}{} {}", busy.empty() ? "" : "   ", name, with_commas(c));
  out += fmt::format("  busy cycles  {}\n", busy);
  const EnergyReport& energy = result.energy;
  out += fmt::format("  energy       {:.6g} J{}\n", energy.total_pj * 1e-12,
                     arch.register_file_energy == ArchSpec::RegisterFileEnergy::OneInstance
                         ? "  (register files: one PE per array, the FuseMax artifact's accounting)"
                         : "");
  for (const auto& [name, pj] : energy.by_component_pj)
    out += fmt::format("    {:<16} {:>12.6g} J  {:5.1f} %\n", name, pj * 1e-12,
                       energy.total_pj > 0 ? 100 * pj / energy.total_pj : 0.0);
  std::string levels;
  for (const auto& [level, pj] : energy.by_level_pj)
    levels += fmt::format("{}{} {:.1f} %", levels.empty() ? "" : "   ", level,
                          energy.total_pj > 0 ? 100 * pj / energy.total_pj : 0.0);
  out += fmt::format("    by level: {}\n", levels);
  out += fmt::format("  area         {:.6g} mm^2\n", result.area.total_um2 * 1e-6);
  for (const auto& [name, um2] : result.area.by_component_um2)
    if (um2 > 0) out += fmt::format("    {:<16} {:>12.6g} mm^2\n", name, um2 * 1e-6);
  return out;
}

nlohmann::json json_report(const DesignPoint& point, const DesignPointResult& result) {
  const ArchSpec& arch = point.arch;
  const Stats& st = result.stats;
  const EnergyReport& energy = result.energy;
  nlohmann::json j;
  j["arch"] = arch.name;
  j["workload"] = point.workload.name;
  j["cascade"] = point.cascade.name;
  j["batch"] = point.batch;
  j["heads"] = point.heads;
  j["shapes"] = point.bindings.shapes;
  j["mapper"] = mapper_label(point, result);
  j["mapping"] = result.mapping.name;
  j["mapping_notes"] = result.mapping.notes;
  j["cycles"] = st.cycles;
  j["latency_s"] = result.latency_s;
  j["utilization"] = st.utilization;
  j["dram_bytes"] = st.dram_bytes;
  j["bottleneck"] = st.bottleneck;
  j["busy_cycles"] = st.busy_cycles;
  j["actions"] = st.actions;
  j["notes"] = st.notes;
  j["energy_j"] = energy.total_pj * 1e-12;
  j["register_file_energy"] = register_file_energy_name(arch.register_file_energy);
  nlohmann::json by;
  for (const auto& [name, pj] : energy.by_component_pj) by[name] = pj * 1e-12;
  j["energy_by_component_j"] = by;
  nlohmann::json by_level;
  for (const auto& [level, pj] : energy.by_level_pj) by_level[level] = pj * 1e-12;
  j["energy_by_level_j"] = by_level;
  j["area_mm2"] = result.area.total_um2 * 1e-6;
  nlohmann::json area;
  for (const auto& [name, um2] : result.area.by_component_um2) area[name] = um2 * 1e-6;
  j["area_by_component_mm2"] = area;
  nlohmann::json einsums = nlohmann::json::array();
  for (const EinsumStats& r : st.einsums)
    einsums.push_back({{"name", r.name},
                       {"array", r.array},
                       {"group", r.group},
                       {"points", r.points},
                       {"ii", r.ii},
                       {"cycles", r.cycles},
                       {"spatial_use", r.spatial_use}});
  j["einsums"] = einsums;
  nlohmann::json groups = nlohmann::json::array();
  for (const GroupStats& g : st.groups)
    groups.push_back({{"name", g.name},
                      {"cycles", g.cycles},
                      {"fill_cycles", g.fill_cycles},
                      {"bottleneck", g.bottleneck},
                      {"busy_cycles", g.busy_cycles},
                      {"buffer_bytes", g.buffer_bytes},
                      {"spilled_fraction", g.spilled_fraction}});
  j["groups"] = groups;
  nlohmann::json tensors = nlohmann::json::array();
  const double wb = point.problem.word_bytes;
  for (const TensorStats& t : st.tensors)
    tensors.push_back({{"name", t.name},
                       {"home", t.home},
                       {"dram_read_bytes", t.dram_reads * wb},
                       {"dram_write_bytes", t.dram_writes * wb},
                       {"buffer_read_words", t.buffer_reads},
                       {"buffer_write_words", t.buffer_writes}});
  j["tensors"] = tensors;
  nlohmann::json considered = nlohmann::json::array();
  for (const CandidateResult& c : result.considered) {
    nlohmann::json item = {{"mapping", c.mapping}};
    if (c.error.empty()) {
      item["latency_s"] = c.latency_s;
      item["energy_j"] = c.energy_j;
    } else {
      item["error"] = c.error;
    }
    considered.push_back(item);
  }
  j["candidates"] = considered;
  return j;
}

SummaryRow summary_row(const DesignPoint& point, const DesignPointResult& result) {
  const ArchSpec& arch = point.arch;
  const Stats& st = result.stats;
  auto shape = [&](const char* n) {
    auto it = point.bindings.shapes.find(n);
    return it == point.bindings.shapes.end() ? std::string() : std::to_string(it->second);
  };
  SummaryRow cols = {{"arch", arch.name},
                     {"workload", point.workload.name},
                     {"cascade", point.cascade.name},
                     {"mapper", mapper_label(point, result)},
                     {"mapping", result.mapping.name},
                     {"batch", std::to_string(point.batch)},
                     {"heads", std::to_string(point.heads)},
                     {"P", shape("P")},
                     {"M", shape("M")},
                     {"cycles", exact(st.cycles)},
                     {"latency_s", exact(result.latency_s)}};
  for (const auto& [name, u] : st.utilization) cols.emplace_back("utilization_" + name, exact(u));
  cols.emplace_back("dram_bytes", exact(st.dram_bytes));
  cols.emplace_back("bottleneck", st.bottleneck);
  cols.emplace_back("energy_j", exact(result.energy.total_pj * 1e-12));
  cols.emplace_back("register_file_energy", register_file_energy_name(arch.register_file_energy));
  cols.emplace_back("area_mm2", exact(result.area.total_um2 * 1e-6));
  for (const auto& [name, pj] : result.energy.by_component_pj)
    cols.emplace_back("energy_" + name + "_j", exact(pj * 1e-12));
  return cols;
}

}  // namespace cascade
