#include "sim/sweep/sweep.h"

#include <fmt/core.h>
#include <sqlite3.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "arch/arch_spec.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"
#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"
#include "mappings/problem/workload.h"
#include "sim/analytical/analytical_model.h"
#include "sim/model/design_point.h"
#include "sim/report/csv.h"

namespace cascade {

namespace {


using Entry = YamlReader::Entry;

// Settings a point can give besides set.NAME and arch.PATH.
const std::vector<std::string>& plain_keys() {
  static const std::vector<std::string> keys = {
      "arch", "workload", "cascade", "mapper", "seq", "batch", "heads", "register_file_energy"};
  return keys;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A value as YAML text: scalars as written, collections in flow style.
std::string as_yaml_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

void check_key(const std::string& key, const SourceLocation& loc) {
  if (std::find(plain_keys().begin(), plain_keys().end(), key) != plain_keys().end()) return;
  if (starts_with(key, "set.") && is_identifier(key.substr(4))) return;
  if (starts_with(key, "arch.") && key.size() > 5 && key.back() != '.' &&
      key.find("..") == std::string::npos)
    return;
  std::vector<std::string> known = plain_keys();
  known.push_back("set.NAME");
  known.push_back("arch.PATH");
  const std::string near = closest_name(key, plain_keys());
  throw Error(loc, "unknown setting '" + key + "'" +
                       (near.empty() ? " (settings: " + join(known, ", ") + ")"
                                     : " (did you mean '" + near + "'?)"));
}

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

// The node at `path` (map keys; in a list, the item whose `name` is the segment), or an
// Error naming where the path leaves the file.
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

uint64_t fnv1a(const std::string& text, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string format_double(double v) {
  return fmt::format("{:.17g}", v);
}

// ---- files shared by the points (read once, thread-safe)

class FileCache {
 public:
  explicit FileCache(const ConfigFinder& find) : find_(find) {}

  std::string path(const std::string& what, const std::string& folder, const std::string& given) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key = folder + "\n" + given;
    auto it = paths_.find(key);
    if (it != paths_.end()) return it->second;
    return paths_[key] = find_(what, folder, given);
  }
  std::string text(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = texts_.find(file);
    if (it != texts_.end()) return it->second;
    return texts_[file] = read_text(file);
  }
  std::shared_ptr<const ArchSpec> arch(const std::string& file) {
    return parsed(archs_, file, parse_arch_text);
  }
  std::shared_ptr<const Workload> workload(const std::string& file) {
    return parsed(workloads_, file, parse_workload_text);
  }
  std::shared_ptr<const Cascade> cascade(const std::string& file) {
    return parsed(cascades_, file, parse_cascade_text);
  }

 private:
  // A file parsed once (parsing runs outside the lock; a race parses twice, keeps one).
  template <typename T, typename Parse>
  std::shared_ptr<const T> parsed(std::map<std::string, std::shared_ptr<const T>>& cache,
                                  const std::string& file, Parse parse) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = cache.find(file);
      if (it != cache.end()) return it->second;
    }
    auto value = std::make_shared<const T>(parse(text(file), file));
    std::lock_guard<std::mutex> lock(mutex_);
    return cache.emplace(file, value).first->second;
  }

  ConfigFinder find_;
  std::mutex mutex_;
  std::map<std::string, std::string> paths_, texts_;
  std::map<std::string, std::shared_ptr<const ArchSpec>> archs_;
  std::map<std::string, std::shared_ptr<const Workload>> workloads_;
  std::map<std::string, std::shared_ptr<const Cascade>> cascades_;
};

// The files a point reads and its resolved inputs.
struct PointFiles {
  std::string arch, workload, cascade, mapping;  // paths ("" = none)
};

std::string scalar(const std::map<std::string, std::string>& settings, const std::string& key) {
  auto it = settings.find(key);
  return it == settings.end() ? std::string() : YAML::Load(it->second).as<std::string>();
}

// A positive integer setting, or `fallback` when the point does not give it.
int64_t positive_setting(const std::map<std::string, std::string>& settings, const std::string& key,
                         int64_t fallback) {
  auto it = settings.find(key);
  if (it == settings.end()) return fallback;
  const int64_t v = YAML::Load(it->second).as<int64_t>();
  if (v <= 0) throw Error(key + " must be positive, got " + it->second);
  return v;
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

std::string values_json(const SweepPoint& point) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : point.values) j[k] = v;
  return j.dump();
}

