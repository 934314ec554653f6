// validate(): names, ranks, shapes, indices and the dependency structure of a cascade.
// Fills Cascade::tensors and Cascade::warnings. Rules (mappings/README.md, "Validation"):
//
//   - the shapes (= ranks) of a cascade are the ranks of its inputs, the partitioned ranks
//     and their parts, the concatenated ranks, and the names under `shapes`; every variable must be the lower-case
//     name of one of them, every upper-case symbol in an index expression must be one;
//   - an Einsum's output indices are `v` or `v + c` (c > 0, the iterative index, at most
//     one per Einsum, which then needs an `init`);
//   - Einsums may form a dependency cycle only through reads of an iterative tensor at
//     its iterative variable (RD[m1] read while RD[m1+1] is produced); every Einsum on
//     such a cycle iterates over that variable as an output index.
//
// This file: the entry points, the helpers, and the checks of names and declarations
// (validator.h lists where the others are).
#include <algorithm>
#include <functional>
#include <set>

#include "arch/support/names.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"
#include "mappings/cascade/validator.h"

namespace cascade::detail {

namespace {

const std::vector<std::string>& storage_formats() {
  static const std::vector<std::string> formats = {"fp64", "fp32", "bf16", "fp16"};
  return formats;
}

// A cycle of the "uses" graph reachable from `roots` (visited in order), as names from the
// first repeated name back to it; empty when there is none.
std::vector<std::string> find_cycle(const std::vector<std::string>& roots,
                                    const std::map<std::string, std::set<std::string>>& uses) {
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack, cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& name) {
    state[name] = 1;
    stack.push_back(name);
    if (auto it = uses.find(name); it != uses.end())
      for (const std::string& next : it->second) {
        if (state[next] == 1) {
          cycle.assign(std::find(stack.begin(), stack.end(), next), stack.end());
          cycle.push_back(next);
          return true;
        }
        if (state[next] == 0 && visit(next)) return true;
      }
    stack.pop_back();
    state[name] = 2;
    return false;
  };
  for (const std::string& root : roots)
    if (state[root] == 0 && visit(root)) break;
  return cycle;
}

// Words the expression grammar reserves; no parameter or function may take them.
bool is_reserved(const std::string& name) {
  return name == "where" || name == "and" || name == "init" || name == "inf" || name == "index";
}

}  // namespace

std::string position_of(const SourceLocation& loc, const SourceLocation& from) {
  if (!loc.known()) return "an unknown position";
  if (loc.file == from.file && loc.line == from.line) return "column " + std::to_string(loc.column);
  if (loc.file == from.file) return "line " + std::to_string(loc.line);
  return loc.str();
}

void Validator::run() {
  c_.tensors.clear();
  c_.warnings.clear();
  if (c_.name.empty()) throw Error(location("name"), "the cascade has no name");
  check_inputs();
  check_partitions();
  check_shapes();
  check_concatenations();
  check_index_functions();
  check_parameters();
  check_shape_defaults();
  check_requirements();
  check_einsum_outputs();
  check_tensor_names();
  for (size_t i = 0; i < c_.einsums.size(); ++i) check_einsum(static_cast<int>(i));
  check_cycles();
  check_outputs();
  check_formats();
  check_workload_ranks();
  fill_tensors();
  add_warnings();
}

// ---- helpers ----

SourceLocation Validator::location(const std::string& key) const {
  const auto it = locations_.find(key);
  if (it != locations_.end()) return it->second;
  return SourceLocation{c_.file, 0, 0};
}

void Validator::add_rank(const std::string& rank) {
  if (ranks_.insert(rank).second) rank_order_.push_back(rank);
}

bool Validator::is_rank_variable(const std::string& var) const {
  return is_lower_name(var) && ranks_.count(rank_of_variable(var)) > 0;
}

std::string Validator::family(const std::string& rank) const {
  const auto it = part_owner_.find(rank);
  return it == part_owner_.end() ? rank : it->second->rank;
}

std::string Validator::suggestion(const std::string& name, const std::vector<std::string>& names) {
  const std::string close = closest_name(name, names);
  return close.empty() ? std::string() : " (did you mean '" + close + "'?)";
}

std::vector<std::string> Validator::tensor_names() const {
  std::vector<std::string> names;
  for (const TensorDecl& t : c_.inputs) names.push_back(t.name);
  for (const Einsum& e : c_.einsums) names.push_back(e.output);
  return names;
}

std::vector<std::string> Validator::parameter_names() const {
  std::vector<std::string> names;
  for (const Parameter& p : c_.parameters) names.push_back(p.name);
  return names;
}

