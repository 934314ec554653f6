// The `constraints:` section of a mapping file (configs/mappings/README.md) and the search's
// options.
#include <cmath>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"
#include "mappings/mappers/search/search.h"

namespace cascade {

namespace {

const std::vector<std::string> kKeys = {"units",       "forbid_units", "orders",
                                        "dram_factors", "forbid_dram_factors", "fuse",
                                        "apart",       "min_utilization"};

std::vector<int64_t> integers(const YamlReader& r, const YAML::Node& v, const SourceLocation& loc,
                              const std::string& what) {
  std::vector<int64_t> out;
  if (v.IsSequence()) {
    for (const YAML::Node& x : v) out.push_back(r.positive_integer(x, r.at_value(x, loc), what));
  } else {
    out.push_back(r.positive_integer(v, loc, what));
  }
  return out;
}

}  // namespace

SearchConstraints parse_search_constraints(const std::string& text, const std::string& file) {
  const YamlReader r(file);
  const YAML::Node root = r.load(text);
  SearchConstraints c;
  if (!root.IsMap()) return c;
  for (const auto& top : r.entries(root, "the file"))
    if (top.key == "constraints") {
      if (top.value.IsNull()) return c;
      if (!top.value.IsMap()) throw Error(top.value_loc, "'constraints' must be a map");
      for (const auto& e : r.entries(top.value, "'constraints'")) {
        if (!contains(kKeys, e.key))
          throw Error(e.key_loc, "unknown key '" + e.key + "' in constraints (keys: " +
                                     join(kKeys) + ")" + did_you_mean(e.key, kKeys));
        if (e.key == "fuse" || e.key == "apart") {
          if (!e.value.IsSequence()) throw Error(e.value_loc, "'" + e.key + "' must be a list of lists of einsums");
          for (const YAML::Node& item : e.value) {
            const SourceLocation loc = r.at_value(item, e.value_loc);
            SearchConstraints::Fuse f{r.string_list(item, loc, "'" + e.key + "'"), e.key == "apart", loc};
            if (f.einsums.size() < 2) throw Error(loc, "'" + e.key + "' needs two einsums or more");
            c.fuse.push_back(std::move(f));
          }
          continue;
        }
        if (!e.value.IsMap()) throw Error(e.value_loc, "'" + e.key + "' must be a map");
        for (const auto& x : r.entries(e.value, "'" + e.key + "'")) {
          if (e.key == "units" || e.key == "forbid_units")
            c.units.push_back({x.key, r.string_list(x.value, x.value_loc, "'" + x.key + "'"),
                               e.key == "forbid_units", x.key_loc});
          else if (e.key == "orders")
            c.orders.push_back({x.key, r.string_list(x.value, x.value_loc, "'" + x.key + "'"), x.key_loc});
          else if (e.key == "min_utilization") {
            const double u = r.non_negative_number(x.value, x.value_loc, "'" + x.key + "'");
            if (u > 1) throw Error(x.value_loc, "min_utilization must be at most 1");
            c.utilization.push_back({x.key, u, x.key_loc});
          } else
            c.factors.push_back({x.key, integers(r, x.value, x.value_loc, "'" + x.key + "'"),
                                 e.key == "forbid_dram_factors", x.key_loc});
        }
      }
    }
  return c;
}

SearchConstraints load_search_constraints(const std::string& file) {
  return parse_search_constraints(read_input_file(file, "--search-constraints"), file);
}

SearchOptions search_options(const MapperOptions& options) {
  SearchOptions o;
  for (const auto& [key, value] : options) {
    if (key == "budget") {
      // N candidates, or Ns seconds.
      const bool seconds = !value.empty() && value.back() == 's';
      const std::string number = seconds ? value.substr(0, value.size() - 1) : value;
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(number, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != number.size() || !(v > 0) || (!seconds && v != std::floor(v)))
        throw Error("--search-budget: '" + value + "' is neither a number of candidates (20000) "
                    "nor seconds (10s)");
      if (seconds) o.budget_seconds = v;
      else o.budget_candidates = static_cast<int64_t>(v);
    } else if (key == "seed") {
      o.seed = std::stoull(value);
    } else if (key == "threads") {
      o.threads = std::max(1, std::stoi(value));
    } else if (key == "constraints") {
      o.constraints = load_search_constraints(value);
    } else if (key == "progress") {
      o.progress = value == "1";
    } else {
      throw Error("search: unknown option '" + key + "'");
    }
  }
  return o;
}

}  // namespace cascade
