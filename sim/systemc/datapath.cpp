#include "sim/systemc/datapath.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/index_program.h"
#include "sim/systemc/datapath_code.h"
#include "sim/systemc/datapath_fast.h"
#include "sim/systemc/datapath_gemm.h"
#include "sim/systemc/datapath_lanes.h"

namespace cascade {

namespace {

using namespace datapath_detail;

const char* place_name(int place) {
  return place == kDram ? "DRAM" : place == kBuffer ? "global buffer" : "array";
}

double maximum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}

}  // namespace

struct Datapath::Impl {
  const Problem& problem;
  const Plan& plan;
  ExecutionOptions options;
  std::vector<TensorData> tensors;
  std::vector<EinsumCode> code;  // per Einsum
  std::vector<int64_t> slots;    // the point being evaluated
  DatapathCounts counts;
  int op = -1;                   // the operation being run, for messages
  struct Recurrence {
    std::vector<int> members, slot;  // evaluation order; the iterative rank's slot in each
  };
  std::vector<Recurrence> recurrences;
  std::vector<int> member_of;             // per Einsum: its recurrence, -1 for none
  std::map<int, int64_t> member_iteration;  // a member's deferred run: its DRAM iteration
  bool use_fast = true;
  FastEvaluator fast;

  Impl(const Problem& p, const Plan& pl, const TensorMap& inputs, const ExecutionOptions& o,
       bool fast_path)
      : problem(p), plan(pl), options(o), fast(tensors, o) {
    const char* generic = std::getenv("CASCADE_DATA_GENERIC");
    use_fast = fast_path && !(generic && *generic && std::string(generic) != "0");
    const Cascade& cascade = problem.cascade;
    for (const ProblemTensor& pt : problem.tensors) {
      TensorData t;
      t.name = pt.name;
      t.sizes = pt.sizes;
      t.strides.assign(t.sizes.size(), 1);
      for (size_t d = t.sizes.size(); d-- > 1;) t.strides[d - 1] = t.strides[d] * t.sizes[d];
      for (int64_t s : t.sizes) t.elements *= s;
      const TensorInfo* info = cascade.find_tensor(pt.name);
      t.format = info && !info->format.empty() ? parse_number_format(info->format) : options.storage;
      const TensorHome home = plan.resolved.tensors[tensors.size()].home;
      t.home = home == TensorHome::Dram ? kDram : home == TensorHome::GlobalBuffer ? kBuffer : kArray;
      Copy& c = t.place(t.home);
      std::fill(c.valid.begin(), c.valid.end(), 1);  // produced tensors: zeros, as the executor's
      if (pt.input) {
        auto in = inputs.find(pt.name);
        if (in == inputs.end()) throw Error("data mode: no values for input tensor " + pt.name);
        if (in->second.extents != t.sizes)
          throw Error("data mode: input " + pt.name + " has the wrong extents");
        for (int64_t i = 0; i < t.elements; ++i)
          c.value[static_cast<size_t>(i)] = round_to(t.format, in->second.values[static_cast<size_t>(i)]);
      }
      tensors.push_back(std::move(t));
    }
    code.resize(problem.einsums.size());
    for (size_t e = 0; e < problem.einsums.size(); ++e) {
      std::vector<std::string> names;
      for (const ProblemVariable& v : problem.einsums[e].variables) names.push_back(v.name);
      std::vector<int64_t> extents;
      for (const ProblemVariable& v : problem.einsums[e].variables) extents.push_back(v.extent);
      extents[kBatchSlot] = extents[kHeadSlot] = 1;  // the first slice
      compile(cascade.einsums[e], names, extents, static_cast<int>(e), code[e]);
      tile_einsum(plan, static_cast<int>(e), code[e]);
    }
    // A produced tensor's elements its Einsum writes start invalid in the home copy; the rest
    // (masked out: the executor leaves them zero) are valid zeros from the start.
    for (size_t e = 0; e < problem.einsums.size(); ++e) {
      const EinsumCode& c = code[e];
      Copy& home = tensors[c.out_tensor].place(tensors[c.out_tensor].home);
      if (c.fast && fast.unmark_outputs(c, tensors[c.out_tensor].home)) continue;
      std::vector<int64_t> lo(c.extents.size(), 0), hi;
      for (int64_t x : c.extents) hi.push_back(x - 1);
      slots.assign(c.extents.size(), 0);
      odometer(c.outputs, pick(c.outputs, lo), pick(c.outputs, hi), [&] {
        if (!holds(c, c.output_conditions)) return;
        bool inside = true;
        const int64_t off = offset_of(c.out_dims, tensors[c.out_tensor], inside);
        if (inside) home.valid[static_cast<size_t>(off)] = 0;
      });
    }
    // Recurrences whose runs cover several steps: evaluated step by step at the last member's
    // run (the plan makes everything that reads a member wait for that run).
    member_of.assign(problem.einsums.size(), -1);
    for (const EinsumGroup& g : evaluation_order(cascade)) {
      if (g.iterative_variable.empty() || g.einsums.size() < 2) continue;
      Recurrence r;
      r.members = g.einsums;
      bool spans = false;
      for (int e : g.einsums) {
        const int slot = problem.einsums[e].slot_of_rank(rank_of_variable(g.iterative_variable));
        r.slot.push_back(slot);
        spans = spans || (slot >= 0 && code[e].span[slot] > 1);
      }
      if (!spans) continue;
      for (int e : g.einsums) member_of[e] = static_cast<int>(recurrences.size());
      recurrences.push_back(std::move(r));
    }
    // An iterative Einsum's init is the initial contents of its tensor's home copy.
    for (const Einsum& einsum : cascade.einsums) {
      if (!einsum.init) continue;
      const Einsum init = init_einsum(einsum);
      std::vector<std::string> names = {kBatchRank, kHeadRank};
      std::vector<int64_t> extents = {1, 1};
      for (const std::string& v : einsum_variables(init).all()) {
        names.push_back(v);
        extents.push_back(problem.bindings.shape(rank_of_variable(v)));
      }
      EinsumCode c;
      compile(init, names, extents, -1, c);
      c.out_place = tensors[c.out_tensor].home;
      evaluate(c, std::vector<int64_t>(extents.size(), 0), [&] {
        std::vector<int64_t> hi;
        for (int64_t x : extents) hi.push_back(x - 1);
        return hi;
      }());
    }
  }