bool Validator::is_tensor(const std::string& name) const {
  return inputs_.count(name) > 0 || producer_.count(name) > 0;
}

// ---- declarations ----

void Validator::check_inputs() {
  for (const TensorDecl& t : c_.inputs) {
    if (!is_upper_name(t.name))
      throw Error(t.loc, "input tensor name '" + t.name + "' must be upper-case");
    if (inputs_.count(t.name)) throw Error(t.loc, "input " + t.name + " is declared twice");
    inputs_[t.name] = &t;
    std::set<std::string> seen;
    for (const std::string& r : t.ranks) {
      if (!is_upper_name(r))
        throw Error(t.loc, "rank '" + r + "' of input " + t.name + " must be upper-case");
      if (!seen.insert(r).second)
        throw Error(t.loc, "input " + t.name + " lists rank " + r + " twice");
      input_rank_owner_.emplace(r, t.name);
      add_rank(r);
    }
  }
}

void Validator::check_partitions() {
  for (const Partition& p : c_.partitions) {
    if (!is_upper_name(p.rank))
      throw Error(p.loc, "partitioned rank '" + p.rank + "' must be upper-case");
    if (p.parts.size() != 2)
      throw Error(p.loc,
                  "the partition of " + p.rank + " must have exactly two parts [outer, inner]");
    if (const auto it = partitions_.find(p.rank); it != partitions_.end())
      throw Error(p.loc, "rank " + p.rank + " is partitioned twice (first at " +
                             position_of(it->second->loc, p.loc) + ")");
    partitions_[p.rank] = &p;
    if (p.parts[0] == p.parts[1])
      throw Error(p.loc, "the partition of " + p.rank + " names " + p.parts[0] + " twice");
    for (const std::string& part : p.parts) {
      if (!is_upper_name(part))
        throw Error(p.loc, "partition part '" + part + "' must be upper-case");
      if (part == p.rank)
        throw Error(p.loc, "rank " + p.rank + " cannot be a part of its own partition");
      if (const auto it = part_owner_.find(part); it != part_owner_.end())
        throw Error(p.loc, part + " is a part of the partitions of both " + it->second->rank +
                               " and " + p.rank);
      if (const auto it = input_rank_owner_.find(part); it != input_rank_owner_.end())
        throw Error(p.loc, part + " is a part of the partition of " + p.rank +
                               " and also a rank of input " + it->second +
                               ": declare inputs with the whole rank " + p.rank);
      part_owner_[part] = &p;
    }
  }
  for (const Partition& p : c_.partitions) {
    if (const auto it = part_owner_.find(p.rank); it != part_owner_.end())
      throw Error(p.loc, "rank " + p.rank + " is a part of the partition of " + it->second->rank +
                             " and is partitioned again: nested "
                             "partitions are not supported");
    add_rank(p.rank);
    for (const std::string& part : p.parts) add_rank(part);
  }
}

void Validator::check_shapes() {
  std::set<std::string> seen;
  for (const ShapeDefault& s : c_.shapes) {
    if (!is_upper_name(s.name))
      throw Error(s.loc, "shape name '" + s.name + "' must be upper-case");
    if (!seen.insert(s.name).second) throw Error(s.loc, "shape " + s.name + " is declared twice");
    if (const auto it = part_owner_.find(s.name);
        it != part_owner_.end() && it->second->parts[0] == s.name) {
      const Partition& p = *it->second;
      throw Error(s.loc, "shape " + s.name + " is the outer part of the partition of " + p.rank +
                             " and is derived (" + s.name + " = ceil(" + p.rank + " / " +
                             p.parts[1] + ")): give " + p.parts[1] + " a default instead");
    }
    defaults_[s.name] = &s;
  }
  for (const Partition& p : c_.partitions)
    if (!input_rank_owner_.count(p.rank) && !defaults_.count(p.rank))
      throw Error(p.loc, "partition of unknown rank " + p.rank +
                             ": it is neither a rank of an input nor a declared shape");
  for (const ShapeDefault& s : c_.shapes) add_rank(s.name);
}

void Validator::check_tensor_names() {
  for (const TensorDecl& t : c_.inputs)
    if (ranks_.count(t.name)) {
      const auto d = defaults_.find(t.name);
      throw Error(d != defaults_.end() ? d->second->loc : t.loc,
                  "shape " + t.name + " has the name of a tensor (input " + t.name + ")");
    }
  for (const Einsum& e : c_.einsums)
    if (ranks_.count(e.output)) {
      const auto d = defaults_.find(e.output);
      const SourceLocation where = d != defaults_.end() ? d->second->loc : e.loc;
      throw Error(where, "shape " + e.output +
                             " has the name of a tensor (produced by the "
                             "Einsum at " +
                             position_of(e.loc, where) + ")");
    }
}

