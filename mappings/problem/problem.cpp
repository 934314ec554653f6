#include "mappings/problem/problem.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "arch/support/checked.h"
#include "arch/support/names.h"
#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"

namespace cascade {

namespace {

bool has_reduction(const Expr& e) {
  if (e.op == ExprOp::Reduce) return true;
  for (const Expr& a : e.args)
    if (has_reduction(a)) return true;
  return false;
}

bool plain_variable_indices(const std::vector<IndexExpr>& indices, std::vector<std::string>& vars) {
  for (const IndexExpr& i : indices) {
    if (i.op == IndexOp::Variable)
      vars.push_back(i.name);
    else if (i.op == IndexOp::Add && i.args.size() == 2 && i.args[0].op == IndexOp::Variable &&
             i.args[1].op == IndexOp::Constant)
      vars.push_back(i.args[0].name);  // RM[m1+1, p]
    else
      return false;
  }
  return true;
}

void substitute(IndexExpr& e, const std::string& var, const IndexExpr& by) {
  if (e.op == IndexOp::Variable && e.name == var) {
    e = by;
    return;
  }
  for (IndexExpr& a : e.args) substitute(a, var, by);
}

void substitute(Expr& e, const std::string& var, const IndexExpr& by) {
  for (IndexExpr& i : e.indices) substitute(i, var, by);
  for (Expr& a : e.args) substitute(a, var, by);
}

// The models see an Einsum's reads over its own variables: a read in part k of
// concat(j: ...) is written with the part's variable d replaced by j - (the sizes of the
// parts before k), so it spans the j tile (an upper bound on the part's footprint: a tile
// that covers several parts is charged for each). The reads inside parts go to `in_parts`.
void concat_parts_over_j(Expr& e, const Cascade& cascade, const Bindings& bindings,
                         std::vector<const Expr*>* in_parts, bool inside = false) {
  if (e.op == ExprOp::Read && inside) in_parts->push_back(&e);
  if (e.op != ExprOp::Concat || e.indices.size() != 1) {
    for (Expr& a : e.args) concat_parts_over_j(a, cascade, bindings, in_parts, inside);
    return;
  }
  const Concatenation* cat = cascade.find_concatenation(rank_of_variable(e.indices[0].name));
  int64_t offset = 0;
  for (size_t k = 0; k < e.args.size() && k < e.reduce_vars.size(); ++k) {
    IndexExpr by = e.indices[0];
    if (offset > 0) {
      IndexExpr sub;
      sub.op = IndexOp::Sub;
      IndexExpr c;
      c.value = offset;
      sub.args = {by, c};
      by = std::move(sub);
    }
    substitute(e.args[k], e.reduce_vars[k], by);
    concat_parts_over_j(e.args[k], cascade, bindings, in_parts, true);
    if (cat != nullptr && k < cat->parts.size()) offset += bindings.shape(cat->parts[k]);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Problem

int ProblemEinsum::slot_of_rank(const std::string& rank) const {
  // Rank names are short and often one letter: compare the first letter before the rest.
  if (rank.empty()) return -1;
  for (size_t i = 0; i < variables.size(); ++i) {
    const std::string& r = variables[i].rank;
    if (r.size() == rank.size() && r[0] == rank[0] && r == rank) return static_cast<int>(i);
  }
  return -1;
}

int Problem::find_einsum(const std::string& name) const {
  const auto it = einsum_index.find(name);
  return it == einsum_index.end() ? -1 : it->second;
}

int Problem::find_tensor(const std::string& name) const {
  const auto it = tensor_index.find(name);
  return it == tensor_index.end() ? -1 : it->second;
}

Problem make_problem(const Cascade& cascade, const Bindings& bindings, int64_t batch, int64_t heads,
                     double word_bytes) {
  if (batch < 1) throw Error("batch must be at least 1, got " + std::to_string(batch));
  if (heads < 1) throw Error("heads must be at least 1, got " + std::to_string(heads));
  Problem problem;
  problem.cascade = cascade;
  problem.bindings = bindings;
  problem.batch = batch;
  problem.heads = heads;
  problem.word_bytes = word_bytes;

  for (const TensorInfo& t : cascade.tensors) {
    ProblemTensor pt;
    pt.name = t.name;
    pt.ranks = t.ranks;
    pt.producer = t.producer;
    pt.consumers = t.consumers;
    pt.input = t.producer < 0;
    pt.output = contains(cascade.outputs, t.name);
    pt.elements = 1;
    // The whole tensor (every batch and head) in bytes must be a 64-bit count: a larger
    // one is a size no design point can have, refused with the tensor's name.
    const std::string what = "tensor " + t.name + " [" + join(t.ranks, ", ") + "] x batch " +
                             std::to_string(batch) + " x heads " + std::to_string(heads);
    int64_t total = checked_mul(batch, heads, what);
    for (size_t d = 0; d < t.ranks.size(); ++d) {
      const int64_t extra = d < t.extra.size() ? t.extra[d] : 0;
      pt.sizes.push_back(checked_add(bindings.shape(t.ranks[d]), extra, what));
      pt.elements *= static_cast<double>(pt.sizes.back());
      total = checked_mul(total, pt.sizes.back(), what);
      if (extra > 0 && pt.iterative_dimension < 0) pt.iterative_dimension = static_cast<int>(d);
    }
    checked_mul(total, static_cast<int64_t>(std::ceil(word_bytes)), what + " (bytes)");
    problem.tensor_index[pt.name] = static_cast<int>(problem.tensors.size());
    problem.tensors.push_back(std::move(pt));
  }

  // Iteration points and operators: the one counter (mappings/analysis/operator_counts),
  // exact under `where` masks and partial last tiles.
  const std::vector<EinsumCost> costs = operator_counts(cascade, bindings);
  for (size_t i = 0; i < cascade.einsums.size(); ++i) {
    const Einsum& einsum = cascade.einsums[i];
    ProblemEinsum pe;
    pe.name = einsum.output;
    pe.variables.push_back({kBatchRank, kBatchRank, batch});
    pe.variables.push_back({kHeadRank, kHeadRank, heads});
    const EinsumVariables vars = einsum_variables(einsum);
    for (const std::string& v : vars.all()) {
      const std::string rank = rank_of_variable(v);
      pe.variables.push_back({v, rank, bindings.shape(rank), !contains(vars.output, v), false});
    }
    for (const IndexExpr& index : einsum.output_indices)
      if (index.op == IndexOp::Add && index.args.size() == 2 &&
          index.args[0].op == IndexOp::Variable)
        for (ProblemVariable& v : pe.variables)
          if (v.name == index.args[0].name) v.iterative = true;
    pe.box = 1;
    int64_t iterations = checked_mul(batch, heads, "einsum " + einsum.output + "'s iterations");
    for (size_t s = 2; s < pe.variables.size(); ++s) {
      pe.box *= static_cast<double>(pe.variables[s].extent);
      iterations = checked_mul(iterations, pe.variables[s].extent,
                               "einsum " + einsum.output + "'s iterations (batch x heads x " +
                                   join(vars.all(), " x ") + ")");
    }
    const EinsumCost& cost = costs[i];
    pe.points = cost.points;
    for (const auto& [op, rate] : cost.per_point.ops)
      if (rate > 0) pe.ops_per_point.emplace_back(op, rate);
    const double per = pe.points > 0 ? 1.0 / pe.points : 0;
    pe.operand_reads_per_point = (cost.total.operand_reads + cost.total.accumulator_accesses) * per;
    pe.result_writes_per_point = cost.total.operand_reads * per + 1;
    pe.contraction = cost.contraction;

    // Accesses: one per distinct tensor read, then the write.
    std::vector<std::string> slot_names;
    for (const ProblemVariable& v : pe.variables) slot_names.push_back(v.name);
    auto compile = [&](const IndexExpr& index) {
      return compile_index_extent(index, cascade, bindings, slot_names);
    };
    Expr value = einsum.value;
    std::vector<const Expr*> in_parts;
    concat_parts_over_j(value, cascade, bindings, &in_parts);
    std::vector<const Expr*> reads;
    collect_reads(value, reads);
    std::vector<std::string> output_vars;
    const bool plain_output = plain_variable_indices(einsum.output_indices, output_vars);
    const bool elementwise = plain_output && !has_reduction(einsum.value) && vars.implicit.empty();
    for (const Expr* r : reads) {
      const int t = problem.find_tensor(r->name);
      if (t < 0) continue;
      std::vector<std::string> read_vars;
      const bool same = !contains(in_parts, r) &&
                        plain_variable_indices(r->indices, read_vars) && plain_output &&
                        read_vars == output_vars && r->indices == einsum.output_indices;
      auto existing = std::find_if(pe.accesses.begin(), pe.accesses.end(),
                                   [&](const ProblemAccess& a) { return a.tensor == t; });
      if (existing != pe.accesses.end()) {
        existing->output_indices = existing->output_indices && same;
        continue;
      }
      ProblemAccess access;
      access.output_indices = same;
      access.tensor = t;
      access.variables = (uint64_t{1} << kBatchSlot) | (uint64_t{1} << kHeadSlot);
      for (const IndexExpr& index : r->indices) {
        access.dims.push_back(compile(index));
        index_variable_slots(access.dims.back(), access.variables);
      }
      pe.accesses.push_back(std::move(access));
    }
    ProblemAccess write;
    write.tensor = problem.find_tensor(einsum.output);
    write.write = true;
    write.variables = (uint64_t{1} << kBatchSlot) | (uint64_t{1} << kHeadSlot);
    for (const IndexExpr& index : einsum.output_indices) {
      write.dims.push_back(compile(index));
      index_variable_slots(write.dims.back(), write.variables);
    }
    pe.accesses.push_back(std::move(write));
    pe.elementwise = elementwise;
    problem.einsum_index[pe.name] = static_cast<int>(problem.einsums.size());
    problem.einsums.push_back(std::move(pe));
  }

  for (const EinsumGroup& g : evaluation_order(cascade))
    for (int e : g.einsums) problem.order.push_back(e);
  problem.position.assign(problem.einsums.size(), 0);
  for (size_t i = 0; i < problem.order.size(); ++i)
    problem.position[problem.order[i]] = static_cast<int>(i);
  for (const ProblemEinsum& pe : problem.einsums)
    if (pe.accesses.size() > 64 || pe.variables.size() > 64)
      throw Error(pe.name + ": more than 64 tensor accesses or variables");
  return problem;
}

}  // namespace cascade