  // ---- Compiling (datapath_code.h)

  int place_of(int tensor, bool staged) const { return datapath_detail::place_of(plan, tensor, staged); }

  void compile(const Einsum& einsum, const std::vector<std::string>& names,
               const std::vector<int64_t>& extents, int einsum_index, EinsumCode& c) {
    compile_einsum({problem, plan, options.accumulate, tensors}, einsum, names, extents,
                   einsum_index, c);
    c.fast = use_fast && fast_covers(c, tensors);
  }

  // The slot ranges [lo, hi] of Einsum e's run at DRAM-level iteration `iteration`. A DRAM
  // loop of factor f splits its slot's current range into f tiles of ceil(range / f): the
  // boundaries depend on the rank and the group's DRAM loops only, so every Einsum of the
  // group works on the same part of a rank in an iteration whatever its inner loops (which
  // cover the tile, padded where their factors overshoot it).
  void region(const EinsumCode& c, int64_t iteration, std::vector<int64_t>& lo,
              std::vector<int64_t>& hi) const {
    lo.assign(c.extents.size(), 0);
    hi.assign(c.extents.size(), 0);
    std::vector<int64_t> index(c.dram_slot.size(), 0), range(c.extents);
    for (size_t l = c.dram_slot.size(); l-- > 0;) {
      index[l] = iteration % c.dram_factor[l];
      iteration /= c.dram_factor[l];
    }
    for (size_t l = 0; l < c.dram_slot.size(); ++l) {
      const int s = c.dram_slot[l];
      if (s < 0) continue;
      const int64_t tile = (range[s] + c.dram_factor[l] - 1) / c.dram_factor[l];
      lo[s] += index[l] * tile;
      range[s] = tile;
    }
    for (size_t s = 0; s < c.extents.size(); ++s)
      hi[s] = std::min(c.extents[s] - 1, lo[s] + range[s] - 1);
  }

  // ---- Evaluating

  [[noreturn]] void missing(const ReadSite& r, int64_t offset) const {
    const TensorData& t = tensors[r.tensor];
    std::string at;
    for (size_t d = 0; d < t.sizes.size(); ++d)
      at += (d ? ", " : "") + std::to_string(offset / t.strides[d] % t.sizes[d]);
    if (op < 0)
      throw Error(r.loc, fmt::format("data mode: an init reads {}[{}] before it has values", t.name, at));
    const PlanOp& o = plan.ops[static_cast<size_t>(op)];
    throw Error(r.loc, fmt::format("data mode: operation {} ({} of Einsum {}, iteration {}) reads "
                                   "{}[{}] from the {}, where no operation has put it",
                                   op, plan.units[o.unit], problem.einsums[o.einsum].name,
                                   o.iteration, t.name, at, place_name(r.place)));
  }

