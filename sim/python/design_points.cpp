// The Python module's design points: run (the analytical model), simulate (the SystemC
// cycle model, in a forked child) and sweep. Reports are the CLI's JSON as dicts.
//
// Why simulate() forks: SystemC elaborates and runs once per process (DESIGN.md, pitfalls),
// and a Python session wants more than one simulation. The parent loads and ranks the point
// (errors in the files raise here, before any fork), then a forked child runs the cycle
// model and sends the report back through a pipe; the parent never touches SystemC, so
// every child starts from a fresh kernel. A fork needs no executable on a path (an installed
// module works alone) and nothing re-reads the files. The child runs only C++ (no Python
// calls, no threads) and leaves with _exit, skipping Python's and SystemC's exit handlers.
#include <pybind11/stl.h>
#include <sys/wait.h>
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

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent went away: nothing left to tell
    done += static_cast<size_t>(n);
  }
}

// Runs `work` in a forked child and returns what it returned. An Error in the child is
// rethrown here with its location; a child that dies (a signal, a crash) is an Error too.
std::string run_in_child(const std::function<std::string()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(std::string("simulate: pipe: ") + std::strerror(errno));
  std::fflush(stdout);  // or the child's copy of buffered output is written twice
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("simulate: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    // 'R' + the result, or 'E' + file NUL line NUL column NUL message, or 'X' + message.
    std::string reply;
    try {
      reply = "R" + work();
    } catch (const Error& e) {
      const SourceLocation& at = e.where();
      reply = "E" + at.file + '\0' + std::to_string(at.line) + '\0' + std::to_string(at.column) +
              '\0' + e.message();
    } catch (const std::exception& e) {
      reply = std::string("X") + e.what();
    } catch (...) {
      reply = "Xunknown exception";
    }
    write_all(fds[1], reply);
    ::close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string reply;
  int status = 0;
  {
    py::gil_scoped_release release;  // a simulation takes seconds: let other threads run
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (reply.empty()) {
    if (WIFSIGNALED(status))
      throw Error("simulate: the simulation's process died of signal " +
                  std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")");
    throw Error("simulate: the simulation's process exited with status " +
                std::to_string(WEXITSTATUS(status)) + " without a result");
  }
  const std::string body = reply.substr(1);
  if (reply[0] == 'R') return body;
  if (reply[0] == 'E') {
    const size_t a = body.find('\0'), b = body.find('\0', a + 1), c = body.find('\0', b + 1);
    SourceLocation at;
    at.file = body.substr(0, a);
    at.line = std::atoi(body.substr(a + 1, b - a - 1).c_str());
    at.column = std::atoi(body.substr(b + 1, c - b - 1).c_str());
    throw Error(at, body.substr(c + 1));
  }
  throw std::runtime_error(body);
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
                          uint64_t seed) {
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
  s.timing_only = timing_only;
  s.data = data;
  s.seed = seed;
  s.execution.storage = parse_number_format(format);
  s.execution.accumulate =
      accumulate ? parse_number_format(*accumulate) : default_accumulation(s.execution.storage);
  s.execution.exp = parse_exp_mode(exp);
  const AnalyticalModel analytical(point.problem, point.arch);
  const DesignPointResult ranked = evaluate_design_point(point, analytical);
  const std::string text = run_in_child([&] {
    const SimulatedPoint simulated = simulate_design_point(point, ranked, s);
    nlohmann::json j = json_report(point, simulated.result);
    j["simulation"] = simulation_json(simulated);
    return j.dump();
  });
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
        py::arg("seed") = 1,
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
