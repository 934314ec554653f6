// One sweep point: its files, its key, and its evaluation through the design point (the
// analytical model, as `cascade run`).
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/arch_yaml.h"
#include "mappings/mappers/registry.h"
#include "sim/analytical/analytical_model.h"
#include "sim/model/design_point.h"
#include "sim/sweep/sweep_detail.h"
#include "sim/systemc/forked_child.h"
#include "sim/systemc/simulate_point.h"

namespace cascade::sweep_detail {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string read_text(const std::string& path) { return read_input_file(path, "file"); }

uint64_t fnv1a(const std::string& text, uint64_t h) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// A plain setting's value: the scalar as written (sweep_file.cpp checked that it is one;
// re-reading the text as YAML would turn "a: b" into a map).
std::string scalar(const std::map<std::string, std::string>& settings, const std::string& key) {
  auto it = settings.find(key);
  return it == settings.end() ? std::string() : it->second;
}

// A positive integer setting, or `fallback` when the point does not give it.
int64_t positive_setting(const std::map<std::string, std::string>& settings, const std::string& key,
                         int64_t fallback) {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  // Checked by the sweep file's reader (a positive integer up to 9e15, "1e3" allowed).
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (*end != '\0' || !(v >= 1) || v > 9.0e15 || v != std::floor(v))
    throw Error(key + " must be a positive integer, got " + it->second);
  return static_cast<int64_t>(v);
}

std::string values_json(const SweepPoint& point) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : point.values) j[k] = v;
  return j.dump();
}

// A `fidelity: cycle` point: the mapping the analytical model ranked best (`ranked`), run by
// the cycle model as `cascade simulate --timing-only` runs it (default slice scaling), in a
// forked child (SystemC runs once per process: sim/systemc/forked_child.h). The child sends
// back the Stats a row reads (doubles in JSON read back exactly); energy and latency are
// computed here from them, as simulate does; the mapping and area are the parent's.
DesignPointResult simulate_in_child(const DesignPoint& design, const DesignPointResult& ranked) {
  const std::string reply = run_in_forked_child(
      [&] {
        SimulateSettings settings;
        settings.timing_only = true;
        const Stats st = simulate_design_point(design, ranked, settings).result.stats;
        const nlohmann::json j = {{"fidelity", st.fidelity},   {"actions", st.actions},
                                  {"busy", st.busy_cycles},    {"cycles", st.cycles},
                                  {"bottleneck", st.bottleneck}, {"dram", st.dram_bytes},
                                  {"dram_read", st.dram_read_bytes},
                                  {"dram_write", st.dram_write_bytes},
                                  {"utilization", st.utilization}, {"stalls", st.stalls}};
        return j.dump();
      },
      "a fidelity: cycle point");
  const nlohmann::json j = nlohmann::json::parse(reply);
  DesignPointResult result = ranked;
  Stats& st = result.stats;
  st = Stats{};
  j.at("fidelity").get_to(st.fidelity);
  j.at("actions").get_to(st.actions);
  j.at("busy").get_to(st.busy_cycles);
  j.at("cycles").get_to(st.cycles);
  j.at("bottleneck").get_to(st.bottleneck);
  j.at("dram").get_to(st.dram_bytes);
  j.at("dram_read").get_to(st.dram_read_bytes);
  j.at("dram_write").get_to(st.dram_write_bytes);
  j.at("utilization").get_to(st.utilization);
  j.at("stalls").get_to(st.stalls);
  result.energy = energy_of(design.arch, st);
  result.latency_s = latency_of(design.arch, st);
  result.considered.clear();
  return result;
}

}  // namespace

// The node at `path` (map keys; in a list, the item whose `name` is the segment), or an
// Error naming where the path leaves the file. Handles are moved with reset(): assigning
// one yaml-cpp node to another would overwrite the first one's content in the tree.
YAML::Node node_at(const YAML::Node& root, const std::string& path, const std::string& arch_name) {
  YAML::Node node;
  node.reset(root);
  std::string walked;
  for (const std::string& segment : split_path(path)) {
    YAML::Node next;
    bool found = false;
    std::vector<std::string> known;
    if (node.IsMap()) {
      for (const auto& kv : node) {
        const std::string k = kv.first.as<std::string>();
        known.push_back(k);
        if (k == segment && !found) {
          next.reset(kv.second);
          found = true;
        }
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node)
        if (item.IsMap() && item["name"] && item["name"].IsScalar()) {
          known.push_back(item["name"].Scalar());
          if (item["name"].Scalar() == segment && !found) {
            next.reset(item);
            found = true;
          }
        }
    }
    if (!found) {
      const std::string near = closest_name(segment, known);
      throw Error("architecture " + arch_name + " has no '" + segment + "'" +
                  (walked.empty() ? "" : " under " + walked) +
                  (near.empty()
                       ? (known.empty() ? std::string()
                                        : " (it has: " + join(known, ", ") + ")")
                       : " (did you mean '" + near + "'?)"));
    }
    node.reset(next);
    walked += (walked.empty() ? "" : ".") + segment;
  }
  return node;
}

