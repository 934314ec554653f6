#include "sim/systemc/datapath_gemm.h"

#include <algorithm>
#include <set>
#include <string>

#include "arch/support/error.h"
#include "mappings/problem/problem.h"

namespace cascade::datapath_detail {

namespace {

bool per_slice(int slot) { return slot == kBatchSlot || slot == kHeadSlot; }

int64_t extent(const std::vector<int>& slots, const std::vector<int64_t>& lo,
               const std::vector<int64_t>& hi) {
  int64_t n = 1;
  for (int s : slots) n *= hi[s] - lo[s] + 1;
  return n;
}

// Sets `slots` (lexicographic, the last fastest) to the index-th point of [lo, hi].
void place(const std::vector<int>& slots, int64_t index, const std::vector<int64_t>& lo,
           const std::vector<int64_t>& hi, std::vector<int64_t>& out) {
  for (size_t i = slots.size(); i-- > 0;) {
    const int s = slots[i];
    const int64_t size = hi[s] - lo[s] + 1;
    out[s] = lo[s] + index % size;
    index /= size;
  }
}

}  // namespace

bool gemm_form(const EinsumCode& c, GemmForm& f) {
  f = GemmForm{};
  if (c.implicit.size() != 1 || !c.reduced.empty() || !c.reduces.empty() || c.root < 0)
    return false;
  const Node& root = c.nodes[static_cast<size_t>(c.root)];
  if (root.op != ExprOp::Mul || root.args.size() != 2) return false;
  for (int i = 0; i < 2; ++i) {
    const Node& arg = c.nodes[static_cast<size_t>(root.args[static_cast<size_t>(i)])];
    if (arg.op != ExprOp::Read) return false;
    f.read[i] = arg.site;
  }
  if (f.read[0] == f.read[1]) return false;
  f.k = c.implicit[0];
  std::set<int> used[2];
  for (int i = 0; i < 2; ++i)
    for (const IndexProgram& d : c.reads[static_cast<size_t>(f.read[i])].dims)
      for (int s : d.slots_used())
        if (!per_slice(s)) used[i].insert(s);
  if (!used[0].count(f.k) || !used[1].count(f.k)) return false;
  const std::set<int> outputs(c.outputs.begin(), c.outputs.end());
  for (int s : c.outputs) {
    if (per_slice(s)) continue;
    const bool in0 = used[0].count(s) > 0, in1 = used[1].count(s) > 0;
    if (in0 == in1)  // a batched product, or an output no operand indexes: one value a tile
      f.single.push_back(s);
    else
      f.ranks[in0 ? 0 : 1].push_back(s);
  }
  for (int i = 0; i < 2; ++i)
    for (int s : used[i])
      if (s != f.k && !outputs.count(s)) return false;
  return true;
}

// Whether every condition of c but its output conditions (a term's: a partition bound on the
// summed rank, a mask over it) holds on every point of [lo, hi], over the slots it uses.
bool term_conditions_hold(const EinsumCode& c, const std::vector<int64_t>& lo,
                          const std::vector<int64_t>& hi, std::vector<int64_t>& slots) {
  for (size_t k = 0; k < c.conditions.size(); ++k) {
    if (std::find(c.output_conditions.begin(), c.output_conditions.end(), static_cast<int>(k)) !=
        c.output_conditions.end())
      continue;
    const ConditionProgram& condition = c.conditions[k];
    const std::vector<int>& used = condition.difference.slots_used();
    const int64_t points = extent(used, lo, hi);
    for (int64_t p = 0; p < points; ++p) {
      place(used, p, lo, hi, slots);
      if (!condition.holds(slots.data())) return false;
    }
  }
  return true;
}

bool output_conditions_hold(const EinsumCode& c, const std::vector<int64_t>& slots) {
  for (int k : c.output_conditions)
    if (!c.conditions[static_cast<size_t>(k)].holds(slots.data())) return false;
  return true;
}

bool gather_gemm(const EinsumCode& c, const GemmForm& f, const std::vector<int64_t>& lo,
                 const std::vector<int64_t>& hi,
                 const std::function<bool(int64_t m, int64_t n, int64_t k)>& fits,
                 const GemmAccess& access, GemmTile& tile) {
  if (lo[f.k] != 0) return false;
  for (int s : f.single)
    if (lo[s] != hi[s]) return false;
  const int64_t k = hi[f.k] - lo[f.k] + 1;
  const int64_t e0 = extent(f.ranks[0], lo, hi), e1 = extent(f.ranks[1], lo, hi);
  const int a = fits(e0, e1, k) ? 0 : fits(e1, e0, k) ? 1 : -1;
  if (a < 0) return false;
  const int64_t m = a == 0 ? e0 : e1, n = a == 0 ? e1 : e0;
  std::vector<int64_t>& slots = access.slots;
  slots.assign(c.extents.size(), 0);
  if (!term_conditions_hold(c, lo, hi, slots)) return false;  // masked terms: the datapath's
  const int b = 1 - a;
  const ReadSite& read_a = c.reads[static_cast<size_t>(f.read[a])];
  const ReadSite& read_b = c.reads[static_cast<size_t>(f.read[b])];
  for (int s : f.single) slots[s] = lo[s];
  tile.operands.m = m, tile.operands.n = n, tile.operands.k = k;
  tile.operands.a.assign(static_cast<size_t>(m * k), 0.0);
  tile.operands.b.assign(static_cast<size_t>(k * n), 0.0);
  tile.out_offsets.assign(static_cast<size_t>(m * n), 0);
  tile.written.assign(static_cast<size_t>(m * n), 1);
  tile.last = hi[f.k] == c.extents[static_cast<size_t>(f.k)] - 1;
  tile.hoisted.clear();
  tile.factors = tile.last ? c.hoisted.size() : 0;
  for (int64_t i = 0; i < m; ++i) {
    place(f.ranks[a], i, lo, hi, slots);
    for (int64_t kk = 0; kk < k; ++kk) {
      slots[f.k] = lo[f.k] + kk;
      tile.operands.a[static_cast<size_t>(i * k + kk)] = access.read(read_a);
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    place(f.ranks[b], j, lo, hi, slots);
    for (int64_t kk = 0; kk < k; ++kk) {
      slots[f.k] = lo[f.k] + kk;
      tile.operands.b[static_cast<size_t>(kk * n + j)] = access.read(read_b);
    }
  }
  for (int64_t i = 0; i < m; ++i) {
    place(f.ranks[a], i, lo, hi, slots);
    for (int64_t j = 0; j < n; ++j) {
      place(f.ranks[b], j, lo, hi, slots);
      // A masked output element (an output condition fails) keeps what its place holds, as
      // in the executor; its hoisted factors are not read.
      const bool kept = output_conditions_hold(c, slots);
      tile.written[static_cast<size_t>(i * n + j)] = kept;
      tile.out_offsets[static_cast<size_t>(i * n + j)] = kept ? access.out_offset() : 0;
      if (kept && tile.factors > 0) access.hoisted(tile.hoisted);
      if (!kept) tile.hoisted.resize(tile.hoisted.size() + tile.factors, 0.0);
    }
  }
  return true;
}

void GemmFeed::feed(int op, int64_t rows, int64_t cols, Dataflow dataflow,
                    const SystolicGeometry& geometry) {
  Run& run = runs_[op];
  run.rows = rows, run.cols = cols, run.dataflow = dataflow, run.geometry = geometry;
}

double GemmFeed::gather(int op, int e, const EinsumCode& c, const std::vector<TensorData>& tensors,
                        NumberFormat accumulate, const std::vector<int64_t>& lo,
                        const std::vector<int64_t>& hi, const GemmAccess& access) {
  auto run = runs_.find(op);
  if (run == runs_.end()) return 0;
  auto known = forms_.find(e);
  if (known == forms_.end()) {
    GemmForm f;
    const bool gemm = gemm_form(c, f) &&
                      (!accepts || accepts(tensors[static_cast<size_t>(c.reads[f.read[0]].tensor)].format,
                                           tensors[static_cast<size_t>(c.reads[f.read[1]].tensor)].format,
                                           accumulate));
    known = forms_.emplace(e, gemm ? std::optional<GemmForm>(f) : std::nullopt).first;
  }
  Run& r = run->second;
  auto fits = [&](int64_t m, int64_t n, int64_t k) {
    return systolic_geometry(r.rows, r.cols, r.dataflow, m, n, k) == r.geometry;
  };
  if (!known->second || !gather_gemm(c, *known->second, lo, hi, fits, access, r.tile)) return 0;
  r.gathered = true;
  const GemmOperands& g = r.tile.operands;
  return static_cast<double>(g.m * g.n * g.k);
}

bool GemmFeed::take(int op, GemmOperands& operands) {
  auto run = runs_.find(op);
  if (run == runs_.end() || !run->second.gathered) return false;
  operands = std::move(run->second.tile.operands);
  return true;
}

void GemmFeed::put(int op, const std::vector<double>& c, NumberFormat accumulate,
                   NumberFormat storage, Copy& target) {
  auto run = runs_.find(op);
  if (run == runs_.end() || !run->second.gathered)
    throw Error("data mode: operation " + std::to_string(op) + " returned a GEMM it was not given");
  const GemmTile& tile = run->second.tile;
  if (c.size() != tile.out_offsets.size())
    throw Error("data mode: operation " + std::to_string(op) + "'s GEMM returned " +
                std::to_string(c.size()) + " values for " + std::to_string(tile.out_offsets.size()));
  for (size_t i = 0; i < c.size(); ++i) {
    if (!tile.written[i]) continue;
    const size_t off = static_cast<size_t>(tile.out_offsets[i]);
    double v = c[i];
    for (size_t h = 0; h < tile.factors; ++h) v = round_to(accumulate, v * tile.hoisted[i * tile.factors + h]);
    target.value[off] = tile.last ? round_to(storage, v) : v;
    target.valid[off] = 1;
  }
  runs_.erase(run);
}

}  // namespace cascade::datapath_detail
