// Kernel: one Einsum of the functional executor compiled for one set of shapes (internal
// to sim/functional: executor.cpp runs it, kernel_compile.cpp builds it). Its loops are
// templates over the accumulation format; the rounding order is executor.h's. Not an
// interface.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "mappings/analysis/evaluation_order.h"
#include "mappings/analysis/operator_counts.h"
#include "mappings/cascade/index_program.h"
#include "sim/functional/executor.h"
#include "sim/functional/executor_kernel.h"
#include "sim/functional/rounding_noise.h"

namespace cascade::executor_detail {

// The rounding-noise model as a pseudo format of the kernels' template parameter (a scoped
// enum holds any int); only Kernel's own rounding steps (rnd, store) know it.
constexpr NumberFormat kNoise = static_cast<NumberFormat>(64);

// One Einsum compiled for one set of shapes.
class Kernel {
 public:
  Kernel(const Cascade& cascade, const Bindings& bindings, const Einsum& einsum, TensorMap& tensors,
         const std::map<std::string, NumberFormat>& formats, const ExecutionOptions& options);

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
      case NumberFormat::FP64:
        run_as<NumberFormat::FP64>();
        break;
      case NumberFormat::FP32:
        run_as<NumberFormat::FP32>();
        break;
      case NumberFormat::BF16:
        run_as<NumberFormat::BF16>();
        break;
      case NumberFormat::FP16:
        run_as<NumberFormat::FP16>();
        break;
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
              std::vector<std::vector<const ConditionProgram*>>& levels, int first_slot);

  int compile(const Expr& e, const std::map<std::string, int>& scope, TensorMap& tensors);

  // The summand of a sum over `summed`: the factors of a product that do not depend on the
  // summed variables (split_summed_product, the operator counter's rule) are compiled in
  // the outer scope into `hoisted`, to multiply the finished sum; the summand is the
  // product as written without them.
  int compile_summand(const Expr& summand, const std::vector<std::string>& summed,
                      const std::map<std::string, int>& inner,
                      const std::map<std::string, int>& outer, TensorMap& tensors,
                      std::vector<int>& hoisted);

  // Multiplies a finished sum by its hoisted factors, in order, rounding after each.
  template <NumberFormat F>
  double apply_hoisted(const std::vector<int>& hoisted, double sum) {
    for (int h : hoisted) sum = rnd<F>(sum * evaluate<F>(h));
    return sum;
  }

  // The fast path: a left-deep product of reads and constants, summed implicitly.
  bool collect_factors(int node);

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
      case ExprOp::Parameter:
        return n.number;
      case ExprOp::Index: {  // an integer: exact in the noise model as in the datapath
        const double i = static_cast<double>(n.index.evaluate(slots_.data()));
        if constexpr (F == kNoise)
          return round_to(options_.accumulate, i);
        else
          return round_as<F>(i);
      }
      case ExprOp::Read: {
        const Read& r = reads_[n.read];
        return r.data[read_offset(r)];
      }
      case ExprOp::Neg:
        return -evaluate<F>(n.args[0]);
      case ExprOp::Add:
        return rnd<F>(evaluate<F>(n.args[0]) + evaluate<F>(n.args[1]));
      case ExprOp::Sub:
        return rnd<F>(evaluate<F>(n.args[0]) - evaluate<F>(n.args[1]));
      case ExprOp::Mul:
        return rnd<F>(evaluate<F>(n.args[0]) * evaluate<F>(n.args[1]));
      case ExprOp::Div:
        return rnd<F>(evaluate<F>(n.args[0]) / evaluate<F>(n.args[1]));
      case ExprOp::Call:
        return call<F>(n);
      case ExprOp::Reduce: {
        double acc = n.reduce_max   ? -std::numeric_limits<double>::infinity()
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
      case Function::Exp:
        return exp_in(options_.exp, F, a);
      case Function::Sqrt:
        return rnd<F>(std::sqrt(a));
      case Function::Log:
        return rnd<F>(std::log(a));
      case Function::Abs:
        return std::fabs(a);
      case Function::Relu:
        return a > 0 ? a : (std::isnan(a) ? a : 0.0);
      case Function::Elu1:
        return a > 0 ? rnd<F>(a + 1.0) : exp_in(options_.exp, F, a);
      case Function::Sigmoid:
        return sigmoid_in(options_.exp, F, a);
      case Function::Tanh:
        return tanh_in(F, a);
      case Function::Softplus:
        return softplus_in(options_.exp, F, a);
      case Function::Max:
        return maximum(a, evaluate<F>(n.args[1]));
      case Function::Min:
        return -maximum(-a, -evaluate<F>(n.args[1]));
      case Function::Pow:
        return rnd<F>(std::pow(a, evaluate<F>(n.args[1])));
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
    if constexpr (F == kNoise)
      return noise_.perturb(x, noise_arith_);
    else
      return round_as<F>(x);
  }

  // An Einsum's result rounded to its tensor's storage format (or perturbed like it).
  template <NumberFormat F>
  double store(double x) {
    if constexpr (F == kNoise)
      return noise_.perturb(x, noise_store_);
    else
      return round_to(output_format_, x);
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
      if (n.reduce_max)
        acc = maximum(acc, x);
      else if (n.reduce_min)
        acc = -maximum(-acc, -x);
      else
        acc = rnd<F>(acc + x);
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
      if (level + 1 < outputs_)
        output_loop<F>(level + 1);
      else
        write<F>();
    }
  }

  // Whether a block of the last output variable can be computed together: a contraction
  // whose summation space does not depend on that variable. Each output still accumulates
  // sequentially in the same order; only the loops are interchanged so the innermost loop
  // runs over outputs (contiguous, vectorizable).
  bool block_applicable(int level) const;

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
                                       " writes out of range in dimension " +
                                       std::to_string(d + 1));
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
        for (size_t d = 0; d < r.dims.size(); ++d)
          step += r.dims[d].coefficient(out_level) * r.strides[d];
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
      if (level + 1 < outer_)
        implicit_loop<F>(level + 1, acc);
      else
        acc = rnd<F>(acc + evaluate<F>(root_));
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

}  // namespace cascade::executor_detail
