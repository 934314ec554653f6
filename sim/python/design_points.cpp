// The Python module's design points: run (the analytical model), simulate (the SystemC
// cycle model, in a forked child) and sweep. Reports are the CLI's JSON as dicts.
//
// simulate() runs the cycle model in a forked child (sim/systemc/forked_child.h says why): a
// fork needs no executable on a path, so an installed module works alone.
#include <pybind11/stl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "arch/support/config_paths.h"
#include "arch/support/error.h"
#include "arch/support/files.h"
#include "sim/analytical/analytical_model.h"
#include "sim/python/python_support.h"
#include "sim/report/report.h"
#include "sim/sweep/sweep.h"
#include "sim/systemc/forked_child.h"
#include "sim/systemc/simulate_point.h"

namespace cascade::python {

namespace {

// The point's files and settings from the keyword arguments of run() and simulate().
DesignPoint load_point(const std::string& arch, const std::string& workload,
                       const py::object& cascade, const std::string& mapper,
                       std::optional<int64_t> seq, std::optional<int64_t> batch,
                       std::optional<int64_t> heads, const py::object& settings,
                       const std::string& register_file_energy) {
  DesignPointFiles files{arch, workload, "", register_file_energy};
  if (py::isinstance<Cascade>(cascade)) {
    files.cascade = py::cast<const Cascade&>(cascade).file;
    if (files.cascade.empty() || !std::filesystem::exists(files.cascade))
      throw Error("cascade " + py::cast<const Cascade&>(cascade).name +
                  " was not read from a file: give run()/simulate() its path or name");
  } else if (!cascade.is_none()) {
    files.cascade = py::cast<std::string>(py::str(cascade));
  }
  DesignPointSettings s;
  s.mapper = mapper;
  auto positive = [](const char* what, std::optional<int64_t> v) -> int64_t {
    if (!v) return 0;
    if (*v < 1)
      throw Error(std::string(what) + " must be an integer >= 1, got " + std::to_string(*v));
    return *v;
  };
  s.seq = positive("seq", seq);
  s.batch = positive("batch", batch);
  s.heads = positive("heads", heads);
  s.overrides = settings_from(settings);
  DesignPoint point = load_design_point(files, s);
  warn(point.cascade);
  return point;
}

py::object run_point(const std::string& arch, const std::string& workload,
                     const py::object& cascade, const std::string& mapper,
                     std::optional<int64_t> seq, std::optional<int64_t> batch,
                     std::optional<int64_t> heads, const py::object& settings,
                     const std::string& register_file_energy) {
  const DesignPoint point = load_point(arch, workload, cascade, mapper, seq, batch, heads, settings,
                                       register_file_energy);
  nlohmann::json report;
  {
    py::gil_scoped_release release;
    const AnalyticalModel model(point.problem, point.arch);
    report = json_report(point, evaluate_design_point(point, model));
  }
  return to_python(report);
}

py::object simulate_point(const std::string& arch, const std::string& workload,
                          const py::object& cascade, const std::string& mapper,
                          std::optional<int64_t> seq, std::optional<int64_t> batch,
                          std::optional<int64_t> heads, const py::object& settings,
                          const std::string& register_file_energy, std::optional<int64_t> slices,
                          std::optional<int> tiles_in_flight, bool per_pe, bool timing_only,
                          bool data, const std::string& format,
                          const std::optional<std::string>& accumulate, const std::string& exp,
                          uint64_t seed, const std::string& register_files) {
  const DesignPoint point = load_point(arch, workload, cascade, mapper, seq, batch, heads, settings,
                                       register_file_energy);
  SimulateSettings s;
  if (slices) {
    if (*slices < 0)
      throw Error("slices must be >= 0 (0: every slice), got " + std::to_string(*slices));
    s.model.slices = *slices;
  }
  if (tiles_in_flight) {
    if (*tiles_in_flight < 1) throw Error("tiles_in_flight must be >= 1");
    s.model.tiles_in_flight = *tiles_in_flight;
  }
  s.model.per_pe = per_pe;
  if (register_files != "report" && register_files != "enforce")
    throw Error("register_files must be 'report' or 'enforce', got '" + register_files + "'");
  s.model.enforce_register_files = register_files == "enforce";
  s.timing_only = timing_only;
  s.data = data;
  s.seed = seed;
  s.execution.storage = parse_number_format(format);
  s.execution.accumulate =
      accumulate ? parse_number_format(*accumulate) : default_accumulation(s.execution.storage);
  s.execution.exp = parse_exp_mode(exp);
  const AnalyticalModel analytical(point.problem, point.arch);
  const DesignPointResult ranked = evaluate_design_point(point, analytical);
  std::string text;
  {
    py::gil_scoped_release release;  // a simulation takes seconds: let other threads run
    text = run_in_forked_child(
        [&] {
          const SimulatedPoint simulated = simulate_design_point(point, ranked, s);
          nlohmann::json j = json_report(point, simulated.result);
          j["simulation"] = simulation_json(simulated);
          return j.dump();
        },
        "simulate");
  }
  return py::module_::import("json").attr("loads")(text);
}

// A CSV cell as a number when it is one (the sweep CSV's numbers read back exactly), None
// when empty, else the text.
py::object cell(const std::string& text) {
  if (text.empty()) return py::none();
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(text.c_str(), &end, 10);
  if (*end == '\0' && errno == 0) return py::int_(i);
  const double d = std::strtod(text.c_str(), &end);
  if (*end == '\0') return py::float_(d);
  return py::str(text);
}

py::dict sweep(const std::string& file, const std::optional<std::string>& db,
               const std::optional<std::string>& csv, std::optional<int> jobs, bool progress) {
  const SweepSpec spec = load_sweep(find_config("sweep", "sweeps", file));
  SweepOptions options;
  options.db = db ? *db : spec.name + ".sqlite";
  // The rows come back from the CSV (the CLI's schema); without `csv`, a temporary one.
  const bool keep_csv = csv.has_value();
  static std::atomic<int> temporaries{0};  // unique also for sweeps in several threads
  options.csv = keep_csv ? *csv
                         : (std::filesystem::temp_directory_path() /
                            ("cascade-sweep-" + std::to_string(::getpid()) + "-" +
                             std::to_string(temporaries++) + ".csv"))
                               .string();
  options.jobs = jobs ? *jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options.jobs < 1 || options.jobs > 4096) throw Error("jobs must be from 1 to 4096");
  options.progress = progress;
  const std::vector<std::pair<std::string, std::string>> inputs = sweep_inputs(spec, find_config);
  OutputFiles::check_paths({{options.csv, "csv"}, {options.db, "db"}}, inputs);
  SweepSummary sum;
  {
    py::gil_scoped_release release;
    sum = run_sweep(spec, options, find_config);
  }
  const std::string text = read_input_file(options.csv, "sweep CSV");
  if (!keep_csv) std::filesystem::remove(options.csv);
  py::list rows;
  const py::object reader = py::module_::import("csv").attr("DictReader")(
      py::module_::import("io").attr("StringIO")(text));
  for (const py::handle row : reader) {
    py::dict converted;
    for (const auto& [key, value] : py::cast<py::dict>(row))
      converted[key] = cell(py::cast<std::string>(value));
    rows.append(converted);
  }
  py::dict out;
  out["name"] = spec.name;
  out["points"] = sum.points;
  out["computed"] = sum.computed;
  out["reused"] = sum.reused;
  out["failed"] = sum.failed;
  out["seconds"] = sum.seconds;
  out["db"] = options.db;
  out["csv"] = keep_csv ? py::object(py::str(options.csv)) : py::object(py::none());
  out["rows"] = rows;
  return out;
}

}  // namespace