  int64_t offset_of(const std::vector<IndexProgram>& dims, const TensorData& t, bool& inside) const {
    int64_t off = 0;
    inside = true;
    for (size_t d = 0; d < dims.size(); ++d) {
      const int64_t i = dims[d].evaluate(slots.data());
      if (i < 0 || i >= t.sizes[d]) inside = false;
      off += i * t.strides[d];
    }
    return off;
  }

  bool holds(const EinsumCode& c, const std::vector<int>& conditions) const {
    for (int k : conditions)
      if (!c.conditions[k].holds(slots.data())) return false;
    return true;
  }

  // Read site r at the point in `slots`.
  double read(const EinsumCode& c, const ReadSite& r) {
    TensorData& t = tensors[r.tensor];
    bool inside = true;
    const int64_t off = offset_of(r.dims, t, inside);
    if (!inside) throw Error(r.loc, "Einsum " + c.name + " reads " + t.name + " out of range");
    const Copy& copy = t.place(r.place);
    if (!copy.valid[static_cast<size_t>(off)]) missing(r, off);
    return copy.value[static_cast<size_t>(off)];
  }

  double value(const EinsumCode& c, int index) {
    const Node& n = c.nodes[index];
    const NumberFormat f = options.accumulate;
    switch (n.op) {
      case ExprOp::Number:
      case ExprOp::Parameter: return n.number;
      case ExprOp::Index: return round_to(f, static_cast<double>(c.indices[n.site].evaluate(slots.data())));
      case ExprOp::Read: return read(c, c.reads[n.site]);
      case ExprOp::Neg: return -value(c, n.args[0]);
      case ExprOp::Add: return round_to(f, value(c, n.args[0]) + value(c, n.args[1]));
      case ExprOp::Sub: return round_to(f, value(c, n.args[0]) - value(c, n.args[1]));
      case ExprOp::Mul: return round_to(f, value(c, n.args[0]) * value(c, n.args[1]));
      case ExprOp::Div: return round_to(f, value(c, n.args[0]) / value(c, n.args[1]));
      case ExprOp::Call: {
        const double a = value(c, n.args[0]);
        switch (n.fn) {
          case Fn::Exp: return exp_in(options.exp, f, a);
          case Fn::Sqrt: return round_to(f, std::sqrt(a));
          case Fn::Log: return round_to(f, std::log(a));
          case Fn::Abs: return std::fabs(a);
          case Fn::Relu: return a > 0 ? a : (std::isnan(a) ? a : 0.0);
          case Fn::Elu1: return a > 0 ? round_to(f, a + 1.0) : exp_in(options.exp, f, a);
          case Fn::Sigmoid: return sigmoid_in(options.exp, f, a);
          case Fn::Tanh: return tanh_in(f, a);
          case Fn::Softplus: return softplus_in(options.exp, f, a);
          case Fn::Max: return maximum(a, value(c, n.args[1]));
          case Fn::Min: return -maximum(-a, -value(c, n.args[1]));
          case Fn::Pow: return round_to(f, std::pow(a, value(c, n.args[1])));
        }
        return 0;
      }
      case ExprOp::Reduce: {
        const ReduceSite& r = c.reduces[n.site];
        double acc = r.max ? -std::numeric_limits<double>::infinity()
                     : r.min ? std::numeric_limits<double>::infinity() : 0.0;
        std::vector<int64_t> lo(r.slots.size(), 0), hi;
        for (int s : r.slots) hi.push_back(c.extents[s] - 1);
        odometer(r.slots, lo, hi, [&] {
          if (!holds(c, r.conditions)) return;
          const double x = value(c, r.summand);
          acc = r.max ? maximum(acc, x) : r.min ? -maximum(-acc, -x) : round_to(f, acc + x);
        });
        for (int h : r.hoisted) acc = round_to(f, acc * value(c, h));
        return acc;
      }
      case ExprOp::Concat: break;  // never compiled: datapath_code.cpp rejects it
    }
    return 0;
  }

