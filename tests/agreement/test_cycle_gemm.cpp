// A plain GEMM (one Einsum) on R x C arrays through the cycle-level model, output- and
// weight-stationary, folds one after another and overlapped: the array's time equals the
// systolic closed forms (systolic.h); the per-PE model agrees cycle for cycle on the small
// arrays; the analytical model's fill/drain closed form gives the same busy cycles. The
// per-PE runs also go through a GemmEngine that lets their cycles pass in simulated time
// itself (as sim/rtl's Verilated tile does): the array's time stays the closed form.
// In data mode the per-PE array computes the GEMM's values from the data's operands: C equals
// the functional executor's bit for bit (with a mask on the output too: masked elements stay
// zero), and an engine that corrupts one result (a seeded bug) changes exactly that element.
// Each case is its own ctest (one SystemC simulation per process).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <systemc>

#include "mappings/cascade/parser.h"
#include "mappings/mapping/mapping_file.h"
#include "sim/analytical/analytical_model.h"
#include "sim/functional/check.h"
#include "sim/functional/executor.h"
#include "sim/systemc/cycle_model.h"
#include "sim/systemc/resident_array.h"
#include "sim/systemc/systolic.h"

namespace cascade {
namespace {

struct GemmCase {
  int64_t rows, cols, m, n, k;
  Dataflow dataflow;
  FillDrain policy;
  bool per_pe;
  bool timed_engine = false;  // per-PE runs through TimedEngine
};

// A GemmEngine that runs the per-PE model and waits its cycles in simulated time.
class TimedEngine : public GemmEngine {
 public:
  std::string name() const override { return "timed per-PE model"; }
  void check_array(const std::string&, int64_t, int64_t) const override {}
  void elaborate(int, int64_t rows, int64_t cols) override { rows_ = rows, cols_ = cols; }
  bool takes_values(NumberFormat, NumberFormat, NumberFormat) const override { return true; }
  SystolicRun run(int, NumberFormat accumulate, Dataflow dataflow, const GemmOperands& gemm,
                  bool overlap) override {
    SystolicRun r = SystolicArray(rows_, cols_, accumulate).run(dataflow, gemm, overlap);
    sc_core::wait(sc_core::sc_time(static_cast<double>(r.cycles), sc_core::SC_NS));
    ++runs;
    return r;
  }
  TileProgramRun run_program(int, const std::vector<TileStep>& program) override {
    if (!resident_) resident_ = std::make_unique<ResidentArray>(rows_, cols_, NumberFormat::BF16, ExpMode::Hardware);
    TileProgramRun r = resident_->run(program);
    sc_core::wait(sc_core::sc_time(static_cast<double>(r.cycles), sc_core::SC_NS));
    return r;
  }
  int runs = 0;

 private:
  int64_t rows_ = 0, cols_ = 0;
  std::unique_ptr<ResidentArray> resident_;
};

std::string name_of(const GemmCase& c) {
  return std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_M" + std::to_string(c.m) +
         "N" + std::to_string(c.n) + "K" + std::to_string(c.k) + "_" +
         (c.dataflow == Dataflow::OutputStationary ? "os" : "ws") + "_" + to_string(c.policy) +
         (c.per_pe ? "_per_pe" : "") + (c.timed_engine ? "_timed_engine" : "");
}

void PrintTo(const GemmCase& c, std::ostream* out) { *out << name_of(c); }

std::string arch_text(const GemmCase& c) {
  return "name: gemm-array\nclock_hz: 1e9\nword_bits: 16\ncomponents:\n"
         "  dram: {kind: dram, access_bits: 64, bandwidth_bytes_per_s: 1e18, energy_pj: {read: 1, write: 1}, area_um2: 0}\n"
         "  glb: {kind: buffer, capacity_bytes: 1073741824, access_bits: 64, banks: 1024, row_bits: 65536, energy_pj: {read: 1, write: 1}, area_um2: 1}\n"
         "  rf_2d: {kind: register_file, energy_pj: {read: 1, write: 1}, area_um2: 1}\n"
         "  mac_2d: {kind: compute, energy_pj: {mac: 1}, area_um2: 1}\n"
         "  add_1d: {kind: compute, energy_pj: {add: 1}, area_um2: 1}\n"
         "arrays:\n"
         "  array_2d: {role: matrix, rows: " + std::to_string(c.rows) + ", cols: " +
         std::to_string(c.cols) +
         ", register_file: rf_2d, register_file_entries: 16, pe_components: [mac_2d], ops: {mac: {mac: 1}}}\n"
         "  array_1d: {role: vector, cols: 16, pe_components: [add_1d], ops: {add: {add: 1}}}\n";
}

const char* kGemm = R"(name: gemm
inputs: {A: [M, K], B: [K, N]}
shapes: {M: 64, N: 64, K: 64}
einsums: |
  C[m, n] = A[m, k] * B[k, n]
outputs: [C]
)";

// The same GEMM with a causal-style mask on the output: masked elements stay zero.
const char* kMaskedGemm = R"(name: masked-gemm
inputs: {A: [M, K], B: [K, N]}
shapes: {M: 64, N: 64, K: 64}
einsums: |
  C[m, n] = A[m, k] * B[k, n]   where n <= m
outputs: [C]
)";

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string mapping_text(const GemmCase& c) {
  const int64_t R = std::min(c.rows, c.dataflow == Dataflow::OutputStationary ? c.m : c.k);
  const int64_t C = std::min(c.cols, c.n);
  std::string loops, spatial;
  if (c.dataflow == Dataflow::OutputStationary) {
    loops = "[M: " + std::to_string(ceil_div(c.m, R)) + ", N: " + std::to_string(ceil_div(c.n, C)) +
            ", K: " + std::to_string(c.k) + "]";
    spatial = "{cols: [N: " + std::to_string(C) + "], rows: [M: " + std::to_string(R) + "]}";
  } else {
    loops = "[K: " + std::to_string(ceil_div(c.k, R)) + ", N: " + std::to_string(ceil_div(c.n, C)) +
            ", M: " + std::to_string(c.m) + "]";
    spatial = "{cols: [N: " + std::to_string(C) + "], rows: [K: " + std::to_string(R) + "]}";
  }
  return "name: gemm\ntensors: {A: {home: dram}, B: {home: dram}, C: {home: dram}}\n"
         "groups:\n  - name: gemm\n    dram_loops: [batch: 1, head: 1]\n    einsums:\n"
         "      - einsum: C\n        unit: array_2d\n        buffer_loops: " + loops +
         "\n        spatial: " + spatial + "\n";
}

