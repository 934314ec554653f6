// The SystemC modules and channels of the cycle-level model (cycle_model.h describes them).
// Included only by the model's own .cpp files (it includes SystemC).
#pragma once

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <systemc>
#include <vector>

#include "sim/systemc/datapath.h"
#include "sim/systemc/gemm_engine.h"
#include "sim/systemc/vector_engine.h"
#include "sim/systemc/plan.h"
#include "sim/systemc/register_budget.h"
#include "sim/systemc/resident_array.h"
#include "sim/systemc/systolic.h"
#include "sim/systemc/tile_program.h"

namespace cascade::cycle {

// What an operation costs, fixed before the simulation (from the plan and the units'
// parameters); how long it takes is decided while it runs.
struct OpWork {
  double compute_cycles = 0;  // compute: the array's cycles for the run (fill/drain included)
  double stream_cycles = 0;   // compute: of which streaming points (no fill/drain)
  double pe_cycles = 0;       // compute: busy PE-cycles (points x II / PEs)
  double buffer_words = 0;    // compute: words with the global buffer; load/store: staged words
  double bytes = 0;           // load/store: bytes over the DRAM channel (bursts included)
  double hold_bytes = 0;      // staged load: its tile's bytes in the buffer
  int64_t gemm_m = 0, gemm_n = 0, gemm_k = 0;  // per-PE: the GEMM's shape
  int first_bank = 0;         // where its buffer rows start
  int consumers = 0;          // staged load: computes that read this tile
  int replaces = -1;          // staged load: the previous load of the same tensor's tile
  Dataflow dataflow = Dataflow::OutputStationary;
  // Per-PE mode, 1D array: the softmax unit's command this run issues `lane_rounds` times
  // (-1: none; a partner's run issues none: its leader's command computed it).
  int lane_rounds = 0;
  int8_t lane_command = -1;
  bool gemm_per_pe = false;   // compute: run PE by PE (per-PE mode, GEMM-shaped)
  // Per-PE mode, 2D array: the program of tile operations this run is (tile_program.h) over
  // `tile_folds` folds, on the array's resident tiles (register files of `tile_entries`:
  // the arch's, at most the PE's 16); None: not one.
  TileRole tile_role = TileRole::None;
  int8_t tile_entries = 0;
  int64_t tile_folds = 0;
  bool overlap = false;       // per-PE: folds overlapped
};

// Per unit: where its time went, as intervals of simulated time with their cause (busy,
// fill_drain, waiting_for_dram, ...); extrapolated slices weight the intervals they repeat.
struct TimeInterval {
  double start = 0, end = 0;
  int cause = 0;  // index into UnitTime::causes
};
struct UnitTime {
  std::vector<std::string> causes;
  std::vector<TimeInterval> intervals;
  // Makes the intervals disjoint where several processes of one unit recorded at once:
  // busy wins, then the causes in the order first seen, then `last`.
  void disjoin(const std::string& last);
  void add(double start, double length, const std::string& cause) {
    if (length <= 0) return;
    size_t c = 0;
    while (c < causes.size() && causes[c] != cause) ++c;
    if (c == causes.size()) causes.push_back(cause);
    // Back to back with the last one of its cause: one interval (the weights and the
    // disjoint sweep depend only on the time covered; 256K runs record tens of millions).
    if (!intervals.empty() && intervals.back().cause == static_cast<int>(c) &&
        intervals.back().end == start) {
      intervals.back().end = start + length;
      return;
    }
    intervals.push_back({start, start + length, static_cast<int>(c)});
  }
};

// The completion channel: operations report completion; waiters re-check on its event.
class Scoreboard : public sc_core::sc_prim_channel {
 public:
  explicit Scoreboard(size_t operations);
  void complete(int op);
  bool done(int op) const { return done_[static_cast<size_t>(op)]; }
  size_t completed() const { return completed_; }
  const sc_core::sc_event& changed() const { return changed_; }