  // Calls `body` for every value of `slot_list` in [lo, hi] (per entry), lexicographically.
  template <typename Body>
  void odometer(const std::vector<int>& slot_list, const std::vector<int64_t>& lo,
                const std::vector<int64_t>& hi, Body&& body) {
    for (size_t k = 0; k < slot_list.size(); ++k) {
      if (hi[k] < lo[k]) return;
      slots[slot_list[k]] = lo[k];
    }
    while (true) {
      body();
      size_t k = slot_list.size();
      while (k-- > 0) {
        if (++slots[slot_list[k]] <= hi[k]) break;
        slots[slot_list[k]] = lo[k];
      }
      if (k == static_cast<size_t>(-1)) return;
    }
  }

  static std::vector<int64_t> pick(const std::vector<int>& list, const std::vector<int64_t>& v) {
    std::vector<int64_t> out;
    for (int s : list) out.push_back(v[s]);
    return out;
  }

  // Evaluates `c` on the points in [lo, hi] and writes its output.
  void evaluate(const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
    slots.assign(c.extents.size(), 0);
    for (int s : c.reduced)
      if (lo[s] != 0 || hi[s] != c.extents[s] - 1)
        throw Error(c.loc, fmt::format("data mode: the mapping splits Einsum {}'s explicit reduction "
                                       "over {} across DRAM-level tiles", c.name, c.slot_names[s]));
    bool first = true, last = true;  // of a reduction split over DRAM-level tiles
    for (int s : c.implicit) {
      first = first && lo[s] == 0;
      last = last && hi[s] == c.extents[s] - 1;
    }
    double points = 1;
    for (size_t s = 2; s < c.extents.size(); ++s) points *= static_cast<double>(hi[s] - lo[s] + 1);
    counts.points += points;
    if (c.fast) {
      if (fast.evaluate(c, lo, hi, first, last)) {
        counts.fast_points += points;
        return;
      }
      // A read or write the generic path reports, with the operation's name.
      generic(c, lo, hi, first, last);
      throw Error(c.loc, fmt::format("data mode: Einsum {}: the fast path found an element that "
                                     "is not there, the generic path did not (a datapath bug)",
                                     c.name));
    }
    generic(c, lo, hi, first, last);
  }

  // The per-point evaluation of evaluate().
  void generic(const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
               bool first, bool last) {
    slots.assign(c.extents.size(), 0);
    TensorData& out = tensors[c.out_tensor];
    Copy& target = out.place(c.out_place);
    const NumberFormat f = options.accumulate;
    const std::vector<int64_t> out_lo = pick(c.outputs, lo), out_hi = pick(c.outputs, hi);
    const std::vector<int64_t> in_lo = pick(c.implicit, lo), in_hi = pick(c.implicit, hi);
    odometer(c.outputs, out_lo, out_hi, [&] {
      if (!holds(c, c.output_conditions)) return;
      bool inside = true;
      const int64_t off = offset_of(c.out_dims, out, inside);
      if (!inside) throw Error(c.loc, "Einsum " + c.name + " writes out of range");
      double v;
      if (c.implicit.empty()) {
        v = value(c, c.root);
      } else {
        double acc = 0;
        if (!first) {
          if (!target.valid[static_cast<size_t>(off)]) {
            ReadSite partial;
            partial.tensor = c.out_tensor;
            partial.place = c.out_place;
            partial.loc = c.loc;
            missing(partial, off);
          }
          acc = target.value[static_cast<size_t>(off)];
        }
        odometer(c.implicit, in_lo, in_hi, [&] {  // leaves the output slots as they are
          if (holds(c, c.term_conditions)) acc = round_to(f, acc + value(c, c.root));
        });
        if (last)
          for (int h : c.hoisted) acc = round_to(f, acc * value(c, h));
        v = acc;
        if (!last) {  // a partial sum: kept in the accumulation format
          target.value[static_cast<size_t>(off)] = v;
          target.valid[static_cast<size_t>(off)] = 1;
          return;
        }
      }
      target.value[static_cast<size_t>(off)] = round_to(out.format, v);
      target.valid[static_cast<size_t>(off)] = 1;
    });
  }

  // Offsets of `tensor` that Einsum c's points in [lo, hi] read or write.
  std::set<int64_t> touched(const EinsumCode& c, int tensor, const std::vector<int64_t>& lo,
                            const std::vector<int64_t>& hi, bool reads, bool writes) {
    std::set<int64_t> out;
    const TensorData& t = tensors[tensor];
    auto walk = [&](const std::vector<IndexProgram>& dims) {
      std::set<int> used_set;
      for (const IndexProgram& d : dims) used_set.insert(d.slots_used().begin(), d.slots_used().end());
      const std::vector<int> used(used_set.begin(), used_set.end());
      slots.assign(c.extents.size(), 0);
      odometer(used, pick(used, lo), pick(used, hi), [&] {
        bool inside = true;
        const int64_t off = offset_of(dims, t, inside);
        if (inside) out.insert(off);
      });
    };
    if (reads)
      for (const ReadSite& r : c.reads)
        if (r.tensor == tensor) walk(r.dims);
    if (writes && c.out_tensor == tensor) walk(c.out_dims);
    return out;
  }