void bind_design_points(py::module_& m) {
  m.def("run", &run_point, py::arg("arch"), py::arg("workload"), py::kw_only(),
        py::arg("cascade") = py::none(), py::arg("mapper") = "", py::arg("seq") = py::none(),
        py::arg("batch") = py::none(), py::arg("heads") = py::none(),
        py::arg("settings") = py::none(), py::arg("register_file_energy") = "",
        "`cascade run`: the analytical model of one design point; returns the report "
        "`run --json` writes, as a dict (cycles, latency_s, utilization, dram_bytes, "
        "energy_j, area_mm2, einsums, groups, tensors, candidates, ...)");
  m.def("simulate", &simulate_point, py::arg("arch"), py::arg("workload"), py::kw_only(),
        py::arg("cascade") = py::none(), py::arg("mapper") = "", py::arg("seq") = py::none(),
        py::arg("batch") = py::none(), py::arg("heads") = py::none(),
        py::arg("settings") = py::none(), py::arg("register_file_energy") = "",
        py::arg("slices") = py::none(), py::arg("tiles_in_flight") = py::none(),
        py::arg("per_pe") = false, py::arg("timing_only") = false, py::arg("data") = false,
        py::arg("format") = "fp32", py::arg("accumulate") = py::none(), py::arg("exp") = "exact",
        py::arg("seed") = 1, py::arg("register_files") = "report",
        "`cascade simulate`: the SystemC cycle model of one design point, in a forked child "
        "process (SystemC runs once per process), so it may be called any number of times; "
        "returns the report `simulate --json` writes: run()'s schema plus 'simulation'");
  m.def("sweep", &sweep, py::arg("file"), py::kw_only(), py::arg("db") = py::none(),
        py::arg("csv") = py::none(), py::arg("jobs") = py::none(), py::arg("progress") = false,
        "`cascade sweep`: every point of a sweep file (a path or a name in configs/sweeps/) "
        "through the analytical model, rows in SQLite `db` (default <name>.sqlite; a rerun "
        "computes only what is missing) and, when given, `csv`; returns the counts and "
        "'rows': the CSV's rows as dicts");
}

}  // namespace cascade::python