 private:
  std::vector<bool> done_;
  size_t completed_ = 0;
  sc_core::sc_event changed_;
};

// The global buffer as a channel: banked request timing and the space loads hold.
class GlobalBuffer : public sc_core::sc_prim_channel {
 public:
  GlobalBuffer(int banks, double row_words, int ports, double prefetch_bytes);
  // Serves `words` from `first_bank` on, starting no earlier than now; returns the cycles
  // until the last row is served and adds the wait for busy banks to *conflict.
  double request(double words, int first_bank, double* conflict);
  // Space for a tile while the one it replaces is in use (Unit::run starts such a load
  // only when the space is free).
  void allocate(double bytes);
  void release(double bytes);
  double free_bytes() const { return free_; }
  double prefetch_bytes() const { return prefetch_; }
  const sc_core::sc_event& freed() const { return freed_; }
  // Bytes loads hold beyond one iteration's tiles, for the VCD (nullptr: not traced).
  sc_core::sc_signal<double, sc_core::SC_MANY_WRITERS>* held_bytes = nullptr;

 private:
  int banks_;
  double row_words_;
  int ports_;
  std::vector<double> bank_free_;  // cycle each bank is free from
  double prefetch_, free_;
  sc_core::sc_event freed_;
};

// What every unit shares: the plan, the operations' work, the channels.
struct Shared {
  const Plan* plan = nullptr;
  const std::vector<OpWork>* work = nullptr;
  Scoreboard* scoreboard = nullptr;
  GlobalBuffer* buffer = nullptr;
  int tiles_in_flight = 3;
  std::vector<double> start, finish;  // per operation, cycles
  std::vector<int> retire_after;      // per staged load: consumers still to finish
  std::map<int, double> held;         // staged load -> bytes a later load holds until it retires
  Datapath* datapath = nullptr;       // data mode: values move as operations start
  GemmEngine* gemm_engine = nullptr;  // per-PE mode's GEMMs (nullptr: SystolicArray)
  VectorEngine* vector_engine = nullptr;  // per-PE mode's 1D commands (nullptr: SoftmaxLanes)
  // Per-PE mode's tile programs: the PE's exp (on the C++ model, ResidentArray), and the
  // programs run per Einsum.
  ExpMode tile_exp = ExpMode::Hardware;
  std::vector<int64_t> tile_programs;
  RegisterBudget* registers = nullptr;  // --register-files enforce (nullptr: not enforced)
  std::exception_ptr failure;         // an error of the datapath or the GEMM engine (the
                                      // simulation stops)
  // Readiness by counting: per operation its unfinished dependencies, the operations that
  // depend on it (CSR), and the unit whose window holds it (told when it becomes ready), so
  // a unit finds its oldest ready operation without scanning a window of millions.
  std::vector<int> pending;
  std::vector<int64_t> dependents_begin;
  std::vector<int> dependents;
  std::vector<class Unit*> owner;
  void index_dependencies();
};

// A unit: takes operations from its request FIFO and runs them one at a time, the oldest
// ready one among the next tiles_in_flight steps of its group.
class Unit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Unit);
  Unit(sc_core::sc_module_name name, int index, size_t fifo_depth, Shared& shared,
       NumberFormat accumulate, int64_t rows, int64_t cols);
  sc_core::sc_fifo<int> requests;
  sc_core::sc_signal<bool, sc_core::SC_UNCHECKED_WRITERS> busy;  // DRAM: its queues write it
  UnitTime time;
  void became_ready(int op);  // `op`, in this unit's window, has its dependencies done
  // After the simulation: records a wait still open at `end` (the DRAM's write stream).
  virtual void close_waits(double end) { (void)end; }

 protected:
  virtual void execute(int op) = 0;
  double now() const { return sc_core::sc_time_stamp().to_seconds() * 1e9; }
  void wait_cycles(double cycles);
  // Why `op` cannot start yet: the stall cause of its first unmet dependency.
  std::string blocked_by(int op);
  int scanned_op_ = -1;  // blocked_by's place in that operation's dependencies
  size_t scanned_ = 0;
  bool ready(int op) const;
  // Records `op`'s start and, in data mode, moves its values; false when the datapath
  // failed (the simulation stops).
  bool start(int op);
  // A load that must hold buffer space for its tile while the tile it replaces is still
  // read (DRAM only): whether it needs to, and whether the space is there now. Such a load
  // waits in place; what needs no space (stores, streamed loads) goes past it.
  virtual bool may_hold_space(int op) const { (void)op; return false; }  // fixed per op
  virtual bool holds_space(int op) const { (void)op; return false; }
  virtual bool space_available(int op) const { (void)op; return true; }
  virtual const char* space_cause() const { return "buffer_full"; }  // what a holder waits for
  // Whether the unit can start an operation of `group` now (DRAM: its read queue is idle).
  virtual bool group_free(int group) const { (void)group; return true; }
  sc_core::sc_event slot_freed_;  // a group_free turned true
  // An operation another process of the unit runs (DRAM: the stores, its write queue):
  // taken out of the request FIFO, never into the window. True if it took `op`.
  virtual bool set_aside(int op) { (void)op; return false; }
  // What the window must not run tiles_in_flight slices ahead of (DRAM: the oldest store
  // not yet sent), or -1.
  virtual int read_bound() const { return -1; }
  void finished(int op);
  Shared& shared_;
  int index_;
  NumberFormat accumulate_;
  int64_t rows_, cols_;

 private:
  void run();
  void enter(int op);  // into the window
  // The window (program order), split as Unit::run explains, and of each part what is ready.
  std::set<int> window_, holders_;
  std::map<int, std::set<int>> ready_window_, ready_holders_;  // per group
};

