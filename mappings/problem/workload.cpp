#include "arch/support/names.h"
#include "mappings/problem/workload.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "arch/support/files.h"
#include "arch/support/yaml_reader.h"

namespace cascade {

namespace {

const std::vector<std::string> kWorkloadKeys = {
    "name", "description", "cascade", "batch", "heads", "shapes", "sequence_lengths", "citations"};

}  // namespace

Workload parse_workload_text(const std::string& yaml_text, const std::string& file) {
  YamlReader r(file);
  const YAML::Node root = r.load(yaml_text);
  Workload w;
  w.file = file;
  w.loc = r.start();
  if (!root.IsMap())
    throw Error(r.start(), "a workload file must be a map (name, batch, heads, shapes, ...)");
  bool has_name = false;
  for (const auto& e : r.entries(root, "the workload")) {
    if (e.key == "name") {
      w.name = r.text(e.value, e.value_loc, "'name'");
      has_name = true;
    } else if (e.key == "description") {
      w.description = r.text(e.value, e.value_loc, "'description'");
    } else if (e.key == "cascade") {
      const std::string path = r.text(e.value, e.value_loc, "'cascade'");
      std::filesystem::path p(path);
      if (p.is_relative() && !file.empty()) p = std::filesystem::path(file).parent_path() / p;
      w.cascade = p.lexically_normal().string();
    } else if (e.key == "batch") {
      w.batch = r.positive_integer(e.value, e.value_loc, "'batch'");
    } else if (e.key == "heads") {
      w.heads = r.positive_integer(e.value, e.value_loc, "'heads'");
    } else if (e.key == "shapes") {
      if (e.value.IsNull()) continue;
      if (!e.value.IsMap()) throw Error(e.value_loc, "'shapes' must be a map of shape: integer");
      for (const auto& s : r.entries(e.value, "'shapes'"))
        w.shapes[s.key] = r.positive_integer(s.value, s.value_loc, "shape '" + s.key + "'");
    } else if (e.key == "sequence_lengths") {
      if (!e.value.IsSequence())
        throw Error(e.value_loc, "'sequence_lengths' must be a list of integers");
      for (const YAML::Node& item : e.value)
        w.sequence_lengths.push_back(
            r.positive_integer(item, r.at_value(item, e.value_loc), "a sequence length"));
    } else if (e.key == "citations") {
      w.citations = r.string_list(e.value, e.value_loc, "'citations'");
    } else {
      throw Error(e.key_loc,
                  unknown_key_message(e.key, "the workload", kWorkloadKeys));
    }
  }
  if (!has_name || w.name.empty()) throw Error(r.start(), "a workload needs a 'name'");
  return w;
}

Workload load_workload(const std::string& path) {
  return parse_workload_text(read_input_file(path, "workload file"), path);
}

std::vector<std::string> cascade_shape_names(const Cascade& cascade) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const TensorDecl& t : cascade.inputs)
    for (const std::string& r : t.ranks) add(r);
  for (const Partition& p : cascade.partitions) {
    add(p.rank);
    for (const std::string& part : p.parts) add(part);
  }
  for (const Concatenation& c : cascade.concatenations) {
    add(c.rank);
    for (const std::string& part : c.parts) add(part);
  }
  for (const ShapeDefault& s : cascade.shapes) add(s.name);
  return names;
}

std::map<std::string, std::string> workload_settings(
    const Workload& workload, const Cascade& cascade, int64_t sequence_length,
    const std::map<std::string, std::string>& overrides) {
  const std::vector<std::string> known = cascade_shape_names(cascade);
  auto knows = [&](const std::string& n) {
    return std::find(known.begin(), known.end(), n) != known.end();
  };
  // Parts of partitions are derived (M1) or mapping choices (M0), concatenated ranks are
  // derived (J = D + D): never set them here.
  std::vector<std::string> derived;
  for (const Partition& p : cascade.partitions)
    if (!p.parts.empty()) derived.push_back(p.parts.front());
  for (const Concatenation& c : cascade.concatenations) derived.push_back(c.rank);  // sum of parts
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : workload.shapes)
    if (knows(name) && std::find(derived.begin(), derived.end(), name) == derived.end())
      out[name] = std::to_string(value);
  if (sequence_length > 0)
    for (const char* rank : {"P", "M"})
      if (knows(rank)) out[rank] = std::to_string(sequence_length);
  for (const auto& [name, value] : overrides) out[name] = value;
  return out;
}

}  // namespace cascade
