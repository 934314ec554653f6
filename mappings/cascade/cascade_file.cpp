// Cascade files (configs/cascades/*.yaml): the YAML around the Einsum grammar, read through
// the one YAML reader (arch/support/yaml_reader.h). Expressions inside the YAML strings are
// parsed by expression_parser.cpp with exact file:line:col of their characters.
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "arch/support/files.h"
#include "arch/support/names.h"
#include "arch/support/yaml_reader.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/parser_detail.h"

namespace cascade {

namespace {

using Entry = YamlReader::Entry;
using detail::is_lower_name;
using detail::is_upper_name;

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> keys = {
      "name",         "description", "citations",       "inputs",  "partition", "concat",
      "shapes", "requirements", "parameters",  "index_functions", "formats", "einsums",   "outputs",
      "reference",    "workload_ranks"};
  return keys;
}

class CascadeFileReader {
 public:
  CascadeFileReader(const std::string& text, const std::string& file) : text_(text), r_(file) {
    std::string line;
    for (char ch : text_) {
      if (ch == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines_.push_back(line);
        line.clear();
      } else {
        line.push_back(ch);
      }
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines_.push_back(line);
  }

  Cascade read() {
    const YAML::Node root = r_.load(text_);
    try {
      return read_root(root);
    } catch (const YAML::Exception& e) {
      throw Error(r_.at(e.mark), "YAML error: " + e.msg);
    }
  }

 private:
  SourceLocation at(const YAML::Node& node) const { return r_.at(node.Mark()); }

  // Where the text of a scalar begins (after an opening quote): expressions inside it are
  // located by their characters.
  SourceLocation content_at(const YAML::Node& node) const {
    SourceLocation loc = at(node);
    const int pos = node.Mark().pos;
    if (pos >= 0 && static_cast<size_t>(pos) < text_.size() &&
        (text_[pos] == '"' || text_[pos] == '\''))
      loc.column += 1;
    return loc;
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    return r_.text(node, at(node), what);
  }

  void require_map(const YAML::Node& node, const std::string& key, const std::string& example) {
    if (!node.IsMap()) throw Error(at(node), "'" + key + "' must be a map, e.g. " + example);
  }

  Cascade read_root(const YAML::Node& root) {
    if (root.IsNull() || !root.IsDefined())
      throw Error(r_.start(),
                  "empty cascade file: expected a YAML map with at least 'name', "
                  "'einsums' and 'outputs'");
    if (!root.IsMap())
      throw Error(at(root),
                  "a cascade file must be a YAML map with the keys " + join(top_level_keys()));
    Cascade c;
    c.file = r_.file();
    bool has_name = false, has_einsums = false, has_outputs = false;
    for (const Entry& e : r_.entries(root, "the cascade file")) {
      const YAML::Node& value = e.value;
      if (e.key == "name") {
        has_name = true;
        c.name = scalar(value, "'name'");
        if (c.name.empty()) throw Error(at(value), "'name' must not be empty");
        locations_["name"] = content_at(value);
      } else if (e.key == "description") {
        c.description = value.IsNull() ? "" : scalar(value, "'description'");
      } else if (e.key == "citations") {
        if (!value.IsNull() && !value.IsSequence())
          throw Error(at(value), "'citations' must be a list of strings");
        c.citations = r_.string_list(value, e.value_loc, "'citations'");
      } else if (e.key == "reference") {
        read_reference(value, c);
      } else if (e.key == "workload_ranks") {
        read_workload_ranks(value, c);
      } else if (e.key == "inputs") {
        read_inputs(value, c);
      } else if (e.key == "partition") {
        read_partitions(value, c);
      } else if (e.key == "concat") {
        read_concatenations(value, c);
      } else if (e.key == "shapes") {
        read_shapes(value, c);
      } else if (e.key == "requirements") {
        read_requirements(value, c);
      } else if (e.key == "parameters") {
        read_parameters(value, c);
      } else if (e.key == "index_functions") {
        read_index_functions(value, c);
      } else if (e.key == "formats") {
        read_formats(value, c);
      } else if (e.key == "einsums") {
        has_einsums = true;
        read_einsums(value, e.key_loc, c);
      } else if (e.key == "outputs") {
        has_outputs = true;
        locations_["outputs"] = e.key_loc;
        read_outputs(value, c);
      } else {
        const std::string close = closest_name(e.key, top_level_keys());
        throw Error(e.key_loc, "unknown key '" + e.key + "'" +
                                   (close.empty() ? " (known keys: " + join(top_level_keys()) + ")"
                                                  : " (did you mean '" + close + "'?)"));
      }
    }
    if (!has_name) throw Error(r_.start(), "missing required key 'name'");
    if (!has_einsums) throw Error(r_.start(), "missing required key 'einsums'");
    if (!has_outputs) throw Error(r_.start(), "missing required key 'outputs'");
    resolve_parameters(c);
    detail::validate_with_locations(c, locations_);
    return c;
  }

  // reference: {function: softmax, causal: true} -- a flat map of strings.
  void read_reference(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    if (!value.IsMap())
      throw Error(at(value), "'reference' must be a map such as {function: softmax}");
    for (const Entry& e : r_.entries(value, "'reference'"))
      c.reference[e.key] = scalar(e.value, "a reference option value");
  }

  // workload_ranks: {heads: H, batch: N}
  void read_workload_ranks(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "workload_ranks", "{heads: H}");
    for (const auto& [k, v] : pairs(value, "'workload_ranks'")) {
      const std::string key = scalar(k, "a workload_ranks key");
      if (key != "heads" && key != "batch")
        throw Error(content_at(k), "unknown workload_ranks key '" + key +
                                       "' (heads, batch: the workload's rank it names)");
      c.workload_ranks[key] = upper_name(v, "the workload's " + key + " rank");
      locations_["workload_rank:" + key] = content_at(v);
    }
  }

