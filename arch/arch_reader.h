// The reader behind parse_arch_text (internal to arch/): YAML -> ArchSpec with
// file:line:col errors, in three files by what they read:
//   arch_file.cpp        the top level, shared helpers, whole-file checks, the entry points
//   arch_components.cpp  `components:` (kinds, capacities, energy and area tables)
//   arch_arrays.cpp      `arrays:` (PE components, roles, ops and their actions)
// The format is in configs/arch/README.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/support/yaml_reader.h"

namespace cascade::detail {

class ArchReader {
 public:
  ArchReader(const std::string& text, const std::string& file) : text_(text), r_(file) {}
  // A tree already parsed (parse_arch_yaml): read as the text it came from would be.
  ArchReader(const YAML::Node& root, const std::string& file)
      : text_(no_text()), r_(file), has_root_(true) {
    root_.reset(root);
  }

  ArchSpec read();

 private:
  using Entry = YamlReader::Entry;
  // Where things were written, for checks made after the whole file is read.
  struct ComponentSource {
    std::optional<SourceLocation> instances, capacity, area_included_in, leakage;
  };

  // ---- the top level and shared helpers (arch_file.cpp) ----
  void read_root(const YAML::Node& root);
  void check_name(const std::string& name, const SourceLocation& loc, const std::string& what);
  // The entries of an item's map, each key checked against `known` (plus 'name' in the
  // list form), keyed by name.
  std::map<std::string, Entry> known_entries(const YAML::Node& map, const std::string& what,
                                             std::vector<std::string> known, bool list_form);
  static const Entry* find_entry(const std::map<std::string, Entry>& keys, const std::string& key);
  void finish();  // checks that need every component and array

  // `components:` and `arrays:` take either a map (name: {...}) or a list of maps that each
  // carry a 'name'; `read` gets each item's node, name, name location and form.
  template <typename Read>
  void read_named_items(const Entry& e, const std::string& key, const std::string& noun,
                        const std::string& article, const std::string& required,
                        const std::string& example, Read read) {
    if (e.value.IsMap()) {
      for (const Entry& item : r_.entries(e.value, "'" + key + "'")) {
        check_name(item.key, item.key_loc, noun);
        if (!item.value.IsMap())
          throw Error(item.value_loc,
                      noun + " '" + item.key + "' must be a map with at least " + required);
        read(item.value, item.key, item.key_loc, /*list_form=*/false);
      }
    } else if (e.value.IsSequence()) {
      for (const YAML::Node& item : e.value) {
        const SourceLocation item_loc = r_.at_value(item, e.key_loc);
        if (!item.IsMap())
          throw Error(item_loc, "an item of '" + key + "' must be a map with 'name', " + required);
        const YAML::Node name_node = item["name"];
        if (!name_node.IsDefined())
          throw Error(item_loc, article + " " + noun + " in the '" + key + "' list needs a 'name'");
        const SourceLocation name_loc = r_.at_value(name_node, item_loc);
        const std::string name = r_.text(name_node, name_loc, article + " " + noun + "'s 'name'");
        check_name(name, name_loc, noun);
        read(item, name, name_loc, /*list_form=*/true);
      }
    } else {
      throw Error(e.value_loc, "'" + key + "' must be a map (" + example + ") or a list of " +
                                   noun + "s with 'name'");
    }
  }

  // ---- components (arch_components.cpp) ----
  void read_components(const Entry& e);
  void add_component(Component c);
  Component read_component(const YAML::Node& map, const std::string& name,
                           const SourceLocation& name_loc, bool list_form);

  // ---- arrays (arch_arrays.cpp) ----
  void read_arrays(const Entry& e);
  void add_array(PeArray a);
  // Makes `component` a per-PE component of `array`.
  void claim(const std::string& component, const std::string& array, const SourceLocation& loc);
  const Component& known_component(const std::string& name, const SourceLocation& loc,
                                   const std::string& context);
  PeArray read_array(const YAML::Node& map, const std::string& name, const SourceLocation& name_loc,
                     bool list_form);
  // `action` or `component.action`.
  OpAction resolve_action(const PeArray& a, const std::vector<std::string>& pe_names,
                          const std::string& op, const Entry& act, double count);

  static const std::string& no_text() {
    static const std::string empty;
    return empty;
  }
  const std::string& text_;
  YamlReader r_;
  YAML::Node root_;
  bool has_root_ = false;
  ArchSpec arch_;
  std::map<std::string, ComponentSource> sources_;
  std::map<std::string, std::pair<std::string, SourceLocation>> owner_;  // component -> array
};

}  // namespace cascade::detail
