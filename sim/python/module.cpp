// The `cascade` Python module: the libraries the CLI calls, with NumPy arrays for tensors
// and dicts for reports. This file: errors, the language (parse, print), the analyses
// (passes, ops) and the functional executor (eval, check); design_points.cpp: run,
// simulate, sweep.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>

#include "arch/support/config_paths.h"
#include "arch/support/error.h"
#include "arch/support/names.h"
#include "mappings/analysis/operator_counts.h"
#include "mappings/analysis/passes.h"
#include "mappings/cascade/parser.h"
#include "sim/analytical/search_evaluator.h"
#include "sim/functional/check.h"
#include "sim/functional/given_inputs.h"
#include "sim/python/python_support.h"

namespace cascade::python {

std::map<std::string, std::string> settings_from(const py::object& settings) {
  std::map<std::string, std::string> out;
  if (settings.is_none()) return out;
  for (const auto& [key, value] : py::cast<py::dict>(settings))
    out[py::cast<std::string>(py::str(key))] = py::cast<std::string>(py::str(value));
  return out;
}

py::object to_python(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

void warn(const Cascade& cascade) {
  for (const std::string& w : cascade.warnings)
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), 1) != 0) throw py::error_already_set();
}

Cascade as_cascade(const py::object& cascade) {
  if (py::isinstance<Cascade>(cascade)) return py::cast<Cascade>(cascade);
  const Cascade c = parse_cascade_file(
      find_config("cascade", "cascades", py::cast<std::string>(py::str(cascade))));
  warn(c);
  return c;
}

namespace {

ExecutionOptions execution(const std::string& format, const std::optional<std::string>& accumulate,
                           const std::string& exp) {
  ExecutionOptions e;
  e.storage = parse_number_format(format);
  e.accumulate = accumulate ? parse_number_format(*accumulate) : default_accumulation(e.storage);
  e.exp = parse_exp_mode(exp);
  return e;
}

// A NumPy array (or anything np.asarray takes) of real numbers as a Tensor, C order.
Tensor tensor_from(const py::handle& object, const std::string& what) {
  const py::array any = py::array::ensure(object);
  if (!any) throw Error(what + " is not an array");
  const char kind = any.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw Error(what + " has dtype " + py::cast<std::string>(py::str(any.dtype())) +
                "; give real numbers (float16/32/64 or integers)");
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(any);
  Tensor t;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) t.extents.push_back(a.shape(d));
  t.values.assign(a.data(), a.data() + a.size());
  return t;
}

py::array_t<double> to_numpy(const Tensor& t) {
  py::array_t<double> a(std::vector<py::ssize_t>(t.extents.begin(), t.extents.end()));
  if (!t.values.empty()) std::memcpy(a.mutable_data(), t.values.data(), t.values.size() * 8);
  return a;
}

GivenTensors given_from(const Cascade& c, const py::object& inputs, const std::string& option) {
  GivenTensors given;
  if (inputs.is_none()) return given;
  for (const auto& [key, value] : py::cast<py::dict>(inputs)) {
    const std::string name = py::cast<std::string>(py::str(key));
    add_given_tensor(given, c, name, tensor_from(value, option + "['" + name + "']"), "", option);
  }
  return given;
}

py::dict bindings_dict(const Bindings& b) {
  py::dict d;
  d["shapes"] = b.shapes;
  d["parameters"] = b.parameters;
  return d;
}

py::dict passes_dict(const Cascade& c) {
  const PassReport report = analyze_passes(c);
  py::dict ranks;
  for (const RankPasses& r : report.ranks) {
    py::dict per_einsum, rank;
    for (const auto& [e, p] : r.einsum_pass) per_einsum[py::str(c.einsums[e].output)] = p;
    py::list causes;
    for (const PassCause& cause : r.causes) {
      py::dict d;
      d["pass"] = cause.pass;
      d["einsum"] = c.einsums[cause.einsum].output;
      d["reads"] = cause.tensor;
      d["reducer"] = cause.reducer >= 0 ? py::object(py::str(c.einsums[cause.reducer].output))
                                        : py::object(py::none());
      causes.append(d);
    }
    rank["passes"] = r.passes;
    rank["einsums"] = per_einsum;
    rank["causes"] = causes;
    ranks[py::str(r.rank)] = rank;
  }
  py::dict out;
  out["cascade"] = c.name;
  out["passes"] = report.max_passes();
  out["ranks"] = ranks;
  return out;
}

py::dict ops_dict(const Cascade& c, const Bindings& b) {
  py::dict einsums;
  OperatorCounts total;
  for (const EinsumCost& cost : operator_counts(c, b)) {
    total += cost.total;
    py::dict d;
    d["points"] = cost.points;
    d["formula"] = cost.points_formula.empty() ? py::object(py::none())
                                               : py::object(py::str(cost.points_formula));
    d["ops"] = cost.total.ops;
    einsums[py::str(c.einsums[cost.einsum].output)] = d;
  }
  py::dict out;
  out["cascade"] = c.name;
  out["shapes"] = b.shapes;
  out["einsums"] = einsums;
  out["total"] = total.ops;
  return out;
}