// The case's architecture, cascade, problem and mapping (the models keep references).
struct GemmDesign {
  explicit GemmDesign(const GemmCase& c, const char* cascade_text = kGemm)
      : arch(parse_arch_text(arch_text(c), "gemm-array.yaml")),
        cascade(parse_cascade_text(cascade_text, "gemm.yaml")),
        bindings(resolve_bindings(cascade, {{"M", std::to_string(c.m)},
                                            {"N", std::to_string(c.n)},
                                            {"K", std::to_string(c.k)}})),
        problem(make_problem(cascade, bindings, 1, 1, arch.word_bytes())),
        mapping(parse_mapping_text(mapping_text(c), "gemm-mapping.yaml")) {
    arch.arrays[0].fill_drain = c.policy;
  }
  ArchSpec arch;
  Cascade cascade;
  Bindings bindings;
  Problem problem;
  Mapping mapping;
};

// The closed form (systolic.h): R, C, T and the folds of the case's dataflow.
double closed_form(const GemmCase& c) {
  const bool os = c.dataflow == Dataflow::OutputStationary;
  const int64_t R = std::min(c.rows, os ? c.m : c.k), C = std::min(c.cols, c.n);
  const int64_t T = os ? c.k : c.m;
  const int64_t folds = os ? ceil_div(c.m, R) * ceil_div(c.n, C) : ceil_div(c.k, R) * ceil_div(c.n, C);
  return c.policy == FillDrain::None ? static_cast<double>(folds * T)
                                     : systolic_cycles(R, C, static_cast<double>(T), folds,
                                                       c.policy == FillDrain::Overlapped);
}

class CycleGemm : public ::testing::TestWithParam<GemmCase> {};

TEST_P(CycleGemm, ArrayTimeIsTheClosedForm) {
  const GemmCase& c = GetParam();
  const GemmDesign design(c);
  const ArchSpec& arch = design.arch;
  const Problem& problem = design.problem;
  const Mapping& mapping = design.mapping;
  const double closed = closed_form(c);

  const AnalyticalModel analytical(problem, arch);
  const Stats a = analytical.evaluate(mapping);
  EXPECT_DOUBLE_EQ(a.busy_cycles.at("array_2d"), closed);

  CycleModelOptions options;
  options.per_pe = c.per_pe;
  TimedEngine engine;
  if (c.timed_engine) options.gemm_engine = &engine;
  const SystemCModel model(problem, arch, options);
  const Stats s = model.evaluate(mapping);
  if (c.timed_engine) {
    EXPECT_GT(engine.runs, 0);
  }
  double fill = 0;
  if (auto it = s.stalls.find("array_2d.fill_drain"); it != s.stalls.end()) fill = it->second;
  EXPECT_NEAR(s.busy_cycles.at("array_2d") + fill, closed, 1e-6);
  // Around it: loading A and B and storing C, each at most a row per bank of the buffer (a
  // cycle) at this width, and next to nothing on the DRAM channel at this bandwidth.
  EXPECT_GE(s.cycles, closed - 1e-6);
  EXPECT_LE(s.cycles, closed + 3.01);
  RecordProperty("closed_form_cycles", std::to_string(closed));
  RecordProperty("model_cycles", std::to_string(s.cycles));
}

