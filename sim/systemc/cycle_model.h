// The cycle-level model (SystemC): the architecture's units as modules that talk only
// through channels, running the mapping's plan (sim/systemc/plan.h).
//
//   Controller  walks the plan in program order and pushes each operation into its unit's
//               request FIFO (sc_fifo: a full FIFO stalls the controller).
//   Array2D     the matrix-role array (and any array with rows > 1): one run of an Einsum
//               takes its fold shape's cycles (fold_shape.h, wavefront closed forms); in
//               per-PE mode a GEMM-shaped run is simulated PE by PE (systolic.h), or by
//               the options' GemmEngine (gemm_engine.h: sim/rtl's Verilated tile).
//   Array1D     a vector array: a run takes II x points per PE (no movement between PEs);
//               in per-PE mode the Einsums of the online-softmax tail (lane_program.h) run
//               as the 1D unit's commands lane by lane (softmax_lanes.h), or on the
//               options' VectorEngine (vector_engine.h: sim/rtl's Verilated unit).
//   Dram        one channel: a transfer takes its bytes (rounded up to bursts) over the
//               bandwidth; the data arrives `latency_cycles` later (pipelined). Per group
//               a read queue (one load at a time) and a write queue (stores in order; one
//               store on the channel at a time) share the bandwidth equally while they
//               transfer; the reads run at most `tiles_in_flight` slices ahead of the
//               oldest store not yet sent.
//   GlobalBuffer banks and ports: a request of n words occupies ceil(n / row words) rows
//               spread over consecutive banks; each bank serves `ports` rows per cycle and
//               requests that share banks wait for them (bank conflicts). It also holds the
//               space a load needs while the tile it replaces is still in use; a load
//               waiting for space keeps its place among its group's, the rest go past.
//   Scoreboard  the completion channel: an operation starts when the operations it
//               depends on have completed.
// A unit takes the oldest operation whose dependencies are met among those of the next
// `tiles_in_flight` steps of its group (a controller pipelining consecutive tiles); it waits
// otherwise, and the wait is counted as a stall with its cause.
//
// Every cycle reported is a cycle some module spent: nothing is read from the analytical
// model. What the two share (and so does not check) is the per-point issue interval
// (sim/model/compute_cost.h) and the tile sizes of the loop nest (plan.h).
//
// SystemC elaborates and runs once per process: one evaluation per process (the CLI runs
// one; tests run the CLI). This header does not include SystemC.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/functional/executor.h"
#include "sim/model/model.h"
#include "sim/systemc/datapath.h"
#include "sim/systemc/gemm_engine.h"
#include "sim/systemc/vector_engine.h"
#include "sim/systemc/plan.h"
#include "sim/systemc/register_occupancy.h"

namespace cascade {

struct CycleModelOptions {
  // (batch, head) slices simulated per group; the rest are extrapolated (identical slices)
  // at the rate of the middle ones: the first and last tiles_in_flight simulated slices
  // are the pipeline's fill and drain; the rate is measured over a whole number of the
  // slices' period (steady_window.h). -1: 3 x tiles_in_flight + 1; 0: every slice.
  int64_t slices = -1;
  int tiles_in_flight = 3;     // steps a unit may run ahead of its oldest waiting operation
  bool per_pe = false;         // Array2D simulates GEMM-shaped runs PE by PE (<= 64 x 64)
  // A run that leaves a resident tile in a 2D array's register files waits until its words
  // per PE fit the entries (register_budget.h); false: not enforced, only reported.
  bool enforce_register_files = false;
  // Per-PE mode: what runs those GEMMs (nullptr: SystolicArray). Not owned; outlives the
  // model. sim/rtl's Verilated tile is one (`cascade simulate --fidelity rtl`).
  GemmEngine* gemm_engine = nullptr;
  // Per-PE mode: what runs the 1D array's softmax commands (nullptr: SoftmaxLanes). Not
  // owned; outlives the model. sim/rtl's Verilated 1D unit is one.
  VectorEngine* vector_engine = nullptr;
  std::string vcd;             // VCD file: per unit busy, buffer occupancy ("" = none)
  std::string trace;           // Chrome/Perfetto JSON: one track per unit ("" = none)
  bool progress = false;       // progress lines on stderr every few seconds
  // Data mode (datapath.h): the cascade inputs' values and the executor's number formats;
  // nullptr: timing only.
  const TensorMap* inputs = nullptr;
  ExecutionOptions execution;
};

// Detail beyond Stats that `cascade simulate` prints.
struct CycleGroupResult {
  std::string name;
  double cycles = 0;             // simulated plus extrapolated slices
  double cycles_per_slice = 0;   // the extrapolation step
  int64_t slices = 1, slices_simulated = 1;
};
struct CycleResult {
  Stats stats;
  std::vector<CycleGroupResult> groups;
  size_t operations = 0;  // simulated
  // Per-PE mode: the 2D arrays' runs simulated as programs on resident tiles (tile_program.h),
  // by Einsum name.
  std::map<std::string, int64_t> tile_programs;
  // Per 2D array with tiles kept in its register files: the most words per PE the schedule
  // held at once (register_occupancy.h).
  std::vector<RegisterOccupancy> register_files;
  double wall_seconds = 0;
  // Data mode: every tensor as the first (batch, head) slice left it (datapath.h).
  bool data = false;
  TensorMap values;
  DatapathCounts data_counts;
};

class SystemCModel : public Model {
 public:
  // Keeps references: `problem` and `arch` must outlive the model. Throws Error for a
  // design it cannot run (no DRAM bandwidth with DRAM traffic, a tile larger than the
  // buffer, per-PE mode on an array over 64 x 64).
  SystemCModel(const Problem& problem, const ArchSpec& arch, CycleModelOptions options = {});

  std::string fidelity() const override { return "cycle"; }
  Stats evaluate(const Mapping& mapping) const override;
  CycleResult simulate(const Mapping& mapping) const;

 private:
  const Problem& problem_;
  const ArchSpec& arch_;
  CycleModelOptions options_;
};

}  // namespace cascade