py::dict eval_cascade(const py::object& cascade, const py::object& inputs,
                      const py::object& settings, const std::string& format,
                      const std::optional<std::string>& accumulate, const std::string& exp,
                      uint64_t seed, bool keep_intermediates) {
  const Cascade c = as_cascade(cascade);
  const ExecutionOptions options = execution(format, accumulate, exp);
  const PreparedInputs prepared =
      prepare_inputs(c, given_from(c, inputs, "inputs"), settings_from(settings), seed, "inputs");
  TensorMap values;
  {
    py::gil_scoped_release release;
    values = execute(c, prepared.bindings, prepared.inputs, options);
  }
  // The outputs, every Einsum's tensor on request, and the inputs drawn (as `cascade eval`
  // writes them).
  py::dict out;
  for (const std::string& name : c.outputs) out[py::str(name)] = to_numpy(values.at(name));
  if (keep_intermediates)
    for (const Einsum& e : c.einsums)
      if (!out.contains(e.output)) out[py::str(e.output)] = to_numpy(values.at(e.output));
  for (const std::string& name : prepared.drawn) out[py::str(name)] = to_numpy(values.at(name));
  return out;
}

py::dict check_cascade_py(const py::object& cascade, const py::object& inputs,
                          const py::object& against, const py::object& settings,
                          const std::string& format, const std::optional<std::string>& accumulate,
                          const std::string& exp, uint64_t seed) {
  const Cascade c = as_cascade(cascade);
  GivenTensors given = given_from(c, inputs, "inputs");
  std::map<std::string, std::string> shapes = settings_from(settings);
  infer_shapes(c, given, shapes, "inputs");
  const Bindings b = resolve_bindings(c, shapes);
  TensorMap given_inputs;
  for (const TensorDecl& d : c.inputs)
    if (const auto it = given.find(d.name); it != given.end()) {
      check_input_shape(c, b, d, it->second, "inputs");
      given_inputs[d.name] = std::move(it->second.tensor);
    }
  CheckOptions options;
  options.inputs = &given_inputs;
  options.execution = execution(format, accumulate, exp);
  options.seed = seed;
  std::map<std::string, Tensor> against_tensors;
  if (!against.is_none()) {
    for (const auto& [key, value] : py::cast<py::dict>(against)) {
      const std::string name = py::cast<std::string>(py::str(key));
      against_tensors[name] = tensor_from(value, "against['" + name + "']");
    }
    options.against = &against_tensors;
    options.against_name = "against";
  }
  CheckResult r;
  {
    py::gil_scoped_release release;
    r = check_cascade(c, b, options);
  }
  py::dict outputs;
  for (const OutputComparison& o : r.outputs) {
    py::dict d;
    d["max_abs_error"] = o.max_abs_error;
    d["max_abs_reference"] = o.reference_scale;
    d["relative_error"] = o.relative_error;
    d["tolerance"] = o.tolerance;
    d["rms_error"] = o.rms_error;
    d["rms_tolerance"] = o.rms_tolerance;
    d["bias"] = o.bias;
    d["bias_tolerance"] = o.bias_tolerance;
    d["tolerance_kind"] = o.absolute ? "absolute" : "relative";
    d["passed"] = o.passed;
    outputs[py::str(o.tensor)] = d;
  }
  py::dict out;
  out["cascade"] = c.name;
  out["reference"] = r.reference;
  out["shapes"] = b.shapes;
  out["passed"] = r.passed();
  out["outputs"] = outputs;
  return out;
}

}  // namespace

}  // namespace cascade::python

