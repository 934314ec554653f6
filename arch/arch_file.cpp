// Architecture files (configs/arch/*.yaml; format in configs/arch/README.md): YAML ->
// ArchSpec with file:line:col errors. This file: the top level, the helpers components and
// arrays share, the whole-file checks and the entry points (arch_reader.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "arch/arch_reader.h"
#include "arch/arch_yaml.h"
#include "arch/support/files.h"
#include "arch/support/names.h"

namespace cascade {

namespace detail {

namespace {

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {"name",           "description", "citations",
                                                "clock_hz",       "clock_mhz",   "word_bits",
                                                "charge_leakage", "register_file_energy",
                                                "components",     "arrays"};
  return keys;
}

std::string format_count(double v) {
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

}  // namespace

ArchSpec ArchReader::read() {
  const YAML::Node root = has_root_ ? root_ : r_.load(text_);
  try {
    read_root(root);
  } catch (const YAML::Exception& e) {
    throw Error(r_.at(e.mark), "YAML error: " + e.msg);
  }
  validate_arch(arch_);
  return std::move(arch_);
}

void ArchReader::read_root(const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull())
    throw Error(r_.start(),
                "empty architecture file: expected a YAML map with 'name', "
                "'clock_hz' (or 'clock_mhz'), 'components' and 'arrays'");
  if (!root.IsMap())
    throw Error(r_.at(root.Mark()), "an architecture file must be a YAML map with the keys " +
                                        join(top_level_keys(), ", "));
  arch_.file = r_.file();
  std::optional<Entry> components, arrays, clock;
  bool has_name = false;
  for (const Entry& e : r_.entries(root, "the architecture file")) {
    if (e.key == "name") {
      arch_.name = r_.text(e.value, e.value_loc, "'name'");
      if (arch_.name.empty()) throw Error(e.value_loc, "'name' must not be empty");
      has_name = true;
    } else if (e.key == "description") {
      arch_.description = e.value.IsNull() ? "" : r_.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "citations") {
      arch_.citations = r_.string_list(e.value, e.value_loc, "'citations'");
    } else if (e.key == "clock_hz" || e.key == "clock_mhz") {
      if (clock)
        throw Error(e.key_loc, "give either 'clock_hz' or 'clock_mhz', not both ('" + clock->key +
                                   "' is at line " + std::to_string(clock->key_loc.line) + ")");
      clock = e;
      const double v = r_.positive_number(e.value, e.value_loc, "'" + e.key + "'");
      arch_.clock_hz = e.key == "clock_hz" ? v : v * 1e6;
    } else if (e.key == "word_bits") {
      const int64_t bits = r_.positive_integer(e.value, e.value_loc, "'word_bits'");
      if (bits % 8 != 0 || bits > 64)
        throw Error(e.value_loc,
                    "'word_bits' must be a multiple of 8 up to 64, got " + std::to_string(bits));
      arch_.word_bits = static_cast<int>(bits);
    } else if (e.key == "charge_leakage") {
      arch_.charge_leakage = r_.boolean(e.value, e.value_loc, "'charge_leakage'");
    } else if (e.key == "register_file_energy") {
      const std::string accounting = r_.text(e.value, e.value_loc, "'register_file_energy'");
      try {
        arch_.register_file_energy = parse_register_file_energy(accounting);
      } catch (const Error& bad) {
        throw Error(e.value_loc, "'register_file_energy': " + bad.message());
      }
    } else if (e.key == "components") {
      components = e;
    } else if (e.key == "arrays") {
      arrays = e;
    } else {
      throw Error(e.key_loc, unknown_key_message(e.key, "the architecture file",
                                                               top_level_keys()));
    }
  }
  if (!has_name) throw Error(r_.start(), "missing required key 'name'");
  if (!clock) throw Error(r_.start(), "missing required key 'clock_hz' (or 'clock_mhz')");
  if (!components) throw Error(r_.start(), "missing required key 'components'");
  if (!arrays) throw Error(r_.start(), "missing required key 'arrays'");
  read_components(*components);
  read_arrays(*arrays);
  finish();
}

void ArchReader::check_name(const std::string& name, const SourceLocation& loc,
                            const std::string& what) {
  if (!is_identifier(name))
    throw Error(loc, what + " name '" + name +
                         "' must be a plain name (letters, digits and '_', not starting "
                         "with a digit)");
}

std::map<std::string, ArchReader::Entry> ArchReader::known_entries(const YAML::Node& map,
                                                                   const std::string& what,
                                                                   std::vector<std::string> known,
                                                                   bool list_form) {
  if (list_form) known.insert(known.begin(), "name");
  std::map<std::string, Entry> keys;
  for (const Entry& e : r_.entries(map, what)) {
    if (std::find(known.begin(), known.end(), e.key) == known.end())
      throw Error(e.key_loc, unknown_key_message(e.key, what, known));
    keys.emplace(e.key, e);
  }
  return keys;
}

const ArchReader::Entry* ArchReader::find_entry(const std::map<std::string, Entry>& keys,
                                                const std::string& key) {
  const auto it = keys.find(key);
  return it == keys.end() ? nullptr : &it->second;
}

// ---- whole-file checks ----

void ArchReader::finish() {
  for (Component& c : arch_.components) {
    const ComponentSource& source = sources_[c.name];
    const PeArray* owner = nullptr;
    if (const auto it = owner_.find(c.name); it != owner_.end())
      owner = arch_.find_array(it->second.first);
    if (owner) {
      if (source.instances && c.instances != owner->pes())
        throw Error(*source.instances,
                    "component '" + c.name + "' is a PE component of " + owner->name + " (" +
                        std::to_string(owner->pes()) + " PEs) but declares instances: " +
                        std::to_string(c.instances) + "; leave 'instances' out");
      c.instances = owner->pes();
    }
    if (c.kind == ComponentKind::RegisterFile) {
      const PeArray* rf_of = nullptr;
      for (const PeArray& a : arch_.arrays)
        if (a.register_file == c.name) rf_of = &a;
      if (rf_of) {
        const double derived =
            static_cast<double>(rf_of->register_file_entries) * arch_.word_bytes();
        if (source.capacity && c.capacity_bytes != derived)
          throw Error(*source.capacity, "register file '" + c.name + "' holds " +
                                            format_count(c.capacity_bytes) + " bytes but " +
                                            rf_of->name + " gives register_file_entries: " +
                                            std::to_string(rf_of->register_file_entries) + " (" +
                                            format_count(derived) + " bytes); give one of them");
        c.capacity_bytes = derived;
      } else if (!source.capacity) {
        throw Error(c.loc, "register file '" + c.name +
                               "' has no capacity: give "
                               "'capacity_words' or make it an array's register_file");
      }
    }
    if (source.area_included_in) {
      const Component* target = arch_.find_component(c.area_included_in);
      if (!target) {
        std::vector<std::string> names;
        for (const Component& x : arch_.components) names.push_back(x.name);
        throw Error(*source.area_included_in,
                    "'area_included_in' of '" + c.name + "' names unknown component '" +
                        c.area_included_in + "'" + did_you_mean(c.area_included_in, names));
      }
      if (target->name == c.name)
        throw Error(*source.area_included_in,
                    "'area_included_in' of '" + c.name + "' names the component itself");
      if (!target->area_included_in.empty())
        throw Error(*source.area_included_in,
                    "'area_included_in' of '" + c.name + "' names '" + target->name +
                        "', whose own area is included in '" + target->area_included_in +
                        "'; name the component that carries the area");
    }
    if (arch_.charge_leakage && !source.leakage)
      throw Error(c.loc, "charge_leakage is true but component '" + c.name +
                             "' has no 'leakage_pw' (write 0 if it has none)");
  }
}

}  // namespace detail

ArchSpec parse_arch_text(const std::string& yaml_text, const std::string& file) {
  return detail::ArchReader(yaml_text, file).read();
}

ArchSpec parse_arch_yaml(const YAML::Node& root, const std::string& file) {
  return detail::ArchReader(root, file).read();
}

ArchSpec load_arch(const std::string& path) {
  return parse_arch_text(read_input_file(path, "architecture file"), path);
}

ArchSpec::RegisterFileEnergy parse_register_file_energy(const std::string& name) {
  if (name == "all_instances") return ArchSpec::RegisterFileEnergy::AllInstances;
  if (name == "one_instance") return ArchSpec::RegisterFileEnergy::OneInstance;
  throw Error("unknown register-file energy accounting '" + name +
              "' (known: all_instances, one_instance)");
}

std::string register_file_energy_name(ArchSpec::RegisterFileEnergy accounting) {
  return accounting == ArchSpec::RegisterFileEnergy::OneInstance ? "one_instance"
                                                                 : "all_instances";
}

}  // namespace cascade