// `key`: the point's key when the caller has computed it, else "".
SweepResult evaluate(const SweepPoint& point, FileCache& cache, const std::string& key) {
  SweepResult r;
  r.index = point.index;
  r.values_json = values_json(point);
  try {
    const PointFiles files = files_of(point, cache);
    r.key = key.empty() ? point_key(point, files, cache) : key;
    // The architecture, with the point's arch.PATH values written into its YAML.
    std::shared_ptr<const ArchSpec> arch = cache.arch(files.arch);
    bool edited = false;
    YAML::Node tree;
    for (const auto& [k, v] : point.settings) {
      if (!starts_with(k, "arch.")) continue;
      if (!edited) tree.reset(YAML::Load(cache.text(files.arch)));
      edited = true;
      YAML::Node target = node_at(tree, k.substr(5), arch->name);
      target = YAML::Load(v);
    }
    ArchSpec edited_arch;
    if (edited) {
      YAML::Emitter out;
      out << tree;
      try {
        edited_arch = parse_arch_text(out.c_str(), files.arch);
      } catch (const Error& e) {
        throw Error("architecture " + arch->name + " with the point's values: " + e.message());
      }
    } else {
      edited_arch = *arch;
    }
    const std::string accounting = scalar(point.settings, "register_file_energy");
    if (!accounting.empty())
      edited_arch.register_file_energy = parse_register_file_energy(accounting);
    const std::shared_ptr<const Workload> workload = cache.workload(files.workload);
    const std::shared_ptr<const Cascade> cascade = cache.cascade(files.cascade);
    std::map<std::string, std::string> overrides;
    for (const auto& [k, v] : point.settings)
      if (starts_with(k, "set.")) overrides[k.substr(4)] = YAML::Load(v).as<std::string>();
    DesignPointSettings settings;
    settings.seq = positive_setting(point.settings, "seq", 0);  // 0: the workload's
    settings.batch = positive_setting(point.settings, "batch", workload->batch);
    settings.heads = positive_setting(point.settings, "heads", workload->heads);
    settings.overrides = overrides;
    settings.mapper = files.mapping.empty() ? scalar(point.settings, "mapper") : files.mapping;
    const DesignPoint design = make_design_point(std::move(edited_arch), *workload, *cascade, settings);
    const AnalyticalModel model(design.problem, design.arch);
    const DesignPointResult result = evaluate_design_point(design, model);
    const Stats& st = result.stats;
    r.ok = true;
    r.arch = design.arch.name;
    r.workload = workload->name;
    r.cascade = cascade->name;
    r.mapper = result.mapping.mapper.empty() ? settings.mapper : result.mapping.mapper;
    r.mapping = result.mapping.name;
    r.bottleneck = st.bottleneck;
    auto shape = [&](const char* n) {
      auto it = design.bindings.shapes.find(n);
      return it == design.bindings.shapes.end() ? 0.0 : static_cast<double>(it->second);
    };
    r.P = shape("P");
    r.M = shape("M");
    r.cycles = st.cycles;
    r.latency_s = result.latency_s;
    auto util = [&](const char* a) {
      auto it = st.utilization.find(a);
      return it == st.utilization.end() ? 0.0 : it->second;
    };
    r.util_2d = util("array_2d");
    r.util_1d = util("array_1d");
    r.dram_bytes = st.dram_bytes;
    r.energy_j = result.energy.total_pj * 1e-12;
    r.area_mm2 = result.area.total_um2 * 1e-6;
    nlohmann::json levels = nlohmann::json::object();
    for (const auto& [level, pj] : result.energy.by_level_pj) levels[level] = pj * 1e-12;
    r.energy_by_level_json = levels.dump();
  } catch (const Error& e) {
    r.ok = false;
    r.error = e.where().known() || !e.where().file.empty() ? e.what() : e.message();
  } catch (const YAML::Exception& e) {
    r.ok = false;
    r.error = std::string("bad value: ") + e.what();
  }
  return r;
}