  void copy(int tensor, const std::set<int64_t>& offsets, int from, int to, double& moved) {
    TensorData& t = tensors[tensor];
    Copy& src = t.place(from);
    Copy& dst = t.place(to);
    for (int64_t off : offsets) {
      const size_t i = static_cast<size_t>(off);
      if (!src.valid[i]) continue;
      dst.value[i] = src.value[i];
      dst.valid[i] = 1;
      moved += 1;
    }
  }

  // A recurrence's members, step by step over the iterative rank, each on its own tile.
  void interleave(const Recurrence& r) {
    const size_t n = r.members.size();
    std::vector<std::vector<int64_t>> lo(n), hi(n);
    int64_t first = std::numeric_limits<int64_t>::max(), end = -1;
    for (size_t i = 0; i < n; ++i) {
      const int e = r.members[i];
      auto it = member_iteration.find(e);
      if (it == member_iteration.end() || r.slot[i] < 0)
        throw Error(fmt::format("data mode: Einsum {} of a recurrence did not run before its last "
                                "member", problem.einsums[e].name));
      region(code[e], it->second, lo[i], hi[i]);
      first = std::min(first, lo[i][r.slot[i]]);
      end = std::max(end, hi[i][r.slot[i]]);
    }
    for (int64_t k = first; k <= end; ++k)
      for (size_t i = 0; i < n; ++i) {
        const int s = r.slot[i];
        if (k < lo[i][s] || k > hi[i][s]) continue;
        std::vector<int64_t> l = lo[i], h = hi[i];
        l[s] = h[s] = k;
        evaluate(code[r.members[i]], l, h);
      }
    for (int e : r.members) member_iteration.erase(e);
  }

  // ---- GEMM runs on the 2D array (datapath_gemm.h)

  GemmFeed gemms;

  // Gathers operation id's operands for the array instead of evaluating it, if it is fed.
  bool gather(int id, const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
    if (!gemms.fed(id)) return false;
    TensorData& out = tensors[c.out_tensor];
    const GemmAccess access{slots, [&](const ReadSite& r) { return read(c, r); }, [&] {
                              bool inside = true;
                              const int64_t off = offset_of(c.out_dims, out, inside);
                              if (!inside) throw Error(c.loc, "Einsum " + c.name + " writes out of range");
                              return off;
                            },
                            [&](std::vector<double>& out) {
                              for (int h : c.hoisted) out.push_back(value(c, h));
                            }};
    const double points = gemms.gather(id, plan.ops[static_cast<size_t>(id)].einsum, c, tensors,
                                       options.accumulate, lo, hi, access);
    if (points <= 0) {
      ++counts.array_declined;
      return false;
    }
    counts.points += points;
    counts.array_points += points;
    ++counts.array_runs;
    return true;
  }

  // ---- 1D-unit commands (datapath_lanes.h)

  LaneFeed lanes;

  // Gathers a fed leader run's operands for the lanes (its value is still evaluated).
  void gather_lanes(int id, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
    if (!lanes.fed(id)) return;
    const LaneAccess access{slots, [&](const EinsumCode& k, const ReadSite& r) { return read(k, r); },
                            [&](const EinsumCode& k) {
                              bool inside = true;
                              const int64_t off = offset_of(k.out_dims, tensors[k.out_tensor], inside);
                              return inside ? off : -1;
                            },
                            [&](const EinsumCode& k) { return holds(k, k.output_conditions); }};
    const double points = lanes.gather(id, plan.ops[static_cast<size_t>(id)].einsum, code, options, lo, hi, access);
    if (points < 0) {
      ++counts.lane_declined;
      return;
    }
    counts.lane_points += points;
    ++counts.lane_runs;
  }