  std::string upper_name(const YAML::Node& node, const std::string& what) {
    const std::string name = scalar(node, what);
    if (!is_upper_name(name))
      throw Error(content_at(node),
                  what + " '" + name + "' must be an upper-case name (letters, digits, '_')");
    return name;
  }

  std::string lower_name(const YAML::Node& node, const std::string& what) {
    const std::string name = scalar(node, what);
    if (!is_lower_name(name))
      throw Error(content_at(node),
                  what + " '" + name + "' must be a lower-case name (letters, digits, '_')");
    return name;
  }

  // The keys of a map as nodes (names are checked with their own rules and locations).
  std::vector<std::pair<YAML::Node, YAML::Node>> pairs(const YAML::Node& map,
                                                       const std::string& what) {
    r_.entries(map, what);  // each key a scalar, once
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    for (const auto& kv : map) out.emplace_back(kv.first, kv.second);
    return out;
  }

  void read_inputs(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "inputs", "{Q: [E, P], K: [E, M]}");
    for (const auto& [k, v] : pairs(value, "'inputs'")) {
      TensorDecl t;
      t.name = upper_name(k, "input tensor");
      t.loc = content_at(k);
      if (!v.IsSequence() && !v.IsNull())
        throw Error(at(v), "the ranks of input " + t.name + " must be a list, e.g. [E, P]");
      for (const YAML::Node& r : v) t.ranks.push_back(upper_name(r, "rank"));
      c.inputs.push_back(std::move(t));
    }
  }

