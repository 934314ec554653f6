// What the two translation units of the Python module share: conversions between Python
// objects and cascade's types.
#pragma once

#include <pybind11/pybind11.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "mappings/cascade/cascade.h"

namespace cascade::python {

namespace py = pybind11;

// A dict of shapes and parameters ({"P": 1024, "scale": 0.125}; None: {}) as the CLI's --set
// gives them: each value as its Python str(), so a float keeps its shortest exact text.
std::map<std::string, std::string> settings_from(const py::object& settings);

// JSON as Python objects (dict, list, str, float, int, bool, None), through Python's json.
py::object to_python(const nlohmann::json& j);

// A cascade's validation warnings as Python UserWarnings (the CLI prints them to stderr).
void warn(const Cascade& cascade);

// A Cascade object, or a str naming one (a path, or a name in configs/cascades/).
Cascade as_cascade(const py::object& cascade);

// run, simulate, sweep (design_points.cpp).
void bind_design_points(py::module_& m);

}  // namespace cascade::python