// ---- SQLite

class Database {
 public:
  explicit Database(const std::string& file) : file_(file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK)
      fail("cannot open");
    exec(
        "CREATE TABLE IF NOT EXISTS points ("
        " key TEXT PRIMARY KEY, sweep TEXT, idx INTEGER, point TEXT, status TEXT, error TEXT,"
        " arch TEXT, workload TEXT, cascade TEXT, mapper TEXT, mapping TEXT, P REAL, M REAL,"
        " cycles REAL, latency_s REAL, util_2d REAL, util_1d REAL, dram_bytes REAL,"
        " energy_j REAL, area_mm2 REAL, bottleneck TEXT, energy_by_level TEXT)");
  }
  ~Database() {
    if (insert_) sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string m = message ? message : "unknown error";
      sqlite3_free(message);
      throw Error("sweep database '" + file_ + "': " + m);
    }
  }

  // key -> ok?
  std::map<std::string, bool> stored() {
    std::map<std::string, bool> out;
    sqlite3_stmt* st = prepare("SELECT key, status FROM points");
    while (sqlite3_step(st) == SQLITE_ROW) out[column_text(st, 0)] = column_text(st, 1) == "ok";
    sqlite3_finalize(st);
    return out;
  }

  void put(const std::string& sweep, const SweepResult& r) {
    if (!insert_)
      insert_ = prepare(
          "INSERT OR REPLACE INTO points VALUES "
          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    sqlite3_reset(insert_);
    int i = 1;
    auto text = [&](const std::string& v) {
      sqlite3_bind_text(insert_, i++, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    };
    auto real = [&](double v) { sqlite3_bind_double(insert_, i++, v); };
    text(r.key);
    text(sweep);
    sqlite3_bind_int64(insert_, i++, static_cast<sqlite3_int64>(r.index));
    text(r.values_json);
    text(r.ok ? "ok" : "error");
    text(r.error);
    for (const std::string* v : {&r.arch, &r.workload, &r.cascade, &r.mapper, &r.mapping}) text(*v);
    for (double v : {r.P, r.M, r.cycles, r.latency_s, r.util_2d, r.util_1d, r.dram_bytes,
                     r.energy_j, r.area_mm2})
      real(v);
    text(r.bottleneck);
    text(r.energy_by_level_json);
    if (sqlite3_step(insert_) != SQLITE_DONE) fail("cannot store a point");
  }

  // The stored row of `key` as CSV fields after the point's own columns.
  bool row(const std::string& key, std::vector<std::string>& fields) {
    if (!select_)
      select_ = prepare(
          "SELECT status, error, arch, workload, cascade, mapper, mapping, P, M, cycles,"
          " latency_s, util_2d, util_1d, dram_bytes, energy_j, area_mm2, bottleneck"
          " FROM points WHERE key = ?");
    sqlite3_reset(select_);
    sqlite3_bind_text(select_, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(select_) != SQLITE_ROW) return false;
    fields.clear();
    for (int c = 0; c < 17; ++c) {
      if (sqlite3_column_type(select_, c) == SQLITE_FLOAT)
        fields.push_back(format_double(sqlite3_column_double(select_, c)));
      else
        fields.push_back(column_text(select_, c));
    }
    return true;
  }

  void merge(const std::string& other) {
    sqlite3_stmt* st = prepare("ATTACH DATABASE ? AS other");
    sqlite3_bind_text(st, 1, other.c_str(), static_cast<int>(other.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fail("cannot attach '" + other + "'");
    try {
      exec("INSERT OR REPLACE INTO points SELECT * FROM other.points");
    } catch (const Error&) {
      exec("DETACH DATABASE other");
      throw;
    }
    exec("DETACH DATABASE other");
  }

  void finish() {
    if (select_) sqlite3_finalize(select_);
    select_ = nullptr;
  }

 private:
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) fail("bad statement");
    return st;
  }
  static std::string column_text(sqlite3_stmt* st, int c) {
    const unsigned char* t = sqlite3_column_text(st, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  [[noreturn]] void fail(const std::string& what) {
    throw Error("sweep database '" + file_ + "': " + what + ": " + sqlite3_errmsg(db_));
  }

  std::string file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
};

// Every arch.PATH the sweep sets must exist in every architecture it uses.
void check_arch_paths(const SweepSpec& spec, FileCache& cache) {
  std::set<std::string> archs;
  if (spec.base.count("arch")) archs.insert(YAML::Load(spec.base.at("arch")).as<std::string>());
  std::vector<std::pair<std::string, SourceLocation>> paths;
  for (const auto& [k, loc] : spec.base_loc)
    if (starts_with(k, "arch.")) paths.emplace_back(k, loc);
  for (const SweepAxis& axis : spec.axes)
    for (size_t k = 0; k < axis.keys.size(); ++k) {
      if (axis.keys[k] == "arch")
        for (const auto& v : axis.values) archs.insert(YAML::Load(v[k]).as<std::string>());
      if (starts_with(axis.keys[k], "arch.")) paths.emplace_back(axis.keys[k], axis.loc);
    }
  for (const std::string& a : archs) {
    const std::string file = cache.path("arch", "arch", a);
    const YAML::Node tree = YAML::Load(cache.text(file));
    for (const auto& [path, loc] : paths) {
      try {
        node_at(tree, path.substr(5), a + " (" + file + ")");
      } catch (const Error& e) {
        throw Error(loc, path + ": " + e.message());
      }
    }
  }
}

}  // namespace

size_t SweepSpec::points() const {
  size_t n = 1;
  for (const SweepAxis& a : axes) n *= a.values.size();
  return n;
}

SweepSpec parse_sweep_text(const std::string& yaml_text, const std::string& file) {
  const YamlReader r(file);
  const YAML::Node root = r.load(yaml_text);
  if (!root || root.IsNull()) throw Error(r.start(), "empty sweep file");
  if (!root.IsMap()) throw Error(r.start(), "a sweep file must be a YAML map");
  SweepSpec spec;
  spec.file = file;
  bool has_base = false, has_axes = false;
  for (const Entry& e : r.entries(root, "the sweep file")) {
    if (e.key == "name") {
      spec.name = r.text(e.value, e.value_loc, "'name'");
      if (!is_identifier([&] {
            std::string n = spec.name;
            std::replace(n.begin(), n.end(), '-', '_');
            return n;
          }()))
        throw Error(e.value_loc,
                    "'name' must be letters, digits, '_' or '-', got '" + spec.name + "'");
    } else if (e.key == "description") {
      spec.description = r.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "citations") {
      r.string_list(e.value, e.value_loc, "'citations'");
    } else if (e.key == "base") {
      has_base = true;
      if (!e.value.IsMap()) throw Error(e.value_loc, "'base' must be a map of settings");
      for (const Entry& b : r.entries(e.value, "'base'")) {
        if (b.key == "set") {
          if (!b.value.IsMap()) throw Error(b.value_loc, "'set' must be a map NAME: value");
          for (const Entry& s : r.entries(b.value, "'set'")) {
            if (!is_identifier(s.key))
              throw Error(s.key_loc, "'" + s.key + "' is not a shape or parameter name");
            if (!s.value.IsScalar())
              throw Error(s.value_loc, "the value of set." + s.key + " must be a number");
            spec.base["set." + s.key] = s.value.Scalar();
            spec.base_loc["set." + s.key] = s.key_loc;
          }
          continue;
        }
        check_key(b.key, b.key_loc);
        if (!b.value || b.value.IsNull()) throw Error(b.value_loc, "'" + b.key + "' has no value");
        spec.base[b.key] = as_yaml_text(b.value);
        spec.base_loc[b.key] = b.key_loc;
      }
    } else if (e.key == "axes") {
      has_axes = true;
      if (e.value.IsNull()) continue;
      if (!e.value.IsSequence())
        throw Error(e.value_loc, "'axes' must be a list; each item a map setting: [values]");
      for (const YAML::Node& item : e.value) {
        const SourceLocation loc = r.at(item.Mark());
        if (!item.IsMap() || item.size() == 0)
          throw Error(loc, "an axis is a map `setting: [values, ...]` (several settings zip)");
        SweepAxis axis;
        axis.loc = loc;
        size_t length = 0;
        for (const Entry& a : r.entries(item, "an axis")) {
          check_key(a.key, a.key_loc);
          if (std::find(axis.keys.begin(), axis.keys.end(), a.key) != axis.keys.end())
            throw Error(a.key_loc, "'" + a.key + "' twice in one axis");
          if (!a.value.IsSequence() || a.value.size() == 0)
            throw Error(a.value_loc, "the values of '" + a.key + "' must be a non-empty list");
          if (axis.keys.empty())
            length = a.value.size();
          else if (a.value.size() != length)
            throw Error(a.value_loc, fmt::format("'{}' has {} values but '{}' in the same axis "
                                                 "has {}: zipped settings need equally many",
                                                 a.key, a.value.size(), axis.keys.front(), length));
          axis.keys.push_back(a.key);
          for (size_t i = 0; i < a.value.size(); ++i) {
            if (axis.values.size() <= i) axis.values.emplace_back();
            axis.values[i].push_back(as_yaml_text(a.value[i]));
          }
        }
        spec.axes.push_back(axis);
      }
    } else {
      throw Error(e.key_loc, unknown_key_message(
                                 e.key, "the sweep file",
                                 {"name", "description", "citations", "base", "axes"}));
    }
  }
  if (spec.name.empty()) throw Error(r.start(), "missing required key 'name'");
  if (!has_base) throw Error(r.start(), "missing required key 'base'");
  if (!has_axes) throw Error(r.start(), "missing required key 'axes' (an empty list is one point)");
  // Each setting once: in the base or on one axis.
  std::map<std::string, SourceLocation> swept;
  for (const SweepAxis& a : spec.axes)
    for (const std::string& k : a.keys) {
      if (swept.count(k))
        throw Error(a.loc, "'" + k + "' is swept twice (also at line " +
                               std::to_string(swept.at(k).line) + ")");
      swept[k] = a.loc;
    }
  for (const char* required : {"arch", "workload"})
    if (!spec.base.count(required) && !swept.count(required))
      throw Error(r.start(),
                  std::string("the sweep needs '") + required + "' in 'base' or on an axis");
  return spec;
}

SweepSpec load_sweep(const std::string& path) {
  return parse_sweep_text(read_text(path), path);
}

SweepPoint sweep_point(const SweepSpec& spec, size_t index) {
  SweepPoint p;
  p.index = index;
  p.settings = spec.base;
  size_t rest = index;
  std::vector<size_t> choice(spec.axes.size());
  for (size_t a = spec.axes.size(); a-- > 0;) {
    choice[a] = rest % spec.axes[a].values.size();
    rest /= spec.axes[a].values.size();
  }
  for (size_t a = 0; a < spec.axes.size(); ++a)
    for (size_t k = 0; k < spec.axes[a].keys.size(); ++k) {
      const std::string& v = spec.axes[a].values[choice[a]][k];
      p.values.emplace_back(spec.axes[a].keys[k], v);
      p.settings[spec.axes[a].keys[k]] = v;
    }
  return p;
}

SweepResult evaluate_sweep_point(const SweepPoint& point, const ConfigFinder& find_config) {
  FileCache cache(find_config);
  return evaluate(point, cache, "");
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options,
                       const ConfigFinder& find_config) {
  if (options.shards < 1 || options.shard < 0 || options.shard >= options.shards)
    throw Error(
        fmt::format("shard {} of {}: give K/N with 0 <= K < N", options.shard, options.shards));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  FileCache cache(find_config);
  check_arch_paths(spec, cache);
  Database db(options.db);
  for (const std::string& other : options.merge) db.merge(other);

  SweepSummary summary;
  summary.points = spec.points();
  const std::map<std::string, bool> stored = db.stored();
  // Which points of this shard need computing; keys need the files each point names.
  std::vector<size_t> todo;                       // point indices, in order
  std::vector<std::string> keys(summary.points);  // "" until known (a file is missing)
  for (size_t i = 0; i < summary.points; ++i) {
    const SweepPoint p = sweep_point(spec, i);
    try {
      keys[i] = point_key(p, files_of(p, cache), cache);
    } catch (const Error&) {
      keys[i].clear();  // a file it names is missing: evaluating records the error
    }
    if (i % static_cast<size_t>(options.shards) != static_cast<size_t>(options.shard)) continue;
    ++summary.selected;
    auto it = keys[i].empty() ? stored.end() : stored.find(keys[i]);
    if (it != stored.end() && it->second)
      ++summary.reused;
    else
      todo.push_back(i);
  }

  const std::vector<std::string> todo_keys = [&] {  // read by the workers
    std::vector<std::string> k;
    for (size_t i : todo) k.push_back(keys[i]);
    return k;
  }();
  std::mutex done_mutex;
  std::vector<SweepResult> done;
  std::atomic<size_t> next{0};
  const int jobs = std::max(1, std::min<int>(options.jobs, static_cast<int>(todo.size())));
  std::vector<std::thread> workers;
  for (int w = 0; w < jobs && !todo.empty(); ++w)
    workers.emplace_back([&] {
      for (size_t n; (n = next.fetch_add(1)) < todo.size();) {
        SweepResult r = evaluate(sweep_point(spec, todo[n]), cache, todo_keys[n]);
        if (r.key.empty()) r.key = fmt::format("error-{}-{:016x}", r.index, fnv1a(r.error));
        std::lock_guard<std::mutex> lock(done_mutex);
        done.push_back(std::move(r));
      }
    });
  double last_report = 0;
  auto drain = [&] {
    std::vector<SweepResult> batch;
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      batch.swap(done);
    }
    if (batch.empty()) return;
    db.exec("BEGIN");
    for (const SweepResult& r : batch) {
      db.put(spec.name, r);
      if (keys[r.index].empty()) keys[r.index] = r.key;
      ++summary.computed;
      if (!r.ok) ++summary.failed;
    }
    db.exec("COMMIT");
  };
  while (summary.computed < todo.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    drain();
    if (options.progress && elapsed() - last_report >= 2.0) {
      last_report = elapsed();
      const double rate = summary.computed / std::max(1e-9, elapsed());
      fmt::print(stderr, "sweep {}: {}/{} points computed ({} failed), {:.1f} s, ~{:.0f} s left\n",
                 spec.name, summary.computed, todo.size(), summary.failed, elapsed(),
                 rate > 0 ? (todo.size() - summary.computed) / rate : 0.0);
    }
  }
  for (std::thread& t : workers) t.join();
  drain();

  if (!options.csv.empty()) {
    std::ofstream out(options.csv);
    if (!out) throw Error("cannot write '" + options.csv + "'");
    std::vector<std::string> header = {"index"};
    for (const SweepAxis& a : spec.axes)
      for (const std::string& k : a.keys) header.push_back(k);
    for (const char* c :
         {"status", "error", "arch", "workload", "cascade", "mapper", "mapping", "P", "M", "cycles",
          "latency_s", "util_2d", "util_1d", "dram_bytes", "energy_j", "area_mm2", "bottleneck"})
      header.push_back(c);
    for (size_t c = 0; c < header.size(); ++c) out << (c ? "," : "") << csv_field(header[c]);
    out << "\n";
    std::vector<std::string> fields;
    for (size_t i = 0; i < summary.points; ++i) {
      if (keys[i].empty() || !db.row(keys[i], fields)) continue;
      out << i;
      for (const auto& [k, v] : sweep_point(spec, i).values) out << "," << csv_field(v);
      for (const std::string& f : fields) out << "," << csv_field(f);
      out << "\n";
      ++summary.written;
    }
  }
  db.finish();
  summary.seconds = elapsed();
  return summary;
}

}  // namespace cascade