class ArrayUnit : public Unit {
 public:
  using Unit::Unit;

 protected:
  void execute(int op) override;
  // --register-files enforce: a run leaving a resident tile waits for its entries.
  bool may_hold_space(int op) const override { return shared_.registers && shared_.registers->allocates(op); }
  bool holds_space(int op) const override { return may_hold_space(op); }
  bool space_available(int op) const override { return shared_.registers->fits(op); }
  const char* space_cause() const override { return "register_files_full"; }

 private:
  // Per-PE mode's runs (array_unit.cpp), each returning its cycles: a GEMM on the GEMM engine
  // or SystolicArray; a tile program (`busy` the cycles steps were issued) on the GEMM engine
  // or this array's ResidentArray (its state kept from run to run); the 1D unit's commands
  // on the vector engine or SoftmaxLanes.
  double run_gemm(int op);
  TileProgramRun run_program(int op, double* busy);
  double run_lanes(int op);
  std::unique_ptr<ResidentArray> resident_;
};

// A load in flight: the cycle its data arrives.
struct Arrival {
  double cycle = 0;
  int op = -1;
};

// The DRAM channel: per group a read queue (loads from Unit::run's window, one at a time)
// and a write queue (stores in order, one store on the channel at a time of all groups'),
// sharing its bandwidth equally while they transfer (a controller interleaving their
// bursts), so one kernel's long transfer does not hold up another kernel's.
class DramUnit : public Unit {
 public:
  SC_HAS_PROCESS(DramUnit);
  DramUnit(sc_core::sc_module_name name, int index, size_t fifo_depth, Shared& shared,
           double latency);

 protected:
  void execute(int op) override;
  bool may_hold_space(int op) const override;
  bool holds_space(int op) const override;
  bool space_available(int op) const override;
  bool group_free(int group) const override { return reading_[static_cast<size_t>(group)] < 0; }
  bool set_aside(int op) override;
  int read_bound() const override;  // the oldest store queued or on the channel

 public:
  void close_waits(double end) override;

 private:
  void write_stream();
  void read_queue(int group);
  void deliver();
  // Sends `cycles` of the channel's full bandwidth, sharing it with the other transfers.
  void transfer(double cycles);
  double latency_;
  // The write queue, in order per group (write_stream); a group's stores do not wait for
  // another's.
  std::map<int, std::deque<int>> stores_;
  int sending_ = -1;  // the store on the channel
  sc_core::sc_event store_queued_;
  std::vector<int> reading_;  // per group: the load its read queue sends, or -1
  std::vector<std::unique_ptr<sc_core::sc_event>> read_go_;
  std::deque<Arrival> in_flight_;  // loads sent, in order of arrival
  sc_core::sc_event arrival_queued_;
  int transferring_ = 0;
  double busy_since_ = 0, store_wait_since_ = -1;
  sc_core::sc_event sharing_changed_;
};

// Pushes every operation into its unit's FIFO in program order.
class Controller : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, Shared& shared, std::vector<Unit*> units,
             bool progress);

 private:
  void run();
  void report();
  Shared& shared_;
  std::vector<Unit*> units_;
  bool progress_;
};

}  // namespace cascade::cycle