  void run(int id) {
    const PlanOp& o = plan.ops[static_cast<size_t>(id)];
    if (o.slice != 0) return;
    if (o.kind != PlanOp::Kind::Compute && o.tensor < 0) return;  // spill traffic: timing only
    op = id;
    ++counts.operations;
    std::vector<int64_t> lo, hi;
    const EinsumCode& c = code[static_cast<size_t>(o.einsum)];
    switch (o.kind) {
      case PlanOp::Kind::Compute: {
        const int r = member_of[static_cast<size_t>(o.einsum)];
        if (r < 0) {
          region(c, o.iteration, lo, hi);
          gather_lanes(id, lo, hi);
          if (!gather(id, c, lo, hi)) evaluate(c, lo, hi);
          // a MaxExp partner: the lanes' r1, if its leader's run computed it
          lanes.put_partner(o.einsum, o.iteration, tensors[c.out_tensor].place(c.out_place));
          return;
        }
        if (lanes.fed(id)) ++counts.lane_declined;  // a recurrence spanning tiles: step by step
        if (gemms.fed(id)) ++counts.array_declined;  // evaluated step by step below
        member_iteration[o.einsum] = o.iteration;
        if (recurrences[r].members.back() == o.einsum) interleave(recurrences[r]);
        return;
      }
      case PlanOp::Kind::Load:
        region(c, o.iteration, lo, hi);
        copy(o.tensor, touched(c, o.tensor, lo, hi, true, true), kDram, o.staged ? kBuffer : kArray,
             counts.loaded);
        return;
      case PlanOp::Kind::Store: {
        // The tile its compute finished (the store itself runs when the next tile starts).
        // A store's one dependency (plan.cpp: flush_store).
        const PlanOp& producer = plan.ops[static_cast<size_t>(plan.deps(static_cast<size_t>(id))[0])];
        region(c, producer.iteration, lo, hi);
        copy(o.tensor, touched(c, o.tensor, lo, hi, false, true), o.staged ? kBuffer : kArray, kDram,
             counts.stored);
        return;
      }
    }
  }
};

Datapath::Datapath(const Problem& problem, const Plan& plan, const TensorMap& inputs,
                   const ExecutionOptions& options, bool fast)
    : impl_(std::make_unique<Impl>(problem, plan, inputs, options, fast)) {}
Datapath::~Datapath() = default;
void Datapath::run(int op) { impl_->run(op); }

void Datapath::feed_gemms(std::function<bool(NumberFormat, NumberFormat, NumberFormat)> accepts) {
  impl_->gemms.accepts = std::move(accepts);
}

void Datapath::feed_gemm(int op, int64_t rows, int64_t cols, Dataflow dataflow,
                         const SystolicGeometry& geometry) {
  if (impl_->plan.ops.at(static_cast<size_t>(op)).slice == 0)
    impl_->gemms.feed(op, rows, cols, dataflow, geometry);
}

bool Datapath::take_gemm(int op, GemmOperands& operands) { return impl_->gemms.take(op, operands); }

void Datapath::feed_lanes(std::function<bool(NumberFormat, NumberFormat, ExpMode)> accepts) {
  impl_->lanes.accepts = std::move(accepts);
  impl_->lanes.roles = lane_roles(impl_->problem);
}

void Datapath::feed_lane_run(int op, int lanes) {
  if (impl_->plan.ops[static_cast<size_t>(op)].slice == 0) impl_->lanes.feed(op, lanes);
}

bool Datapath::take_lanes(int op, std::vector<LaneBatch>& commands) {
  return impl_->lanes.take(op, impl_->plan.ops[static_cast<size_t>(op)].einsum, commands);
}

void Datapath::put_lanes(int op, const LaneRun& run) {
  const PlanOp& o = impl_->plan.ops[static_cast<size_t>(op)];
  const EinsumCode& c = impl_->code[static_cast<size_t>(o.einsum)];
  impl_->lanes.put(op, o.einsum, o.iteration, run, impl_->tensors[c.out_tensor].place(c.out_place));
}

NumberFormat Datapath::storage() const { return impl_->options.storage; }

void Datapath::put_gemm(int op, const std::vector<double>& c) {
  const EinsumCode& code = impl_->code[static_cast<size_t>(impl_->plan.ops[static_cast<size_t>(op)].einsum)];
  impl_->gemms.put(op, c, impl_->options.accumulate, impl_->tensors[code.out_tensor].format,
                   impl_->tensors[code.out_tensor].place(code.out_place));
}

NumberFormat Datapath::accumulate() const { return impl_->options.accumulate; }
const DatapathCounts& Datapath::counts() const { return impl_->counts; }

TensorMap Datapath::results() const {
  TensorMap out;
  for (TensorData& t : impl_->tensors) {
    Tensor v;
    v.extents = t.sizes;
    v.values = t.place(t.home).value;
    out[t.name] = std::move(v);
  }
  return out;
}

}  // namespace cascade