void Validator::check_index_functions() {
  std::set<std::string> seen;
  for (size_t i = 0; i < c_.index_functions.size(); ++i) {
    const IndexFunction& f = c_.index_functions[i];
    if (!is_lower_name(f.name))
      throw Error(f.loc, "index function name '" + f.name + "' must be lower-case");
    if (f.name == "min" || f.name == "max" || f.name == "clamp" || is_reserved(f.name))
      throw Error(f.loc, "index function " + f.name + " has the name of a built-in");
    if (!seen.insert(f.name).second)
      throw Error(f.loc, "index function " + f.name + " is defined twice");
    std::set<std::string> params;
    for (const std::string& p : f.params) {
      if (!is_lower_name(p))
        throw Error(f.loc,
                    "parameter '" + p + "' of index function " + f.name + " must be lower-case");
      if (!params.insert(p).second)
        throw Error(f.loc, "index function " + f.name + " lists parameter " + p + " twice");
    }
    IndexScope scope;
    scope.kind = Scope::Function;
    scope.function = &f;
    scope.function_index = i;
    check_index(f.body, scope);
  }
}

void Validator::check_parameters() {
  std::set<std::string> seen;
  for (const Parameter& p : c_.parameters) {
    if (!is_lower_name(p.name))
      throw Error(p.loc, "parameter name '" + p.name + "' must be lower-case");
    if (is_reserved(p.name))
      throw Error(p.loc, "'" + p.name + "' is a reserved word and cannot name a parameter");
    if (!seen.insert(p.name).second)
      throw Error(p.loc, "parameter " + p.name + " is declared twice");
    if (ranks_.count(rank_of_variable(p.name)))
      throw Error(p.loc, "parameter '" + p.name + "' has the name of the variable of rank " +
                             rank_of_variable(p.name) + "; rename the parameter");
  }
  std::map<std::string, std::set<std::string>> uses;
  for (const Parameter& p : c_.parameters)
    check_constant_value("the default of parameter " + p.name, p.default_value, uses[p.name]);
  // Cycles between defaults.
  std::vector<std::string> order;
  for (const Parameter& p : c_.parameters) order.push_back(p.name);
  const std::vector<std::string> cycle = find_cycle(order, uses);
  if (!cycle.empty())
    throw Error(
        c_.find_parameter(cycle.front())->loc,
        "parameter defaults depend on each other in a cycle: " + join(cycle, " -> "));
}

void Validator::check_shape_defaults() {
  std::map<std::string, std::set<std::string>> uses;
  std::function<void(const IndexExpr&, std::set<std::string>&)> symbols =
      [&](const IndexExpr& e, std::set<std::string>& out) {
        if (e.op == IndexOp::Symbol) out.insert(e.name);
        if (e.op == IndexOp::Call)
          if (const IndexFunction* f = c_.find_index_function(e.name)) symbols(f->body, out);
        for (const IndexExpr& a : e.args) symbols(a, out);
      };
  for (const ShapeDefault& s : c_.shapes) {
    IndexScope scope;
    scope.kind = Scope::Shapes;
    scope.what = "the default of shape " + s.name;
    check_index(s.value, scope);
    symbols(s.value, uses[s.name]);
  }
  for (const Partition& p : c_.partitions) uses[p.parts[0]] = {p.rank, p.parts[1]};
  for (const Concatenation& cat : c_.concatenations)
    uses[cat.rank].insert(cat.parts.begin(), cat.parts.end());
  const std::vector<std::string> cycle = find_cycle(rank_order_, uses);
  if (!cycle.empty()) {
    const auto d = defaults_.find(cycle.front());
    throw Error(d != defaults_.end() ? d->second->loc : SourceLocation{c_.file, 0, 0},
                "shape defaults depend on each other in a cycle: " + join(cycle, " -> "));
  }
}

void Validator::check_requirements() {
  for (const ShapeRequirement& r : c_.requirements) {
    if (r.value_condition) {
      std::set<std::string> uses;
      check_constant_value("a requirement", r.value_condition->lhs, uses);
      check_constant_value("a requirement", r.value_condition->rhs, uses);
    } else {
      IndexScope scope;
      scope.kind = Scope::Shapes;
      scope.what = "a requirement";
      check_index(r.condition.lhs, scope);
      check_index(r.condition.rhs, scope);
    }
    if (r.message.empty())
      throw Error(r.loc, "requirement '" + print_check(r) + "' has no message");
  }
}

// ---- outputs, formats, results ----

