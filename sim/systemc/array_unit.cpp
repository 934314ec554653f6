// The Array2D / Array1D module: an array unit runs its operations one at a time, for the
// cycles its fold closed forms give or, in per-PE mode, for those its engines take (the
// per-PE systolic model or the Verilated tile for GEMMs and tile programs, the lane model or
// the Verilated 1D unit for the softmax commands), and the global buffer's bank conflicts.
#include <algorithm>
#include <memory>
#include <vector>

#include "sim/systemc/systolic.h"
#include "sim/systemc/units.h"

namespace cascade::cycle {

void ArrayUnit::execute(int op) {
  const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
  if (shared_.registers) shared_.registers->started(op);  // Unit::run saw its entries free
  double conflict = 0;
  const double t = now();
  const double buffer = shared_.buffer->request(w.buffer_words, w.first_bank, &conflict);
  double cycles = w.compute_cycles, stream = w.stream_cycles;
  try {
    // The engines may let simulated time pass (a clocked RTL model): they return when done.
    if (w.gemm_per_pe) cycles = run_gemm(op);
    if (w.tile_role != TileRole::None) cycles = static_cast<double>(run_program(op, &stream).cycles);
    if (w.lane_command >= 0) cycles = stream = run_lanes(op);  // every cycle busy
  } catch (...) {  // an engine's or the datapath's error stops the simulation
    shared_.failure = std::current_exception();
    sc_core::sc_stop();
    return;
  }
  const double duration = std::max(cycles, buffer);
  time.add(t, std::min(cycles, stream), "busy");
  time.add(t + stream, cycles - stream, "fill_drain");
  time.add(t + cycles, buffer - cycles, "bank_conflict");
  wait_cycles(duration - (now() - t));
  finished(op);
}

double ArrayUnit::run_gemm(int op) {
  const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
  // Data mode's first slice: the operands the datapath gathered for this run (their C is
  // the values that flow on); otherwise zeros of the run's shape, for the timing.
  GemmOperands g;
  const bool data = shared_.datapath && shared_.datapath->take_gemm(op, g);
  if (!data) {
    g.m = w.gemm_m, g.n = w.gemm_n, g.k = w.gemm_k;
    g.a.assign(static_cast<size_t>(g.m * g.k), 0.0);
    g.b.assign(static_cast<size_t>(g.k * g.n), 0.0);
  }
  const NumberFormat accumulate = data ? shared_.datapath->accumulate() : accumulate_;
  const SystolicRun run = shared_.gemm_engine
                              ? shared_.gemm_engine->run(index_, accumulate, w.dataflow, g, w.overlap)
                              : SystolicArray(rows_, cols_, accumulate).run(w.dataflow, g, w.overlap);
  if (data) shared_.datapath->put_gemm(op, run.c);
  return static_cast<double>(run.cycles);
}

TileProgramRun ArrayUnit::run_program(int op, double* busy) {
  const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
  const std::vector<TileStep> program = tile_program(w.tile_role, w.tile_folds, w.tile_entries);
  ++shared_.tile_programs[static_cast<size_t>(shared_.plan->ops[static_cast<size_t>(op)].einsum)];
  if (!shared_.gemm_engine && !resident_)
    resident_ = std::make_unique<ResidentArray>(rows_, cols_, NumberFormat::BF16, shared_.tile_exp,
                                                w.tile_entries);
  TileProgramRun run = shared_.gemm_engine ? shared_.gemm_engine->run_program(index_, program)
                                           : resident_->run(program);
  // Busy: the first step's acceptance to the end of the last one's hold (the rest: results leaving).
  *busy = run.accepted.empty() ? 0
                               : static_cast<double>(run.accepted.back() - run.accepted.front() +
                                                     tile_step_hold(program.back().op, shared_.tile_exp));
  return run;
}

double ArrayUnit::run_lanes(int op) {
  const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
  if (w.lane_rounds <= 0) return 0;  // a partner: its leader's command computed it
  // Data mode's first slice: the points' operands (their results flow on); the commands up
  // to the run's count on zeros (a tile with fewer points times as the others).
  std::vector<LaneBatch> commands;
  const bool data = shared_.datapath && shared_.datapath->take_lanes(op, commands);
  const std::vector<double> zeros(static_cast<size_t>(cols_), 0.0);
  while (commands.size() < static_cast<size_t>(w.lane_rounds))
    commands.push_back(LaneBatch{static_cast<LaneCommand>(w.lane_command), zeros, zeros, zeros});
  const NumberFormat storage = data ? shared_.datapath->storage() : NumberFormat::FP32;
  const LaneRun run = shared_.vector_engine ? shared_.vector_engine->run(index_, commands)
                                            : SoftmaxLanes(static_cast<int>(cols_), storage).run(commands);
  if (data) shared_.datapath->put_lanes(op, run);
  return static_cast<double>(run.cycles);
}

}  // namespace cascade::cycle