std::shared_ptr<const ArchSpec> FileCache::edited_arch(
    const std::string& file, const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string key = file;
  for (const auto& [k, v] : edits) key += fmt::format("\n{} {}={}", v.size(), k, v);  // unambiguous
  const std::shared_ptr<const ArchSpec> arch = this->arch(file);
  YAML::Node tree;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = edited_.find(key);
    if (it != edited_.end()) {
      if (!it->second.error.empty()) throw Error(it->second.error);
      return it->second.arch;
    }
    auto t = trees_.find(file);
    if (t == trees_.end()) t = trees_.emplace(file, YAML::Load(texts_.at(file))).first;
    tree.reset(YAML::Clone(t->second));  // a copy to edit (yaml-cpp trees share on assignment)
  }
  for (const auto& [k, v] : edits) {
    YAML::Node target = node_at(tree, k.substr(5), arch->name);
    target = YAML::Load(v);  // a YAML::Exception (a bad value) is not cached: it is cheap
  }
  EditedArch result;
  try {
    result.arch = std::make_shared<const ArchSpec>(parse_arch_yaml(tree, file));
  } catch (const Error& e) {
    result.error = "architecture " + arch->name + " with the point's values: " + e.message();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (edited_.size() >= kEditedArchCacheSize) edited_.clear();
    edited_.emplace(key, result);
  }
  if (!result.error.empty()) throw Error(result.error);
  return result.arch;
}

PointFiles files_of(const SweepPoint& point, FileCache& cache) {
  PointFiles f;
  f.arch = cache.path("arch", "arch", scalar(point.settings, "arch"));
  f.workload = cache.path("workload", "workloads", scalar(point.settings, "workload"));
  const std::string cascade = scalar(point.settings, "cascade");
  if (!cascade.empty()) {
    f.cascade = cache.path("cascade", "cascades", cascade);
  } else {
    const std::shared_ptr<const Workload> w = cache.workload(f.workload);
    if (w->cascade.empty())
      throw Error("workload " + w->name + " names no cascade: give 'cascade' in the sweep");
    f.cascade = w->cascade;
  }
  const std::string mapper = scalar(point.settings, "mapper");
  const std::vector<std::string> mappers = mapper_names();
  if (!mapper.empty() && std::find(mappers.begin(), mappers.end(), mapper) == mappers.end())
    f.mapping = cache.path("mapping", "mappings", mapper);
  return f;
}

std::string point_key(const SweepPoint& point, const PointFiles& files, FileCache& cache) {
  uint64_t h = fnv1a("cascade sweep point v1\n");
  for (const auto& [k, v] : point.settings) h = fnv1a(k + "=" + v + "\n", h);
  for (const std::string& f : {files.arch, files.workload, files.cascade, files.mapping})
    if (!f.empty()) h = fnv1a(cache.text(f) + "\n", h);  // contents, not where they are
  return fmt::format("{:016x}", h);
}

SweepResult evaluate_point(const SweepPoint& point, FileCache& cache, const std::string& key) {
  SweepResult r;
  r.index = point.index;
  try {
    r.values_json = values_json(point);
    const PointFiles files = files_of(point, cache);
    r.key = key.empty() ? point_key(point, files, cache) : key;
    // The architecture, with the point's arch.PATH values written into its parsed tree.
    std::shared_ptr<const ArchSpec> arch = cache.arch(files.arch);
    std::vector<std::pair<std::string, std::string>> edits;
    for (const auto& [k, v] : point.settings)
      if (starts_with(k, "arch.")) edits.emplace_back(k, v);
    ArchSpec edited_arch = edits.empty() ? *arch : *cache.edited_arch(files.arch, edits);
    const std::string accounting = scalar(point.settings, "register_file_energy");
    if (!accounting.empty())
      edited_arch.register_file_energy = parse_register_file_energy(accounting);
    const std::shared_ptr<const Workload> workload = cache.workload(files.workload);
    const std::shared_ptr<const Cascade> cascade = cache.cascade(files.cascade);
    std::map<std::string, std::string> overrides;
    for (const auto& [k, v] : point.settings)
      if (starts_with(k, "set.")) overrides[k.substr(4)] = v;
    DesignPointSettings settings;
    settings.seq = positive_setting(point.settings, "seq", 0);  // 0: the workload's
    settings.batch = positive_setting(point.settings, "batch", workload->batch);
    settings.heads = positive_setting(point.settings, "heads", workload->heads);
    settings.overrides = overrides;
    settings.mapper = files.mapping.empty() ? scalar(point.settings, "mapper") : files.mapping;
    const DesignPoint design = make_design_point(std::move(edited_arch), *workload, *cascade, settings);
    const AnalyticalModel model(design.problem, design.arch);
    const DesignPointResult ranked = evaluate_design_point(design, model);
    const DesignPointResult result =
        scalar(point.settings, "fidelity") == "cycle" ? simulate_in_child(design, ranked) : ranked;
    r.ok = true;
    r.summary = summary_row(design, result);
    r.mapping = result.mapping.name;
    auto it = design.bindings.shapes.find("P");
    r.P = it == design.bindings.shapes.end() ? 0.0 : static_cast<double>(it->second);
    r.latency_s = result.latency_s;
    r.energy_j = result.energy.total_pj * 1e-12;
    r.area_mm2 = result.area.total_um2 * 1e-6;
  } catch (const Error& e) {
    r.ok = false;
    r.error = e.where().known() || !e.where().file.empty() ? e.what() : e.message();
  } catch (const YAML::Exception& e) {
    r.ok = false;
    r.error = std::string("bad value: ") + e.what();
  } catch (const std::exception& e) {  // nothing may escape a worker thread
    r.ok = false;
    r.error = std::string("error: ") + e.what();
  }
  return r;
}


}  // namespace cascade::sweep_detail