  void read_partitions(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "partition", "{M: [M1, M0]}");
    for (const auto& [k, v] : pairs(value, "'partition'")) {
      Partition p;
      p.rank = upper_name(k, "partitioned rank");
      p.loc = content_at(k);
      if (!v.IsSequence() || v.size() != 2)
        throw Error(at(v), "the partition of " + p.rank +
                               " must list exactly two parts [outer, inner], e.g. [" + p.rank +
                               "1, " + p.rank + "0]");
      for (const YAML::Node& r : v) p.parts.push_back(upper_name(r, "partition part"));
      c.partitions.push_back(std::move(p));
    }
  }

  void read_concatenations(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "concat", "{J: [D, D]}");
    for (const auto& [k, v] : pairs(value, "'concat'")) {
      Concatenation cat;
      cat.rank = upper_name(k, "concatenated rank");
      cat.loc = content_at(k);
      if (!v.IsSequence() || v.size() < 2)
        throw Error(at(v), "the concatenation " + cat.rank +
                               " must list at least two part ranks, e.g. [D, D]");
      for (const YAML::Node& r : v) cat.parts.push_back(upper_name(r, "concatenated part"));
      c.concatenations.push_back(std::move(cat));
    }
  }

  void read_shapes(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "shapes", "{P: 256, M0: 64}");
    for (const auto& [k, v] : pairs(value, "'shapes'")) {
      ShapeDefault s;
      s.name = upper_name(k, "shape");
      s.loc = content_at(k);
      const std::string text = scalar(v, "the default of shape " + s.name);
      s.value = parse_index_expression(text, content_at(v));
      c.shapes.push_back(std::move(s));
    }
  }

  void read_requirements(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    if (!value.IsSequence())
      throw Error(at(value), "'requirements' must be a list of {check: \"...\", message: \"...\"}");
    for (const YAML::Node& item : value) {
      if (!item.IsMap())
        throw Error(at(item),
                    "a requirement must be a map {check: \"W % 2 == 1\", message: \"...\"}");
      ShapeRequirement r;
      r.loc = at(item);
      bool has_check = false, has_message = false;
      for (const Entry& e : r_.entries(item, "a requirement")) {
        if (e.key == "check") {
          has_check = true;
          const SourceLocation loc = content_at(e.value);
          detail::parse_check(scalar(e.value, "'check'"), loc, r);
          r.loc = loc;
        } else if (e.key == "message") {
          has_message = true;
          r.message = scalar(e.value, "'message'");
        } else {
          throw Error(e.key_loc, "unknown key '" + e.key +
                                     "' in a requirement (expected 'check' and 'message')");
        }
      }
      if (!has_check) throw Error(at(item), "requirement without 'check'");
      if (!has_message || r.message.empty())
        throw Error(at(item), "requirement without 'message' (what to tell the user)");
      c.requirements.push_back(std::move(r));
    }
  }

  void read_parameters(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "parameters", "{scale: 1/sqrt(E)}");
    for (const auto& [k, v] : pairs(value, "'parameters'")) {
      Parameter p;
      p.name = lower_name(k, "parameter");
      p.loc = content_at(k);
      const std::string text = scalar(v, "the default of parameter " + p.name);
      p.default_value = parse_value_expression(text, content_at(v));
      c.parameters.push_back(std::move(p));
    }
  }

  void read_index_functions(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "index_functions", "{\"start(p)\": \"clamp(p - W/2, 0, M - W)\"}");
    for (const auto& [k, v] : pairs(value, "'index_functions'")) {
      IndexFunction f;
      std::tie(f.name, f.params) =
          detail::parse_function_head(scalar(k, "an index function"), content_at(k), &f.loc);
      const std::string text = scalar(v, "the body of index function " + f.name);
      f.body = parse_index_expression(text, content_at(v));
      c.index_functions.push_back(std::move(f));
    }
  }

  void read_formats(const YAML::Node& value, Cascade& c) {
    if (value.IsNull()) return;
    require_map(value, "formats", "{BQK: bf16}");
    for (const auto& [k, v] : pairs(value, "'formats'")) {
      const std::string tensor = scalar(k, "a formats entry");
      c.formats[tensor] = scalar(v, "the format of " + tensor);
      locations_["format:" + tensor] = content_at(k);
      locations_["format-value:" + tensor] = content_at(v);
    }
  }

  void read_outputs(const YAML::Node& value, Cascade& c) {
    if (value.IsScalar()) {  // `outputs: AV` is one output
      c.outputs.push_back(value.Scalar());
      locations_.emplace("output:" + value.Scalar(), content_at(value));
      return;
    }
    if (!value.IsSequence() || value.size() == 0)
      throw Error(at(value), "'outputs' must list the output tensors, e.g. [AV]");
    for (const YAML::Node& item : value) {
      const std::string name = scalar(item, "an output");
      c.outputs.push_back(name);
      locations_.emplace("output:" + name, content_at(item));
    }
  }

  // One Einsum per line of a literal block scalar (or per item of a list of strings).
  void read_einsums(const YAML::Node& value, const SourceLocation& key_loc, Cascade& c) {
    if (value.IsNull()) throw Error(key_loc, "empty 'einsums': a cascade needs at least one Einsum");
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        const std::string text = scalar(item, "an Einsum");
        if (text.find('\n') != std::string::npos)
          throw Error(at(item), "an Einsum must fit on one line");
        add_einsum_line(text, content_at(item), c);
      }
    } else {
      const std::string text = scalar(value, "'einsums'");
      const int pos = value.Mark().pos;
      const char style = pos >= 0 && static_cast<size_t>(pos) < text_.size() ? text_[pos] : ' ';
      if (style == '>')
        throw Error(at(value),
                    "'einsums' must be a literal block ('|'), not a folded one ('>'): each "
                    "line is one Einsum");
      if (style == '|') {
        read_literal_block(text, value.Mark().line + 1, c);
      } else {
        if (text.find('\n') != std::string::npos)
          throw Error(at(value),
                      "'einsums' must be a literal block ('einsums: |'), one Einsum per line");
        add_einsum_line(text, content_at(value), c);
      }
    }
    if (c.einsums.empty())
      throw Error(at(value), "empty 'einsums': a cascade needs at least one Einsum");
  }

  // The content lines of a literal block follow its indicator line one for one; each
  // line's indentation is measured in the raw text. `first_line`: 0-based line of the
  // first content line.
  void read_literal_block(const std::string& text, int first_line, Cascade& c) {
    std::vector<std::string> content;
    std::stringstream stream(text);
    for (std::string line; std::getline(stream, line);) content.push_back(line);
    for (size_t i = 0; i < content.size(); ++i) {
      const std::string& t = content[i];
      if (t.find_first_not_of(" \t\r") == std::string::npos) continue;
      const size_t raw_index = static_cast<size_t>(first_line) + i;
      int indent = 0;
      if (raw_index < lines_.size()) {
        const std::string& raw = lines_[raw_index];
        if (raw.size() >= t.size() && raw.compare(raw.size() - t.size(), t.size(), t) == 0)
          indent = static_cast<int>(raw.size() - t.size());
        else if (const size_t found = raw.find(t); found != std::string::npos)
          indent = static_cast<int>(found);
      }
      add_einsum_line(t, SourceLocation{r_.file(), static_cast<int>(raw_index) + 1, indent + 1},
                      c);
    }
  }

  void add_einsum_line(const std::string& line, SourceLocation loc, Cascade& c) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') return;  // blank or comment
    loc.column += static_cast<int>(first);
    c.einsums.push_back(parse_einsum(line.substr(first), loc));
  }

  // Lower-case names that are declared parameters become ExprOp::Parameter, and each
  // concat(j: ...) gets the variables its parts bind from the `concat` declaration of J
  // (left empty when the part count differs: validate() reports that).
  static void resolve_parameters(Cascade& c) {
    std::set<std::string> names;
    for (const Parameter& p : c.parameters) names.insert(p.name);
    std::function<void(Expr&)> visit = [&](Expr& e) {
      if (e.op == ExprOp::Index && e.indices.size() == 1 && e.indices[0].op == IndexOp::Variable &&
          names.count(e.indices[0].name)) {
        e.op = ExprOp::Parameter;
        e.name = e.indices[0].name;
        e.indices.clear();
      }
      if (e.op == ExprOp::Concat && e.indices.size() == 1)
        if (const Concatenation* cat = c.find_concatenation(rank_of_variable(e.indices[0].name));
            cat != nullptr && cat->parts.size() == e.args.size()) {
          e.reduce_vars.clear();
          for (const std::string& part : cat->parts) e.reduce_vars.push_back(variable_of_rank(part));
        }
      for (Expr& a : e.args) visit(a);
    };
    for (Parameter& p : c.parameters) visit(p.default_value);
    for (ShapeRequirement& r : c.requirements)
      if (r.value_condition) {
        visit(r.value_condition->lhs);
        visit(r.value_condition->rhs);
      }
    for (Einsum& e : c.einsums) {
      visit(e.value);
      if (e.init) visit(e.init->value);
    }
  }

  const std::string& text_;
  YamlReader r_;
  std::vector<std::string> lines_;
  std::map<std::string, SourceLocation> locations_;
};

}  // namespace

Cascade parse_cascade_file(const std::string& path) {
  return parse_cascade_text(read_input_file(path, "cascade file"), path);
}

Cascade parse_cascade_text(const std::string& yaml_text, const std::string& file) {
  return CascadeFileReader(yaml_text, file).read();
}

}  // namespace cascade
