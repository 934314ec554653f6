#include "sim/functional/executor.h"
#include "arch/support/checked.h"

#include <bit>
#include <cmath>
#include <deque>
#include <limits>
#include <algorithm>
#include <set>
#include <type_traits>

#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/index_program.h"
#include "sim/functional/executor_kernel.h"
#include "sim/functional/rounding_noise.h"

namespace cascade {

namespace {

using namespace executor_detail;

// The rounding-noise model as a pseudo format of the kernels' template parameter (a scoped
// enum holds any int); only Kernel's own rounding steps (rnd, store) know it.
constexpr NumberFormat kNoise = static_cast<NumberFormat>(64);

// One Einsum compiled for one set of shapes.
class Kernel {
 public:
  Kernel(const Cascade& cascade, const Bindings& bindings, const Einsum& einsum,
         TensorMap& tensors, const std::map<std::string, NumberFormat>& formats,
         const ExecutionOptions& options)
      : cascade_(cascade), bindings_(bindings), einsum_(einsum), options_(options),
        noise_(options.noise_seed, einsum) {
    const EinsumVariables vars = einsum_variables(einsum);
    std::map<std::string, int> scope;
    auto add_slot = [&](const std::string& v) {
      const int slot = static_cast<int>(extents_.size());
      extents_.push_back(bindings.shape(rank_of_variable(v)));
      return slot;
    };
    for (const std::string& v : vars.output) scope[v] = add_slot(v);
    outputs_ = static_cast<int>(extents_.size());
    for (const std::string& v : vars.implicit) scope[v] = add_slot(v);
    outer_ = static_cast<int>(extents_.size());

    Tensor& out = tensors.at(einsum.output);
    output_ = &out;
    output_format_ = formats.at(einsum.output);
    for (const IndexExpr& i : einsum.output_indices)
      output_index_.emplace_back(i, cascade, bindings, scope);

    pending_ = einsum.where;
    outer_levels_.resize(outer_);
    std::vector<std::string> outer_names;
    for (const auto& [name, slot] : scope) outer_names.push_back(name);
    std::vector<Condition> outer_conditions = partition_conditions(cascade, outer_names);
    for (auto it = pending_.begin(); it != pending_.end();) {
      const std::set<std::string> used = condition_variables(*it);
      bool inside = true;
      for (const std::string& v : used) inside = inside && scope.count(v);
      if (inside) {
        outer_conditions.push_back(*it);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    for (const Condition& c : outer_conditions) attach(c, scope, outer_levels_, 0);

    root_ = vars.implicit.empty()
                ? compile(einsum.value, scope, tensors)
                : compile_summand(einsum.value, vars.implicit, scope, scope, tensors, hoisted_);
    for (const Condition& c : pending_)
      throw Error(c.loc, "condition uses a variable that no loop of Einsum " + einsum.output +
                             " binds");
    fast_ = vars.implicit.empty() ? false : collect_factors(root_);
    block_ok_ = outputs_ > 0 && block_applicable(outputs_ - 1);
  }

  // Runs the Einsum over its whole space, or over one slice when fixed_slot >= 0.
  void run(int fixed_slot = -1, int64_t fixed_value = 0) {
    fixed_slot_ = fixed_slot;
    fixed_value_ = fixed_value;
    slots_.assign(extents_.size(), 0);
    if (options_.rounding_noise) {
      noise_arith_ = NoiseFormat::of(options_.accumulate);
      noise_store_ = NoiseFormat::of(output_format_);
      run_as<kNoise>();
      return;
    }
    switch (options_.accumulate) {
      case NumberFormat::FP64: run_as<NumberFormat::FP64>(); break;
      case NumberFormat::FP32: run_as<NumberFormat::FP32>(); break;
      case NumberFormat::BF16: run_as<NumberFormat::BF16>(); break;
      case NumberFormat::FP16: run_as<NumberFormat::FP16>(); break;
    }
  }

  int slot_of_output_variable(const std::string& var) const {
    const EinsumVariables vars = einsum_variables(einsum_);
    for (size_t i = 0; i < vars.output.size(); ++i)
      if (vars.output[i] == var) return static_cast<int>(i);
    return -1;
  }

 private:
  // Puts a condition at the level of the last slot it reads (relative to `first_slot`).
  void attach(const Condition& c, const std::map<std::string, int>& scope,
              std::vector<std::vector<const ConditionProgram*>>& levels, int first_slot) {
    conditions_.push_back(compile_condition(c, cascade_, bindings_, scope));
    const ConditionProgram* p = &conditions_.back();
    const auto& used = p->difference.slots_used();
    const int level = used.empty() ? 0 : std::max(0, used.back() - first_slot);
    levels[level].push_back(p);
  }

  int compile(const Expr& e, const std::map<std::string, int>& scope, TensorMap& tensors) {
    Node n;
    n.op = e.op;
    switch (e.op) {
      case ExprOp::Number: n.number = round_to(options_.accumulate, e.number); break;
      case ExprOp::Parameter: {
        auto it = bindings_.parameters.find(e.name);
        if (it == bindings_.parameters.end())
          throw Error(e.loc, "parameter '" + e.name + "' has no value");
        n.number = round_to(options_.accumulate, it->second);
        n.op = ExprOp::Number;
        break;
      }
      case ExprOp::Index: n.index = IndexProgram(e.indices.at(0), cascade_, bindings_, scope); break;
      case ExprOp::Read: {
        auto it = tensors.find(e.name);
        if (it == tensors.end()) throw Error(e.loc, "tensor '" + e.name + "' has no values");
        Read r;
        r.tensor = e.name;
        r.data = it->second.values.data();
        r.extents = it->second.extents;
        r.loc = e.loc;
        if (e.indices.size() != r.extents.size())
          throw Error(e.loc, "tensor " + e.name + " has " + std::to_string(r.extents.size()) +
                                 " dimensions, read with " + std::to_string(e.indices.size()));
        r.strides.assign(r.extents.size(), 1);
        for (int d = static_cast<int>(r.extents.size()) - 2; d >= 0; --d)
          r.strides[d] = r.strides[d + 1] * r.extents[d + 1];
        for (const IndexExpr& i : e.indices) r.dims.emplace_back(i, cascade_, bindings_, scope);
        reads_.push_back(std::move(r));
        n.read = static_cast<int>(reads_.size()) - 1;
        break;
      }
      case ExprOp::Call: n.function = function_of(e.name, e.loc); break;
      case ExprOp::Reduce: {
        n.reduce_max = e.name == "max";
        n.reduce_min = e.name == "min";
        std::map<std::string, int> inner = scope;
        const int first = static_cast<int>(extents_.size());
        for (const std::string& v : e.reduce_vars) {
          const int slot = static_cast<int>(extents_.size());
          extents_.push_back(bindings_.shape(rank_of_variable(v)));
          inner[v] = slot;
          n.slots.push_back(slot);
        }
        n.levels.resize(n.slots.size());
        std::vector<std::string> names;
        for (const auto& [name, slot] : inner) names.push_back(name);
        auto uses_reduced = [&](const std::set<std::string>& used) {
          for (const std::string& v : e.reduce_vars)
            if (used.count(v)) return true;
          return false;
        };
        for (const Condition& c : partition_conditions(cascade_, names))
          if (uses_reduced(condition_variables(c))) attach(c, inner, n.levels, first);
        for (auto it = pending_.begin(); it != pending_.end();) {
          const std::set<std::string> used = condition_variables(*it);
          bool inside = uses_reduced(used);
          for (const std::string& v : used) inside = inside && inner.count(v);
          if (inside) {
            attach(*it, inner, n.levels, first);
            it = pending_.erase(it);
          } else {
            ++it;
          }
        }
        n.args.push_back(e.name == "sum" ? compile_summand(e.args.at(0), e.reduce_vars, inner,
                                                           scope, tensors, n.hoisted)
                                         : compile(e.args.at(0), inner, tensors));
        nodes_.push_back(std::move(n));
        return static_cast<int>(nodes_.size()) - 1;
      }
      case ExprOp::Concat: {  // part k binds its variable to j - (the parts before it)
        n.index = IndexProgram(e.indices.at(0), cascade_, bindings_, scope);
        for (size_t k = 0; k < e.args.size(); ++k) {
          std::map<std::string, int> inner = scope;
          inner[e.reduce_vars.at(k)] = n.slots.emplace_back(static_cast<int>(extents_.size()));
          extents_.push_back(concat_part_extent(e, k, cascade_, bindings_));
          n.parts_end.push_back((k == 0 ? 0 : n.parts_end.back()) + extents_.back());
          n.args.push_back(compile(e.args[k], inner, tensors));
        }
        nodes_.push_back(std::move(n));
        return static_cast<int>(nodes_.size()) - 1;
      }
      default: break;
    }
    for (const Expr& a : e.args) n.args.push_back(compile(a, scope, tensors));
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }

  // The summand of a sum over `summed`: the factors of a product that do not depend on the
  // summed variables (split_summed_product, the operator counter's rule) are compiled in
  // the outer scope into `hoisted`, to multiply the finished sum; the summand is the
  // product as written without them.
  int compile_summand(const Expr& summand, const std::vector<std::string>& summed,
                      const std::map<std::string, int>& inner,
                      const std::map<std::string, int>& outer, TensorMap& tensors,
                      std::vector<int>& hoisted) {
    const SummedProduct split = split_summed_product(summand, summed);
    if (split.independent.empty()) return compile(summand, inner, tensors);
    Expr rest;
    without_factors(summand, split.independent, rest);  // dependent factors remain
    const int root = compile(rest, inner, tensors);
    for (const Expr* f : split.independent) hoisted.push_back(compile(*f, outer, tensors));
    return root;
  }

  // Multiplies a finished sum by its hoisted factors, in order, rounding after each.
  template <NumberFormat F>
  double apply_hoisted(const std::vector<int>& hoisted, double sum) {
    for (int h : hoisted) sum = rnd<F>(sum * evaluate<F>(h));
    return sum;
  }

  // The fast path: a left-deep product of reads and constants, summed implicitly.
  bool collect_factors(int node) {
    const Node& n = nodes_[node];
    if (n.op == ExprOp::Mul) {
      if (!collect_factors(n.args[0])) return false;
      const Node& right = nodes_[n.args[1]];
      if (right.op != ExprOp::Read && right.op != ExprOp::Number) return false;
      factors_.push_back(n.args[1]);
      return true;
    }
    if (n.op == ExprOp::Read || n.op == ExprOp::Number) {
      factors_.push_back(node);
      return true;
    }
    return false;
  }

  [[noreturn]] void out_of_range(const Read& r, size_t d, int64_t i) const {
    throw Error(r.loc, "Einsum " + einsum_.output + " reads " + r.tensor + " out of range: index " +
                           std::to_string(i) + " of dimension " + std::to_string(d + 1) +
                           " is not in [0, " + std::to_string(r.extents[d]) + ")");
  }

  int64_t read_offset(const Read& r) const {
    int64_t off = 0;
    for (size_t d = 0; d < r.dims.size(); ++d) {
      const int64_t i = r.dims[d].evaluate(slots_.data());
      if (i < 0 || i >= r.extents[d]) out_of_range(r, d, i);
      off += i * r.strides[d];
    }
    return off;
  }

  template <NumberFormat F>
  double evaluate(int index) {
    const Node& n = nodes_[index];
    switch (n.op) {
      case ExprOp::Number:
      case ExprOp::Parameter: return n.number;
      case ExprOp::Index: {  // an integer: exact in the noise model as in the datapath
        const double i = static_cast<double>(n.index.evaluate(slots_.data()));
        if constexpr (F == kNoise) return round_to(options_.accumulate, i);
        else return round_as<F>(i);
      }
      case ExprOp::Read: {
        const Read& r = reads_[n.read];
        return r.data[read_offset(r)];
      }
      case ExprOp::Neg: return -evaluate<F>(n.args[0]);
      case ExprOp::Add: return rnd<F>(evaluate<F>(n.args[0]) + evaluate<F>(n.args[1]));
      case ExprOp::Sub: return rnd<F>(evaluate<F>(n.args[0]) - evaluate<F>(n.args[1]));
      case ExprOp::Mul: return rnd<F>(evaluate<F>(n.args[0]) * evaluate<F>(n.args[1]));
      case ExprOp::Div: return rnd<F>(evaluate<F>(n.args[0]) / evaluate<F>(n.args[1]));
      case ExprOp::Call: return call<F>(n);
      case ExprOp::Reduce: {
        double acc = n.reduce_max ? -std::numeric_limits<double>::infinity()
                     : n.reduce_min ? std::numeric_limits<double>::infinity()
                                    : 0.0;
        reduce<F>(n, 0, acc);
        return apply_hoisted<F>(n.hoisted, acc);
      }
      case ExprOp::Concat:  // a copy of one part's value: no rounding
        return evaluate<F>(n.args[enter_concat_part(n, slots_, einsum_)]);
    }
    return 0;
  }

  template <NumberFormat F>
  double call(const Node& n) {
    if constexpr (F == kNoise) return call_with_noise(n);
    const double a = evaluate<F>(n.args[0]);
    switch (n.function) {
      case Function::Exp: return exp_in(options_.exp, F, a);
      case Function::Sqrt: return rnd<F>(std::sqrt(a));
      case Function::Log: return rnd<F>(std::log(a));
      case Function::Abs: return std::fabs(a);
      case Function::Relu: return a > 0 ? a : (std::isnan(a) ? a : 0.0);
      case Function::Elu1: return a > 0 ? rnd<F>(a + 1.0) : exp_in(options_.exp, F, a);
      case Function::Sigmoid: return sigmoid_in(options_.exp, F, a);
      case Function::Tanh: return tanh_in(F, a);
      case Function::Softplus: return softplus_in(options_.exp, F, a);
      case Function::Max: return maximum(a, evaluate<F>(n.args[1]));
      case Function::Min: return -maximum(-a, -evaluate<F>(n.args[1]));
      case Function::Pow: return rnd<F>(std::pow(a, evaluate<F>(n.args[1])));
    }
    return 0;
  }

  double call_with_noise(const Node& n) {
    const double a = evaluate<kNoise>(n.args[0]);
    const double b = n.args.size() > 1 ? evaluate<kNoise>(n.args[1]) : 0.0;
    return noise_.function(n.function, a, b, options_.exp, options_.accumulate, noise_arith_);
  }

  // An arithmetic result rounded to the accumulation format (or perturbed like it).
  template <NumberFormat F>
  double rnd(double x) {
    if constexpr (F == kNoise) return noise_.perturb(x, noise_arith_);
    else return round_as<F>(x);
  }

  // An Einsum's result rounded to its tensor's storage format (or perturbed like it).
  template <NumberFormat F>
  double store(double x) {
    if constexpr (F == kNoise) return noise_.perturb(x, noise_store_);
    else return round_to(output_format_, x);
  }

  // max that propagates NaN.
  static double maximum(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
    return a > b ? a : b;
  }

  template <NumberFormat F>
  void reduce(const Node& n, size_t level, double& acc) {
    const int slot = n.slots[level];
    int64_t lo = 0, hi = extents_[slot] - 1;
    const bool exact = restrict_range(n.levels[level], slot, slots_.data(), lo, hi);
    for (int64_t v = lo; v <= hi; ++v) {
      slots_[slot] = v;
      if (!exact && !holds(n.levels[level])) continue;
      if (level + 1 < n.slots.size()) {
        reduce<F>(n, level + 1, acc);
        continue;
      }
      const double x = evaluate<F>(n.args[0]);
      if (n.reduce_max) acc = maximum(acc, x);
      else if (n.reduce_min) acc = -maximum(-acc, -x);
      else acc = rnd<F>(acc + x);
    }
  }

  bool holds(const std::vector<const ConditionProgram*>& conditions) const {
    for (const ConditionProgram* c : conditions)
      if (!c->holds(slots_.data())) return false;
    return true;
  }

  // Bounds of an outer level, honouring a fixed slice.
  bool level_range(int level, int64_t& lo, int64_t& hi) {
    lo = 0;
    hi = extents_[level] - 1;
    if (level == fixed_slot_) lo = hi = fixed_value_;
    return restrict_range(outer_levels_[level], level, slots_.data(), lo, hi);
  }

  template <NumberFormat F>
  void run_as() {
    if (outputs_ == 0) {  // a scalar result
      write<F>();
      return;
    }
    output_loop<F>(0);
  }

  template <NumberFormat F>
  void output_loop(int level) {
    int64_t lo, hi;
    const bool exact = level_range(level, lo, hi);
    if (level + 1 == outputs_ && exact && hi >= lo && block_contract<F>(level, lo, hi)) return;
    for (int64_t v = lo; v <= hi; ++v) {
      slots_[level] = v;
      if (!exact && !holds(outer_levels_[level])) continue;
      if (level + 1 < outputs_) output_loop<F>(level + 1);
      else write<F>();
    }
  }

  // Whether a block of the last output variable can be computed together: a contraction
  // whose summation space does not depend on that variable. Each output still accumulates
  // sequentially in the same order; only the loops are interchanged so the innermost loop
  // runs over outputs (contiguous, vectorizable).
  bool block_applicable(int level) const {
    if (!fast_ || outer_ == outputs_ || factors_.size() > kMaxFactors) return false;
    for (int l = outputs_; l < outer_; ++l)
      for (const ConditionProgram* c : outer_levels_[l]) {
        const auto& used = c->difference.slots_used();
        if (std::find(used.begin(), used.end(), level) != used.end()) return false;
      }
    for (int f : factors_) {
      const Node& n = nodes_[f];
      if (n.op != ExprOp::Read) continue;
      for (const IndexProgram& d : reads_[n.read].dims)
        if (!d.affine()) return false;
    }
    for (const IndexProgram& d : output_index_)
      if (!d.affine()) return false;
    return true;
  }

  template <NumberFormat F>
  bool block_contract(int level, int64_t lo, int64_t hi) {
    if constexpr (F == kNoise) return false;  // block_ok_ is false too (no fast_)
    if (!block_ok_ || level != outputs_ - 1) return false;
    using Acc = std::conditional_t<F == NumberFormat::FP32, float, double>;
    const int64_t n = hi - lo + 1;
    std::vector<Acc> acc(static_cast<size_t>(n), Acc(0));
    block_implicit<F, Acc>(level, lo, hi, outputs_, acc.data());
    for (int64_t j = 0; j < n; ++j) {
      slots_[level] = lo + j;
      int64_t off = 0;
      for (size_t d = 0; d < output_index_.size(); ++d) {
        const int64_t i = output_index_[d].evaluate(slots_.data());
        if (i < 0 || i >= output_->extents[d])
          throw Error(einsum_.loc, "Einsum " + einsum_.output +
                                       " writes out of range in dimension " + std::to_string(d + 1));
        off = off * output_->extents[d] + i;
      }
      output_->values[off] = store<F>(apply_hoisted<F>(hoisted_, static_cast<double>(acc[j])));
    }
    return true;
  }

  template <NumberFormat F, typename Acc>
  void block_implicit(int out_level, int64_t olo, int64_t ohi, int level, Acc* acc) {
    int64_t lo, hi;
    const bool exact = level_range(level, lo, hi);
    for (int64_t v = lo; v <= hi; ++v) {
      slots_[level] = v;
      if (!exact && !holds(outer_levels_[level])) continue;
      if (level + 1 < outer_) {
        block_implicit<F, Acc>(out_level, olo, ohi, level + 1, acc);
        continue;
      }
      // One point of the summation space: add f0*f1*... to every output of the block.
      const size_t count = factors_.size();
      const double* base[kMaxFactors];
      int64_t stride[kMaxFactors];
      for (size_t f = 0; f < count && f < kMaxFactors; ++f) {
        const Node& node = nodes_[factors_[f]];
        if (node.op == ExprOp::Number) {
          base[f] = &node.number;
          stride[f] = 0;
          continue;
        }
        const Read& r = reads_[node.read];
        slots_[out_level] = ohi;
        read_offset(r);  // bounds of the last output (affine: monotone in between)
        slots_[out_level] = olo;
        base[f] = r.data + read_offset(r);
        int64_t step = 0;
        for (size_t d = 0; d < r.dims.size(); ++d) step += r.dims[d].coefficient(out_level) * r.strides[d];
        stride[f] = step;
      }
      accumulate_products<F, false>(count, base, stride, ohi - olo + 1, acc);
    }
  }

  template <NumberFormat F>
  void write() {
    double value;
    if (outer_ == outputs_) {
      value = evaluate<F>(root_);
    } else {
      value = 0.0;
      implicit_loop<F>(outputs_, value);
      value = apply_hoisted<F>(hoisted_, value);
    }
    int64_t off = 0;
    for (size_t d = 0; d < output_index_.size(); ++d) {
      const int64_t i = output_index_[d].evaluate(slots_.data());
      if (i < 0 || i >= output_->extents[d])
        throw Error(einsum_.loc, "Einsum " + einsum_.output + " writes out of range in dimension " +
                                     std::to_string(d + 1));
      off = off * output_->extents[d] + i;
    }
    output_->values[off] = store<F>(value);
  }

  template <NumberFormat F>
  void implicit_loop(int level, double& acc) {
    int64_t lo, hi;
    const bool exact = level_range(level, lo, hi);
    if (hi < lo) return;
    if (level + 1 == outer_ && exact && fast_) {
      contract<F>(level, lo, hi, acc);
      return;
    }
    for (int64_t v = lo; v <= hi; ++v) {
      slots_[level] = v;
      if (!exact && !holds(outer_levels_[level])) continue;
      if (level + 1 < outer_) implicit_loop<F>(level + 1, acc);
      else acc = rnd<F>(acc + evaluate<F>(root_));
    }
  }

  // acc += f0 * f1 * ... over slot `level` in [lo, hi], with reads stepping by strides.
  template <NumberFormat F>
  void contract(int level, int64_t lo, int64_t hi, double& acc) {
    const size_t count = factors_.size();
    if (count > kMaxFactors) {
      for (int64_t v = lo; v <= hi; ++v) {
        slots_[level] = v;
        acc = rnd<F>(acc + evaluate<F>(root_));
      }
      return;
    }
    const double* base[kMaxFactors];
    int64_t stride[kMaxFactors];
    for (size_t f = 0; f < count; ++f) {
      const Node& n = nodes_[factors_[f]];
      if (n.op == ExprOp::Number) {
        base[f] = &n.number;
        stride[f] = 0;
        continue;
      }
      const Read& r = reads_[n.read];
      // Affine dims are monotone in the slot: checking both ends checks the range.
      slots_[level] = hi;
      const int64_t end = read_offset(r);
      slots_[level] = lo;
      const int64_t start = read_offset(r);
      int64_t step = 0;
      bool affine = true;
      for (size_t d = 0; d < r.dims.size(); ++d) {
        affine = affine && r.dims[d].affine();
        step += r.dims[d].coefficient(level) * r.strides[d];
      }
      if (!affine || (hi > lo && start + step * (hi - lo) != end)) {
        for (int64_t v = lo; v <= hi; ++v) {  // not affine: no stepping
          slots_[level] = v;
          acc = rnd<F>(acc + evaluate<F>(root_));
        }
        return;
      }
      base[f] = r.data + start;
      stride[f] = step;
    }
    if constexpr (F == kNoise) {  // accumulate_products with noise in place of rounding
      for (int64_t j = 0; j <= hi - lo; ++j) {
        double product = base[0][j * stride[0]];
        for (size_t f = 1; f < count; ++f) product = rnd<F>(product * base[f][j * stride[f]]);
        acc = rnd<F>(acc + product);
      }
      return;
    }
    using Acc = std::conditional_t<F == NumberFormat::FP32, float, double>;
    Acc sum = static_cast<Acc>(acc);
    accumulate_products<F, true>(count, base, stride, hi - lo + 1, &sum);
    acc = static_cast<double>(sum);
  }

  const Cascade& cascade_;
  const Bindings& bindings_;
  const Einsum& einsum_;
  ExecutionOptions options_;
  std::vector<int64_t> extents_;  // per slot
  int outputs_ = 0, outer_ = 0;
  Tensor* output_ = nullptr;
  NumberFormat output_format_ = NumberFormat::FP64;
  std::vector<IndexProgram> output_index_;
  std::vector<Condition> pending_;
  std::deque<ConditionProgram> conditions_;  // stable addresses
  std::vector<std::vector<const ConditionProgram*>> outer_levels_;
  std::vector<Node> nodes_;
  std::vector<Read> reads_;
  int root_ = -1;
  std::vector<int> hoisted_;  // factors of the implicit sum applied to the finished sum
  bool fast_ = false;
  bool block_ok_ = false;  // block_applicable(last output level), fixed at compile time
  std::vector<int> factors_;
  std::vector<int64_t> slots_;
  int fixed_slot_ = -1;
  int64_t fixed_value_ = 0;
  RoundingNoise noise_;
  NoiseFormat noise_arith_, noise_store_;  // the formats the noise model stands in for
};

}  // namespace

TensorMap execute(const Cascade& cascade, const Bindings& bindings, const TensorMap& inputs,
                  const ExecutionOptions& options) {
  std::map<std::string, NumberFormat> formats;
  for (const TensorInfo& t : cascade.tensors)
    formats[t.name] = t.format.empty() ? options.storage : parse_number_format(t.format);

  TensorMap tensors;
  for (const TensorDecl& in : cascade.inputs) {
    const TensorInfo* info = cascade.find_tensor(in.name);
    auto it = inputs.find(in.name);
    if (it == inputs.end()) throw Error(in.loc, "no values given for input tensor " + in.name);
    const std::vector<int64_t> expected = tensor_extents(*info, bindings);
    if (it->second.extents != expected) {
      std::string want, got;
      for (int64_t e : expected) want += (want.empty() ? "" : "x") + std::to_string(e);
      for (int64_t e : it->second.extents) got += (got.empty() ? "" : "x") + std::to_string(e);
      throw Error(in.loc, "input " + in.name + " should be " + want + ", got " + got);
    }
    Tensor t = it->second;
    const NumberFormat f = formats.at(in.name);
    for (double& v : t.values) v = round_to(f, v);
    tensors[in.name] = std::move(t);
  }
  // Sizes are checked before anything is allocated: what would not fit is an Error saying
  // how much it needs, not bad_alloc or the OOM killer.
  check_memory(tensor_bytes(cascade, bindings), "executing cascade " + cascade.name);
  for (const TensorInfo& t : cascade.tensors)
    if (t.producer >= 0) tensors[t.name] = Tensor(tensor_extents(t, bindings));

  // The noise model perturbs only what depends on the inputs (rounding_noise.h).
  const std::vector<bool> reads_inputs =
      options.rounding_noise ? einsums_reading_inputs(cascade) : std::vector<bool>(cascade.einsums.size());
  for (const EinsumGroup& group : evaluation_order(cascade)) {
    std::vector<Kernel> kernels;
    kernels.reserve(group.einsums.size());
    for (int e : group.einsums) {
      const Einsum& einsum = cascade.einsums[e];
      ExecutionOptions own = options;
      own.rounding_noise = options.rounding_noise && reads_inputs[e];
      if (einsum.init) Kernel(cascade, bindings, init_einsum(einsum), tensors, formats, own).run();
      kernels.emplace_back(cascade, bindings, einsum, tensors, formats, own);
    }
    if (group.iterative_variable.empty()) {
      kernels[0].run();
      continue;
    }
    const int64_t steps = bindings.shape(rank_of_variable(group.iterative_variable));
    std::vector<int> slots;
    for (const Kernel& kernel : kernels)
      slots.push_back(kernel.slot_of_output_variable(group.iterative_variable));
    for (int64_t k = 0; k < steps; ++k)
      for (size_t i = 0; i < kernels.size(); ++i) kernels[i].run(slots[i], k);
  }
  return tensors;
}

}  // namespace cascade