std::vector<GemmCase> cases() {
  std::vector<GemmCase> out;
  for (const auto& [r, m, n, k] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {16, 64, 48, 40}, {32, 96, 64, 17}, {256, 1024, 1024, 64}})
    for (Dataflow d : {Dataflow::OutputStationary, Dataflow::WeightStationary})
      for (FillDrain p : {FillDrain::PerFold, FillDrain::Overlapped}) {
        out.push_back({r, r, m, n, k, d, p, false});
        if (r <= 32) out.push_back({r, r, m, n, k, d, p, true});
        if (r == 16) out.push_back({r, r, m, n, k, d, p, true, true});
      }
  out.push_back({256, 256, 1024, 1024, 64, Dataflow::OutputStationary, FillDrain::None, false});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Gemm, CycleGemm, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<GemmCase>& i) { return name_of(i.param); });

// Data mode. `engine`: none (SystolicArray), a corrupting one (the seeded bug: the array's
// first result off by more than one), or one that takes no values (the datapath computes them).
enum class DataEngine { None, Corrupting, Declining };
struct DataCase {
  GemmCase gemm;
  NumberFormat storage;
  DataEngine engine = DataEngine::None;
  bool masked = false;  // kMaskedGemm
};

class ValueEngine : public TimedEngine {
 public:
  explicit ValueEngine(DataEngine kind) : kind_(kind) {}
  bool takes_values(NumberFormat, NumberFormat, NumberFormat) const override {
    return kind_ != DataEngine::Declining;
  }
  SystolicRun run(int unit, NumberFormat accumulate, Dataflow dataflow, const GemmOperands& gemm,
                  bool overlap) override {
    SystolicRun r = TimedEngine::run(unit, accumulate, dataflow, gemm, overlap);
    if (kind_ == DataEngine::Corrupting)
      r.c[0] += 1 + std::fabs(r.c[0]);  // still different once rounded to bf16
    return r;
  }

 private:
  DataEngine kind_;
};

std::string data_name(const DataCase& d) {
  return name_of(d.gemm) + "_" + to_string(d.storage) + (d.masked ? "_masked" : "") +
         (d.engine == DataEngine::Corrupting  ? "_corrupting_engine"
          : d.engine == DataEngine::Declining ? "_declining_engine"
                                              : "");
}

void PrintTo(const DataCase& d, std::ostream* out) { *out << data_name(d); }

class CycleGemmData : public ::testing::TestWithParam<DataCase> {};

TEST_P(CycleGemmData, TheArrayComputesTheValues) {
  const DataCase& d = GetParam();
  const GemmCase& c = d.gemm;
  const GemmDesign design(c, d.masked ? kMaskedGemm : kGemm);
  const TensorMap inputs = random_inputs(design.cascade, design.bindings, 11, 1.0);

  CycleModelOptions options;
  options.per_pe = true;
  options.inputs = &inputs;
  options.execution.storage = d.storage;
  options.execution.accumulate = default_accumulation(d.storage);
  ValueEngine engine(d.engine);
  if (d.engine != DataEngine::None) options.gemm_engine = &engine;
  const SystemCModel model(design.problem, design.arch, options);
  const CycleResult r = model.simulate(design.mapping);

  const bool fed = d.engine != DataEngine::Declining;
  EXPECT_EQ(r.data_counts.array_runs, fed ? 1 : 0);
  EXPECT_DOUBLE_EQ(r.data_counts.array_points, fed ? static_cast<double>(c.m * c.n * c.k) : 0.0);
  // The data's GEMM takes the timing's folds: the closed form, as without data.
  double fill = 0;
  if (auto it = r.stats.stalls.find("array_2d.fill_drain"); it != r.stats.stalls.end()) fill = it->second;
  EXPECT_NEAR(r.stats.busy_cycles.at("array_2d") + fill, closed_form(c), 1e-6);

  const TensorMap expected = execute(design.cascade, design.bindings, inputs, options.execution);
  const std::vector<TensorDifference> diff = compare_bitwise(expected, r.values, {"C"});
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0].elements, c.m * c.n);
  EXPECT_EQ(diff[0].differing, d.engine == DataEngine::Corrupting ? 1 : 0) << diff[0].first;
}

std::vector<DataCase> data_cases() {
  std::vector<DataCase> out;
  for (const GemmCase& c : cases())
    if (c.per_pe && !c.timed_engine)
      for (NumberFormat f : {NumberFormat::FP32, NumberFormat::BF16}) out.push_back({c, f});
  const GemmCase os{16, 16, 64, 48, 40, Dataflow::OutputStationary, FillDrain::PerFold, true, true};
  const GemmCase ws{16, 16, 64, 48, 40, Dataflow::WeightStationary, FillDrain::Overlapped, true, true};
  for (const GemmCase& c : {os, ws}) {
    out.push_back({c, NumberFormat::BF16, DataEngine::Corrupting});
    out.push_back({c, NumberFormat::BF16, DataEngine::Declining});
    GemmCase plain = c;
    plain.timed_engine = false;
    out.push_back({plain, NumberFormat::BF16, DataEngine::None, true});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Gemm, CycleGemmData, ::testing::ValuesIn(data_cases()),
                         [](const ::testing::TestParamInfo<DataCase>& i) { return data_name(i.param); });

}  // namespace
}  // namespace cascade
