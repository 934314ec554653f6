#include "sim/systemc/units.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <queue>

#include "sim/systemc/systolic.h"

namespace cascade::cycle {

// ---- Scoreboard

Scoreboard::Scoreboard(size_t operations)
    : sc_core::sc_prim_channel(sc_core::sc_gen_unique_name("scoreboard")),
      done_(operations, false) {}

void Scoreboard::complete(int op) {
  done_[static_cast<size_t>(op)] = true;
  ++completed_;
  changed_.notify(sc_core::SC_ZERO_TIME);
}

// ---- GlobalBuffer

GlobalBuffer::GlobalBuffer(int banks, double row_words, int ports, double prefetch_bytes)
    : sc_core::sc_prim_channel(sc_core::sc_gen_unique_name("global_buffer")),
      banks_(std::max(1, banks)),
      row_words_(std::max(1.0, row_words)),
      ports_(std::max(1, ports)),
      bank_free_(static_cast<size_t>(std::max(1, banks)), 0.0),
      prefetch_(std::max(0.0, prefetch_bytes)),
      free_(std::max(0.0, prefetch_bytes)) {}

double GlobalBuffer::request(double words, int first_bank, double* conflict) {
  if (words <= 0) return 0;
  const double start = sc_core::sc_time_stamp().to_seconds() * 1e9;
  const double rows = std::ceil(words / row_words_ - 1e-9);
  const double per_bank = std::floor(rows / banks_);
  const int extra = static_cast<int>(rows - per_bank * banks_);  // banks with one row more
  double finish = start, alone = 0;
  for (int i = 0; i < banks_; ++i) {
    const int b = (first_bank + i) % banks_;
    const double n = per_bank + (i < extra ? 1 : 0);
    if (n <= 0) continue;
    const double busy = n / ports_;
    const double done = std::max(bank_free_[b], start) + busy;
    bank_free_[b] = done;
    finish = std::max(finish, done);
    alone = std::max(alone, busy);
  }
  if (conflict) *conflict += std::max(0.0, finish - start - alone);
  return finish - start;
}

void GlobalBuffer::allocate(double bytes) {
  free_ -= bytes;
  if (held_bytes) held_bytes->write(prefetch_ - free_);
}

void GlobalBuffer::release(double bytes) {
  free_ += bytes;
  freed_.notify(sc_core::SC_ZERO_TIME);
  if (held_bytes) held_bytes->write(prefetch_ - free_);
}

// ---- UnitTime

void UnitTime::disjoin(const std::string& last) {
  // Sweep the interval ends; each stretch goes to the first cause covering it: busy, the
  // others in the order first seen, `last` after them.
  std::vector<int> rank(causes.size());
  size_t next = 1;
  for (size_t c = 0; c < causes.size(); ++c)
    rank[c] = causes[c] == "busy" ? 0 : causes[c] == last ? 1 << 30 : static_cast<int>(next++);
  // The starts in order (intervals sorted in place), the ends of the open ones from a heap:
  // memory for the open intervals only (the DRAM unit of a 256K run has tens of millions).
  std::sort(intervals.begin(), intervals.end(),
            [](const TimeInterval& a, const TimeInterval& b) { return a.start < b.start; });
  using End = std::pair<double, int>;  // (end, cause)
  std::priority_queue<End, std::vector<End>, std::greater<End>> ends;
  std::vector<int> open(causes.size(), 0);
  std::vector<TimeInterval> out;
  auto top = [&] {
    int best = -1;
    for (size_t c = 0; c < open.size(); ++c)
      if (open[c] > 0 && (best < 0 || rank[c] < rank[static_cast<size_t>(best)])) best = static_cast<int>(c);
    return best;
  };
  for (size_t k = 0; k < intervals.size() || !ends.empty();) {
    const double at = k < intervals.size() && (ends.empty() || intervals[k].start <= ends.top().first)
                          ? intervals[k].start
                          : ends.top().first;
    const int before = top();
    for (; k < intervals.size() && intervals[k].start == at; ++k) {
      ++open[static_cast<size_t>(intervals[k].cause)];
      ends.push({intervals[k].end, intervals[k].cause});
    }
    for (; !ends.empty() && ends.top().first == at; ends.pop()) --open[static_cast<size_t>(ends.top().second)];
    const int after = top();
    if (before == after) continue;
    if (before >= 0 && !out.empty() && out.back().cause == before && out.back().end < 0) out.back().end = at;
    if (after >= 0) out.push_back({at, -1, after});
  }
  std::erase_if(out, [](const TimeInterval& i) { return i.end <= i.start; });
  intervals.swap(out);
}

// ---- Shared

void Shared::index_dependencies() {
  const size_t n = plan->ops.size();
  pending.assign(n, 0);
  dependents_begin.assign(n + 1, 0);
  for (size_t op = 0; op < n; ++op) {
    pending[op] = static_cast<int>(plan->deps(op).size());
    for (int d : plan->deps(op)) ++dependents_begin[static_cast<size_t>(d) + 1];
  }
  for (size_t op = 0; op < n; ++op) dependents_begin[op + 1] += dependents_begin[op];
  dependents.assign(static_cast<size_t>(dependents_begin[n]), 0);
  std::vector<int64_t> at(dependents_begin.begin(), dependents_begin.end() - 1);
  for (size_t op = 0; op < n; ++op)
    for (int d : plan->deps(op)) dependents[static_cast<size_t>(at[static_cast<size_t>(d)]++)] = static_cast<int>(op);
  owner.assign(n, nullptr);
}

// ---- Unit

Unit::Unit(sc_core::sc_module_name name, int index, size_t fifo_depth, Shared& shared,
           NumberFormat accumulate, int64_t rows, int64_t cols)
    : sc_core::sc_module(name),
      requests(static_cast<int>(std::max<size_t>(1, fifo_depth))),
      shared_(shared),
      index_(index),
      accumulate_(accumulate),
      rows_(rows),
      cols_(cols) {
  SC_THREAD(run);
}

void Unit::wait_cycles(double cycles) {
  if (cycles > 0) sc_core::wait(sc_core::sc_time(cycles, sc_core::SC_NS));
}


std::string Unit::blocked_by(int op) {
  const Plan& plan = *shared_.plan;
  // Resume where the last look at `op` stopped: a finished dependency stays finished (an
  // operation after 65,536 row stores is asked on every wake-up).
  if (op != scanned_op_) scanned_op_ = op, scanned_ = 0;
  const std::span<const int> deps = plan.deps(static_cast<size_t>(op));
  for (; scanned_ < deps.size(); ++scanned_) {
    const int d = deps[scanned_];
    if (shared_.scoreboard->done(d)) continue;
    const PlanOp& dep = plan.ops[static_cast<size_t>(d)];
    if (dep.kind != PlanOp::Kind::Compute) return "waiting_for_dram";
    if (index_ == plan.dram) return "waiting_for_compute";
    if (dep.unit != index_) return "waiting_for_other_array";
    return "waiting_for_own_work";
  }
  return "waiting_for_work";
}

bool Unit::ready(int op) const { return shared_.pending[static_cast<size_t>(op)] == 0; }

void Unit::became_ready(int op) {
  const int group = shared_.plan->ops[static_cast<size_t>(op)].group;
  (holders_.count(op) ? ready_holders_ : ready_window_)[group].insert(op);
}

void Unit::enter(int op) {
  const bool holder = may_hold_space(op);
  (holder ? holders_ : window_).insert(op);
  shared_.owner[static_cast<size_t>(op)] = this;
  if (ready(op)) became_ready(op);
}

void Unit::finished(int op) {
  shared_.finish[static_cast<size_t>(op)] = now();
  for (int64_t i = shared_.dependents_begin[static_cast<size_t>(op)];
       i < shared_.dependents_begin[static_cast<size_t>(op) + 1]; ++i) {
    const int u = shared_.dependents[static_cast<size_t>(i)];
    if (--shared_.pending[static_cast<size_t>(u)] == 0 && shared_.owner[static_cast<size_t>(u)])
      shared_.owner[static_cast<size_t>(u)]->became_ready(u);
  }
  const PlanOp& o = shared_.plan->ops[static_cast<size_t>(op)];
  if (o.kind == PlanOp::Kind::Compute && shared_.registers) shared_.registers->finished(op);
  shared_.scoreboard->complete(op);
  // A compute that was a tile's last reader frees the space its successor held.
  if (o.kind != PlanOp::Kind::Compute) return;
  for (int d : shared_.plan->deps(static_cast<size_t>(op))) {
    int& left = shared_.retire_after[static_cast<size_t>(d)];
    if (left <= 0 || --left > 0) continue;
    // Tile d retired: the later load that held space on its account gives it back.
    auto it = shared_.held.find(d);
    if (it == shared_.held.end()) continue;
    shared_.buffer->release(it->second);
    shared_.held.erase(it);
  }
}

bool DramUnit::set_aside(int op) {
  const PlanOp& o = shared_.plan->ops[static_cast<size_t>(op)];
  if (o.kind != PlanOp::Kind::Store) return false;
  stores_[o.group].push_back(op);
  store_queued_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

int DramUnit::read_bound() const {
  int s = sending_;
  for (const auto& [group, queue] : stores_)
    if (!queue.empty() && (s < 0 || queue.front() < s)) s = queue.front();
  return s;
}

bool Unit::start(int op) {
  shared_.start[static_cast<size_t>(op)] = now();
  if (!shared_.datapath) return true;
  try {
    shared_.datapath->run(op);
    return true;
  } catch (...) {
    shared_.failure = std::current_exception();
    sc_core::sc_stop();
    return false;
  }
}

void Unit::run() {
  const Plan& plan = *shared_.plan;
  const bool dram = index_ == plan.dram;
  // DRAM: the window's loads that may hold buffer space (may_hold_space) are kept apart. A
  // ready one waiting for space keeps its place among its group's (letting a later one take
  // the space first could starve the tile the group's oldest compute needs); the rest goes
  // past it.
  int held = -1;  // read from the FIFO but beyond the window
  auto oldest = [&]() {
    if (window_.empty()) return holders_.empty() ? -1 : *holders_.begin();
    return holders_.empty() ? *window_.begin() : std::min(*window_.begin(), *holders_.begin());
  };
  auto take = [&](int v) {
    if (set_aside(v)) return true;
    const PlanOp& o = plan.ops[static_cast<size_t>(v)];
    if (const int f = oldest(); f >= 0) {
      const PlanOp& first = plan.ops[static_cast<size_t>(f)];
      // Overlapped groups share the units slice by slice: the window spans the groups.
      const bool beyond = plan.overlapped
                              ? o.slice >= first.slice + shared_.tiles_in_flight
                              : o.group != first.group ||
                                    o.step >= first.step + shared_.tiles_in_flight;
      if (beyond) return false;
    }
    // Nor more than tiles_in_flight slices ahead of the oldest store not yet sent (the
    // reads would otherwise outrun the writes for as long as the buffer lets them).
    if (const int s = read_bound(); s >= 0) {
      const PlanOp& store = plan.ops[static_cast<size_t>(s)];
      if ((plan.overlapped || o.group == store.group) &&
          o.slice >= store.slice + shared_.tiles_in_flight)
        return false;
    }
    enter(v);
    return true;
  };
  for (;;) {
    // The window: the operations of the next tiles_in_flight steps after the oldest waiting one.
    for (;;) {
      int v = held;
      held = -1;
      if (v < 0 && !requests.nb_read(v)) break;
      if (!take(v)) {
        held = v;
        break;
      }
    }
    if (window_.empty() && holders_.empty()) {
      if (held >= 0 && read_bound() >= 0) {
        // Beyond the window of a store not yet sent: the reads wait for the writes.
        const double before = now();
        sc_core::wait(shared_.scoreboard->changed());
        time.add(before, now() - before, "waiting_for_stores");
        continue;
      }
      if (held >= 0) {
        enter(held);
        held = -1;
        continue;
      }
      if (shared_.scoreboard->completed() == plan.ops.size()) break;
      int v = 0;
      const double before = now();
      requests.read(v);
      take(v);
      time.add(before, now() - before, "waiting_for_issue");
      continue;
    }
    // The oldest ready operation; a holder only with its space there.
    bool space_wait = false;
    int pick = -1;
    bool holder = false;
    for (auto& [group, ready] : ready_window_)
      if (!ready.empty() && group_free(group) && (pick < 0 || *ready.begin() < pick))
        pick = *ready.begin();
    for (auto& [group, ready] : ready_holders_) {
      if (ready.empty() || !group_free(group)) continue;
      const int h = *ready.begin();
      if (holds_space(h) && !space_available(h)) {
        space_wait = true;
        continue;
      }
      if (pick < 0 || h < pick) pick = h, holder = true;
    }
    if (pick >= 0) {
      (holder ? holders_ : window_).erase(pick);
      (holder ? ready_holders_ : ready_window_)[plan.ops[static_cast<size_t>(pick)].group].erase(pick);
      shared_.owner[static_cast<size_t>(pick)] = nullptr;
    }
    if (pick < 0) {
      const int waiting = oldest();
      const std::string cause = space_wait ? space_cause() : blocked_by(waiting);
      const double before = now();
      sc_core::wait(shared_.scoreboard->changed() | requests.data_written_event() |
                    shared_.buffer->freed() | slot_freed_);
      time.add(before, now() - before, cause);
      continue;
    }
    if (!start(pick)) return;
    if (!dram) busy.write(true);  // the DRAM's streams say when its channel is busy
    execute(pick);
    if (!dram) busy.write(false);
  }
}

// ---- DRAM

DramUnit::DramUnit(sc_core::sc_module_name name, int index, size_t fifo_depth, Shared& shared,
                   double latency)
    : Unit(name, index, fifo_depth, shared, NumberFormat::FP32, 1, 1),
      latency_(latency),
      reading_(shared.plan->groups.size(), -1) {
  SC_THREAD(deliver);
  SC_THREAD(write_stream);
  for (size_t g = 0; g < reading_.size(); ++g) {
    read_go_.push_back(std::make_unique<sc_core::sc_event>());
    sc_core::sc_spawn(sc_bind(&DramUnit::read_queue, this, static_cast<int>(g)),
                      sc_core::sc_gen_unique_name("read_queue"));
  }
}

void DramUnit::read_queue(int group) {
  const size_t g = static_cast<size_t>(group);
  for (;;) {
    while (reading_[g] < 0) sc_core::wait(*read_go_[g]);
    const int op = reading_[g];
    transfer((*shared_.work)[static_cast<size_t>(op)].compute_cycles);
    in_flight_.push_back({now() + latency_, op});
    arrival_queued_.notify(sc_core::SC_ZERO_TIME);
    reading_[g] = -1;
    slot_freed_.notify(sc_core::SC_ZERO_TIME);
  }
}

void DramUnit::transfer(double cycles) {
  if (cycles <= 0) return;
  if (transferring_++ == 0) {
    busy_since_ = now();
    busy.write(true);
  }
  sharing_changed_.notify();  // the others' share shrinks
  double left = cycles;
  while (left > 1e-5) {  // the time resolution is 1e-6 cycles (1 fs at 1 GHz)
    const double rate = 1.0 / transferring_, t = now();
    sc_core::wait(sc_core::sc_time(left / rate, sc_core::SC_NS), sharing_changed_);
    left -= (now() - t) * rate;
  }
  if (--transferring_ == 0) {
    time.add(busy_since_, now() - busy_since_, "busy");
    busy.write(false);
  }
  sharing_changed_.notify();  // the others' share grows
}

void DramUnit::close_waits(double end) {
  if (store_wait_since_ >= 0) time.add(store_wait_since_, end - store_wait_since_, "waiting_for_compute");
  store_wait_since_ = -1;
}

void DramUnit::write_stream() {
  for (;;) {
    // The oldest ready store at the head of a group's queue.
    int op = -1;
    for (;;) {
      for (auto& [group, queue] : stores_)
        if (!queue.empty() && ready(queue.front()) && (op < 0 || queue.front() < op))
          op = queue.front();
      if (op >= 0) break;
      store_wait_since_ = now();  // the stores come from the computes
      sc_core::wait(store_queued_ | shared_.scoreboard->changed());
      time.add(store_wait_since_, now() - store_wait_since_, "waiting_for_compute");
      store_wait_since_ = -1;
    }
    stores_[shared_.plan->ops[static_cast<size_t>(op)].group].pop_front();
    sending_ = op;
    if (!start(op)) return;
    execute(op);
    sending_ = -1;
  }
}

bool DramUnit::may_hold_space(int op) const {
  const PlanOp& o = shared_.plan->ops[static_cast<size_t>(op)];
  return o.kind == PlanOp::Kind::Load && o.staged &&
         (*shared_.work)[static_cast<size_t>(op)].replaces >= 0;
}

bool DramUnit::holds_space(int op) const {
  return may_hold_space(op) &&
         shared_.retire_after[static_cast<size_t>((*shared_.work)[static_cast<size_t>(op)].replaces)] > 0;
}

// The tile it replaces is still read: space for both until it retires, or, when two do not
// fit, none until it has (holds_space is then false).
bool DramUnit::space_available(int op) const {
  const double hold = (*shared_.work)[static_cast<size_t>(op)].hold_bytes;
  return hold <= shared_.buffer->prefetch_bytes() && hold <= shared_.buffer->free_bytes() + 1e-9;
}

void DramUnit::execute(int op) {
  const PlanOp& o = shared_.plan->ops[static_cast<size_t>(op)];
  const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
  if (holds_space(op)) {  // Unit::run started it with the space free
    shared_.buffer->allocate(w.hold_bytes);
    shared_.held[w.replaces] = w.hold_bytes;
  }
  if (o.kind == PlanOp::Kind::Load) {  // to its group's read queue (Unit::run saw it idle)
    reading_[static_cast<size_t>(o.group)] = op;
    read_go_[static_cast<size_t>(o.group)]->notify(sc_core::SC_ZERO_TIME);
    return;
  }
  // A store reads its tile from the buffer while the channel sends it: the longer of the two.
  double conflict = 0, reading = 0;
  if (o.kind == PlanOp::Kind::Store && o.staged)
    reading = shared_.buffer->request(w.buffer_words, w.first_bank, &conflict);
  const double t = now();
  transfer(w.compute_cycles);
  // The buffer read outlasting the channel: the part that waited for busy banks, the rest.
  const double channel = now() - t;
  time.add(t + channel, std::max(0.0, std::min(reading - channel, reading - conflict - channel)),
           "buffer_read");
  time.add(t + std::max(channel, reading - conflict),
           std::max(0.0, reading - std::max(channel, reading - conflict)), "bank_conflict");
  wait_cycles(reading - channel);
  finished(op);
}

void DramUnit::deliver() {
  for (;;) {
    while (in_flight_.empty()) sc_core::wait(arrival_queued_);
    const Arrival next = in_flight_.front();
    in_flight_.pop_front();
    const double arrival = next.cycle;
    const int op = next.op;
    const double t = sc_core::sc_time_stamp().to_seconds() * 1e9;
    if (arrival > t) sc_core::wait(sc_core::sc_time(arrival - t, sc_core::SC_NS));
    const PlanOp& o = shared_.plan->ops[static_cast<size_t>(op)];
    const OpWork& w = (*shared_.work)[static_cast<size_t>(op)];
    if (o.staged) {  // written into the buffer's banks
      double conflict = 0;
      const double c = shared_.buffer->request(w.buffer_words, w.first_bank, &conflict);
      if (c > 0) sc_core::wait(sc_core::sc_time(c, sc_core::SC_NS));
    }
    finished(op);
  }
}

// ---- Controller

Controller::Controller(sc_core::sc_module_name name, Shared& shared, std::vector<Unit*> units,
                       bool progress)
    : sc_core::sc_module(name), shared_(shared), units_(std::move(units)), progress_(progress) {
  SC_THREAD(run);
  if (progress_) SC_THREAD(report);
}

void Controller::run() {
  const Plan& plan = *shared_.plan;
  for (size_t op = 0; op < plan.ops.size(); ++op)
    units_[static_cast<size_t>(plan.ops[op].unit)]->requests.write(static_cast<int>(op));
}

void Controller::report() {
  const auto start = std::chrono::steady_clock::now();
  double last = 0;
  const size_t total = shared_.plan->ops.size();
  while (shared_.scoreboard->completed() < total) {
    sc_core::wait(shared_.scoreboard->changed());
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (wall - last < 2.0) continue;
    last = wall;
    const double done = static_cast<double>(shared_.scoreboard->completed());
    fmt::print(stderr, "simulate: {}/{} operations, cycle {:.0f}, {:.1f} s, ~{:.0f} s left\n",
               shared_.scoreboard->completed(), total,
               sc_core::sc_time_stamp().to_seconds() * 1e9, wall,
               done > 0 ? wall * (static_cast<double>(total) - done) / done : 0.0);
  }
}

}  // namespace cascade::cycle