PYBIND11_MODULE(cascade, m) {
  using namespace cascade;
  using namespace cascade::python;
  install_analytical_search_evaluator();  // mapper="search" prices with it, as the CLI's
  m.doc() =
      "cascade: Einsum cascades of attention (parse, print, passes, ops), the functional "
      "executor on NumPy arrays (eval, check), and design points (run, simulate, sweep).";

  // cascade::Error as cascade.Error; the message starts with file:line:col when the error is
  // about a file's content, and .file, .line, .column hold them (None when unknown).
  static py::exception<Error> error(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object instance = py::handle(error.ptr())(e.what());
      const SourceLocation& at = e.where();
      instance.attr("file") = at.file.empty() ? py::object(py::none()) : py::str(at.file);
      instance.attr("line") = at.line > 0 ? py::object(py::int_(at.line)) : py::none();
      instance.attr("column") = at.column > 0 ? py::object(py::int_(at.column)) : py::none();
      instance.attr("message") = e.message();
      PyErr_SetObject(error.ptr(), instance.ptr());
    }
  });

  py::class_<Cascade>(m, "Cascade", "A parsed, validated Einsum cascade")
      .def_readonly("name", &Cascade::name)
      .def_readonly("description", &Cascade::description)
      .def_readonly("file", &Cascade::file)
      .def_readonly("outputs", &Cascade::outputs)
      .def_readonly("warnings", &Cascade::warnings)
      .def_property_readonly(
          "inputs",
          [](const Cascade& c) {
            py::dict d;
            for (const TensorDecl& t : c.inputs) d[py::str(t.name)] = t.ranks;
            return d;
          },
          "{name: [ranks]} in declaration order")
      .def_property_readonly(
          "einsums",
          [](const Cascade& c) {
            std::vector<std::string> lines;
            for (const Einsum& e : c.einsums) lines.push_back(print_einsum(e));
            return lines;
          },
          "Each Einsum as the printer writes it")
      .def(
          "bindings",
          [](const Cascade& c, const py::object& settings) {
            return bindings_dict(resolve_bindings(c, settings_from(settings)));
          },
          py::arg("settings") = py::none(),
          "Every shape and parameter resolved from the defaults and `settings`")
      .def("__str__", &print_cascade)
      .def("__eq__", [](const Cascade& a, const Cascade& b) { return a == b; })
      .def("__repr__", [](const Cascade& c) {
        std::string inputs;
        for (const TensorDecl& t : c.inputs)
          inputs += (inputs.empty() ? "" : ", ") + t.name + "[" + join(t.ranks, ", ") + "]";
        std::string outputs;
        for (const std::string& o : c.outputs) outputs += (outputs.empty() ? "" : ", ") + o;
        return "<cascade.Cascade " + c.name + ": " + inputs + " -> " + outputs + ">";
      });

  m.def(
      "parse",
      [](const std::string& text, const std::string& file) {
        Cascade c = parse_cascade_text(text, file);
        warn(c);
        return c;
      },
      py::arg("text"), py::arg("file") = "<string>",
      "Parses and validates cascade YAML; `file` names it in error locations");
  m.def(
      "load", [](const std::string& what) { return as_cascade(py::str(what)); }, py::arg("path"),
      "Reads a cascade file: a path, or a name in configs/cascades/ (softmax-1pass)");
  m.def(
      "print_cascade", [](const py::object& c) { return print_cascade(as_cascade(c)); },
      py::arg("cascade"), "The cascade as YAML text that parses back to the same cascade");
  m.def(
      "passes", [](const py::object& c) { return passes_dict(as_cascade(c)); }, py::arg("cascade"),
      "Pass analysis (FuseMax Sec. 3): {'passes': the most over any rank, 'ranks': {rank: "
      "{'passes', 'einsums': {einsum: pass}, 'causes': [...]}}}");
  m.def(
      "ops",
      [](const py::object& cascade, const py::object& settings) {
        const Cascade c = as_cascade(cascade);
        return ops_dict(c, resolve_bindings(c, settings_from(settings)));
      },
      py::arg("cascade"), py::arg("settings") = py::none(),
      "Operator counts per (batch, head), as the models price them: {'einsums': {name: "
      "{'points', 'formula', 'ops': {op: count}}}, 'total': {op: count}}");
  m.def("eval", &eval_cascade, py::arg("cascade"), py::arg("inputs") = py::none(), py::kw_only(),
        py::arg("settings") = py::none(), py::arg("format") = "fp32",
        py::arg("accumulate") = py::none(), py::arg("exp") = "exact", py::arg("seed") = 1,
        py::arg("keep_intermediates") = false,
        "Runs the functional executor on {name: array} (the cascade's layouts, e.g. Q[E, P] is "
        "an E x P array); ranks not in `settings` take the arrays' sizes; inputs not given are "
        "drawn N(0, 1) from `seed` and returned with the outputs. Returns {name: float64 "
        "array}, the exact values of the format.");
  m.def("check", &check_cascade_py, py::arg("cascade"), py::arg("inputs") = py::none(),
        py::kw_only(), py::arg("against") = py::none(), py::arg("settings") = py::none(),
        py::arg("format") = "fp32", py::arg("accumulate") = py::none(), py::arg("exp") = "exact",
        py::arg("seed") = 1,
        "`cascade check`: the executor against your outputs (`against`: {output: array} "
        "computed from the same inputs) or the cascade's built-in fp64 reference, under the "
        "statistical tolerance (README, 'The tolerance of cascade check'): {'passed', 'outputs': "
        "{name: {'max_abs_error', 'relative_error', 'tolerance', 'rms_error', 'rms_tolerance', "
        "'bias', 'bias_tolerance', 'passed', ...}}}");
  bind_design_points(m);
}