void Validator::check_outputs() {
  if (c_.outputs.empty())
    throw Error(location("outputs"),
                "the cascade has no outputs: list the tensors it "
                "computes under 'outputs'");
  std::set<std::string> seen;
  for (const std::string& o : c_.outputs) {
    const SourceLocation loc = location("output:" + o);
    if (!seen.insert(o).second) throw Error(loc, "output " + o + " is listed twice");
    if (inputs_.count(o))
      throw Error(loc, "output " + o + " is an input: it is never produced by an Einsum");
    if (!producer_.count(o))
      throw Error(loc, "unknown output '" + o + "': no Einsum produces it" +
                           suggestion(o, tensor_names()));
  }
}

// A workload rank must be a rank the inputs use, whole (not a partition's part), and the two
// keys must name different ranks.
void Validator::check_workload_ranks() {
  std::map<std::string, std::string> by_rank;
  for (const auto& [key, rank] : c_.workload_ranks) {
    const SourceLocation loc = location("workload_rank:" + key);
    if (!input_rank_owner_.count(rank))
      throw Error(loc, "workload_ranks: " + key + " names rank " + rank +
                           ", which no input uses (input ranks: " + rank_list() + ")");
    if (part_owner_.count(rank) || partitions_.count(rank))
      throw Error(loc, "workload_ranks: " + key + " rank " + rank +
                           " is partitioned; the workload's " + key + " must be a whole rank");
    if (const auto it = by_rank.find(rank); it != by_rank.end())
      throw Error(loc, "workload_ranks: " + key + " and " + it->second + " both name rank " + rank);
    by_rank[rank] = key;
  }
}

void Validator::check_formats() {
  for (const auto& [tensor, format] : c_.formats) {
    if (!is_tensor(tensor))
      throw Error(location("format:" + tensor), "'formats' names unknown tensor '" + tensor +
                                                    "'" + suggestion(tensor, tensor_names()));
    const auto& formats = storage_formats();
    if (std::find(formats.begin(), formats.end(), format) == formats.end())
      throw Error(location("format-value:" + tensor),
                  "unknown format '" + format + "' for " + tensor + " (formats: " +
                      join(formats, ", ") + ")" + suggestion(format, formats));
  }
}

void Validator::fill_tensors() {
  auto format_of = [&](const std::string& name) {
    const auto it = c_.formats.find(name);
    return it == c_.formats.end() ? std::string() : it->second;
  };
  auto consumers_of = [&](const std::string& name) {
    std::vector<int> out;
    if (const auto it = consumers_.find(name); it != consumers_.end())
      out.assign(it->second.begin(), it->second.end());
    return out;
  };
  for (const TensorDecl& t : c_.inputs) {
    TensorInfo info;
    info.name = t.name;
    info.ranks = t.ranks;
    info.extra.assign(t.ranks.size(), 0);
    info.consumers = consumers_of(t.name);
    info.format = format_of(t.name);
    info.loc = t.loc;
    c_.tensors.push_back(std::move(info));
  }
  for (size_t i = 0; i < c_.einsums.size(); ++i) {
    const Einsum& e = c_.einsums[i];
    TensorInfo info;
    info.name = e.output;
    info.ranks = ranks_of_.at(e.output);
    info.extra = extra_of_.at(e.output);
    info.producer = static_cast<int>(i);
    info.consumers = consumers_of(e.output);
    info.format = format_of(e.output);
    info.loc = e.loc;
    c_.tensors.push_back(std::move(info));
  }
}

void Validator::add_warnings() {
  auto warn = [&](const SourceLocation& loc, const std::string& message) {
    const std::string where = loc.str();
    c_.warnings.push_back((where.empty() ? std::string() : where + ": ") + "warning: " + message);
  };
  const std::set<std::string> outputs(c_.outputs.begin(), c_.outputs.end());
  for (const TensorDecl& t : c_.inputs)
    if (!consumers_.count(t.name)) warn(t.loc, "input " + t.name + " is never read");
  for (const Einsum& e : c_.einsums) {
    bool read_by_other = false;
    if (const auto it = consumers_.find(e.output); it != consumers_.end())
      for (int k : it->second)
        if (c_.einsums[k].output != e.output) read_by_other = true;
    if (!read_by_other && !outputs.count(e.output))
      warn(e.loc, "tensor " + e.output + " is produced but never read and is not an output");
  }
}

void validate_with_locations(Cascade& cascade,
                             const std::map<std::string, SourceLocation>& locations) {
  Validator(cascade, locations).run();
}

}  // namespace cascade::detail

namespace cascade {

void validate(Cascade& cascade) { detail::validate_with_locations(cascade, {}); }

}  // namespace cascade
