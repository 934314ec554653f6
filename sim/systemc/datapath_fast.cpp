#include "sim/systemc/datapath_fast.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace cascade::datapath_detail {

namespace {

// Calls body.template operator()<F>() for the runtime format f: the rounding of a whole
// loop is picked once.
template <typename Body>
void for_format(NumberFormat f, Body&& body) {
  switch (f) {
    case NumberFormat::FP64: body.template operator()<NumberFormat::FP64>(); return;
    case NumberFormat::FP32: body.template operator()<NumberFormat::FP32>(); return;
    case NumberFormat::BF16: body.template operator()<NumberFormat::BF16>(); return;
    case NumberFormat::FP16: body.template operator()<NumberFormat::FP16>(); return;
  }
}

// As datapath.cpp's (NaN wins).
double maximum(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}

bool all_affine(const std::vector<IndexProgram>& programs) {
  return std::all_of(programs.begin(), programs.end(), [](const IndexProgram& p) { return p.affine(); });
}

// Moves the odometer over `slot_list` in [lo, hi] one step (lexicographic); false at the end
// (the slots back at lo, as the generic odometer leaves them).
bool step(int64_t* slots, const std::vector<int>& slot_list, const int64_t* lo, const int64_t* hi) {
  size_t k = slot_list.size();
  while (k-- > 0) {
    if (++slots[slot_list[k]] <= hi[k]) return true;
    slots[slot_list[k]] = lo[k];
  }
  return false;
}

}  // namespace

// The lanes of a row that are on: all of them (bits null) or those with bits[k] set; first
// and last are the first and last lane on (last < first: none).
struct FastEvaluator::Mask {
  const uint8_t* bits = nullptr;
  int64_t first = 0, last = -1;
  bool any() const { return last >= first; }
  bool on(int64_t k) const { return bits ? bits[k] != 0 : true; }
};

bool fast_covers(const EinsumCode& c, const std::vector<TensorData>& tensors) {
  if (c.outputs.empty()) return false;
  for (const ReadSite& r : c.reads)
    if (r.tensor == c.out_tensor || !all_affine(r.dims)) return false;
  if (!all_affine(c.out_dims) || !all_affine(c.indices)) return false;
  for (const ConditionProgram& k : c.conditions)
    if (!k.difference.affine()) return false;
  // Distinct lanes of a row write distinct elements.
  const TensorData& out = tensors[c.out_tensor];
  int64_t stride = 0;
  for (size_t d = 0; d < c.out_dims.size(); ++d)
    stride += c.out_dims[d].coefficient(c.outputs.back()) * out.strides[d];
  return stride != 0;
}

bool FastEvaluator::evaluate(const EinsumCode& c, const std::vector<int64_t>& lo,
                             const std::vector<int64_t>& hi, bool first, bool last) {
  slots_.assign(c.extents.size(), 0);
  v_ = c.outputs.back();
  const size_t need = (c.nodes.size() + 1) * static_cast<size_t>(kRow);
  if (values_.size() < need) values_.resize(need);
  if (masks_.size() < need + static_cast<size_t>(kRow)) masks_.resize(need + static_cast<size_t>(kRow));
  // The output slots but v, lexicographically, as the generic odometer visits them.
  std::vector<int> outer(c.outputs.begin(), c.outputs.end() - 1);
  std::vector<int64_t> outer_lo, outer_hi;
  for (int s : outer) {
    outer_lo.push_back(lo[s]);
    outer_hi.push_back(hi[s]);
    if (hi[s] < lo[s]) return true;
    slots_[s] = lo[s];
  }
  if (hi[v_] < lo[v_]) return true;
  try {
    do {
      for (int64_t base = lo[v_]; base <= hi[v_]; base += kRow) {
        n_ = std::min(kRow, hi[v_] - base + 1);
        slots_[v_] = base;
        row(c, lo, hi, first, last);
      }
    } while (step(slots_.data(), outer, outer_lo.data(), outer_hi.data()));
  } catch (const Bail&) {
    mark_ = -1;
    return false;
  }
  return true;
}

bool FastEvaluator::unmark_outputs(const EinsumCode& c, int place) {
  std::vector<int64_t> lo(c.extents.size(), 0), hi;
  for (int64_t x : c.extents) hi.push_back(x - 1);
  mark_ = place;
  const bool done = evaluate(c, lo, hi, true, true);
  mark_ = -1;
  return done;
}

FastEvaluator::Mask FastEvaluator::restrict_to(const EinsumCode& c, const std::vector<int>& conditions,
                                               const Mask& parent, uint8_t* bits) const {
  if (conditions.empty() || !parent.any()) return parent;
  // A condition that does not read v holds on every lane or on none.
  bool lanes = false;
  for (int i : conditions) {
    const ConditionProgram& p = c.conditions[i];
    if (p.difference.coefficient(v_) != 0) {
      lanes = true;
    } else if (!compares(p.op, p.difference.evaluate(slots_.data()))) {
      Mask none;
      none.bits = bits;
      return none;
    }
  }
  if (!lanes) return parent;
  for (int64_t k = 0; k < n_; ++k) bits[k] = parent.on(k) ? 1 : 0;
  for (int i : conditions) {
    const ConditionProgram& p = c.conditions[i];
    const int64_t dv = p.difference.coefficient(v_);
    if (dv == 0) continue;
    const int64_t d0 = p.difference.evaluate(slots_.data());
    for (int64_t k = 0; k < n_; ++k) bits[k] &= compares(p.op, d0 + dv * k) ? 1 : 0;
  }
  Mask m;
  m.bits = bits;
  m.first = 0;
  while (m.first < n_ && !bits[m.first]) ++m.first;
  m.last = n_ - 1;
  while (m.last >= m.first && !bits[m.last]) --m.last;
  if (m.first == 0 && m.last == n_ - 1 && std::all_of(bits, bits + n_, [](uint8_t b) { return b != 0; }))
    m.bits = nullptr;
  return m;
}

namespace {

// Calls fn(k, a_k, b_k) on lanes [first, last] (those set in bits, if given); a uniform
// operand gives its one value to every lane.
template <typename Fn>
void zip(const FastValue& a, const FastValue& b, int64_t first, int64_t last, const uint8_t* bits, Fn fn) {
  auto run = [&](auto x, auto y) {
    if (!bits)
      for (int64_t k = first; k <= last; ++k) fn(k, x(k), y(k));
    else
      for (int64_t k = first; k <= last; ++k)
        if (bits[k]) fn(k, x(k), y(k));
  };
  auto lane = [](const double* p) { return [p](int64_t k) { return p[k]; }; };
  auto one = [](const double* p) { const double v = *p; return [v](int64_t) { return v; }; };
  if (a.uniform && b.uniform) run(one(a.p), one(b.p));
  else if (a.uniform) run(one(a.p), lane(b.p));
  else if (b.uniform) run(lane(a.p), one(b.p));
  else run(lane(a.p), lane(b.p));
}

}  // namespace

void FastEvaluator::row(const EinsumCode& c, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi,
                        bool first, bool last) {
  const NumberFormat f = options_.accumulate;
  uint8_t* out_bits = masks_.data() + (c.nodes.size() + 1) * static_cast<size_t>(kRow);
  uint8_t* term_bits = masks_.data() + c.nodes.size() * static_cast<size_t>(kRow);
  Mask all;
  all.last = n_ - 1;
  const Mask om = restrict_to(c, c.output_conditions, all, out_bits);
  if (!om.any()) return;
  TensorData& out = tensors_[c.out_tensor];
  Copy& target = out.place(c.out_place);
  int64_t o0 = 0, os = 0;
  for (size_t d = 0; d < c.out_dims.size(); ++d) {
    const int64_t i0 = c.out_dims[d].evaluate(slots_.data());
    const int64_t iv = c.out_dims[d].coefficient(v_);
    const int64_t a = i0 + iv * om.first, b = i0 + iv * om.last;
    if (std::min(a, b) < 0 || std::max(a, b) >= out.sizes[d]) throw Bail{};  // writes out of range
    o0 += i0 * out.strides[d];
    os += iv * out.strides[d];
  }
  if (mark_ >= 0) {  // unmark_outputs
    uint8_t* marks = out.place(mark_).valid.data();
    for (int64_t k = om.first; k <= om.last; ++k)
      if (om.on(k)) marks[o0 + os * k] = 0;
    return;
  }
  double* value = target.value.data();
  uint8_t* valid = target.valid.data();
  double* acc = buffer(static_cast<int>(c.nodes.size()));
  const FastValue sum{acc, false};
  if (c.implicit.empty()) {
    const FastValue x = eval(c, c.root, om);
    for_format(out.format, [&]<NumberFormat F>() {
      zip(x, x, om.first, om.last, om.bits, [&](int64_t k, double a, double) {
        value[o0 + os * k] = round_as<F>(a);
        valid[o0 + os * k] = 1;
      });
    });
    return;
  }
  std::fill(acc, acc + n_, 0.0);
  if (!first) {  // the partial sum of the tiles before
    for (int64_t k = om.first; k <= om.last; ++k)
      if (om.on(k)) {
        if (!valid[o0 + os * k]) throw Bail{};
        acc[k] = value[o0 + os * k];
      }
  }
  std::vector<int64_t> in_lo, in_hi;
  bool empty = false;
  for (int s : c.implicit) {
    in_lo.push_back(lo[s]);
    in_hi.push_back(hi[s]);
    empty = empty || hi[s] < lo[s];
    slots_[s] = lo[s];
  }
  const Node& root = c.nodes[c.root];
  if (!empty) do {
      const Mask tm = restrict_to(c, c.term_conditions, om, term_bits);
      if (!tm.any()) continue;
      for_format(f, [&]<NumberFormat F>() {
        if (root.op == ExprOp::Mul) {  // a product: its rounding, then the addition's
          const FastValue a = eval(c, root.args[0], tm);
          const FastValue b = eval(c, root.args[1], tm);
          zip(a, b, tm.first, tm.last, tm.bits, [&](int64_t k, double x, double y) {
            acc[k] = round_as<F>(acc[k] + round_as<F>(x * y));
          });
        } else {
          const FastValue x = eval(c, c.root, tm);
          zip(sum, x, tm.first, tm.last, tm.bits,
              [&](int64_t k, double s, double y) { acc[k] = round_as<F>(s + y); });
        }
      });
    } while (step(slots_.data(), c.implicit, in_lo.data(), in_hi.data()));
  if (last)
    for (int h : c.hoisted) {
      const FastValue y = eval(c, h, om);
      for_format(f, [&]<NumberFormat F>() {
        zip(sum, y, 0, n_ - 1, nullptr, [&](int64_t k, double s, double z) { acc[k] = round_as<F>(s * z); });
      });
    }
  for_format(out.format, [&]<NumberFormat F>() {
    zip(sum, sum, om.first, om.last, om.bits, [&](int64_t k, double s, double) {
      value[o0 + os * k] = last ? round_as<F>(s) : s;  // a partial sum stays as it is
      valid[o0 + os * k] = 1;
    });
  });
}

FastValue FastEvaluator::read(const ReadSite& r, const Mask& m, double* out) {
  TensorData& t = tensors_[r.tensor];
  const Copy& copy = t.place(r.place);
  int64_t off = 0, stride = 0;
  for (size_t d = 0; d < r.dims.size(); ++d) {
    const int64_t i0 = r.dims[d].evaluate(slots_.data());
    const int64_t iv = r.dims[d].coefficient(v_);
    const int64_t a = i0 + iv * m.first, b = i0 + iv * m.last;  // affine: the lanes between
    if (std::min(a, b) < 0 || std::max(a, b) >= t.sizes[d]) throw Bail{};  // out of range
    off += i0 * t.strides[d];
    stride += iv * t.strides[d];
  }
  const double* value = copy.value.data();
  const uint8_t* valid = copy.valid.data();
  if (stride == 0) {  // one element for every lane (m has a lane on)
    if (!valid[off]) throw Bail{};
    return {value + off, true};
  }
  if (!m.bits && stride == 1) {  // the row as it lies in the copy: no gather
    if (std::memchr(valid + off, 0, static_cast<size_t>(n_))) throw Bail{};
    return {value + off, false};
  }
  bool bad = false;
  if (!m.bits) {
    for (int64_t k = 0; k < n_; ++k) {
      bad |= !valid[off + stride * k];
      out[k] = value[off + stride * k];
    }
  } else {
    for (int64_t k = 0; k < n_; ++k) {
      if (!m.bits[k]) {
        out[k] = 0;  // never used: a lane that is off
        continue;
      }
      bad |= !valid[off + stride * k];
      out[k] = value[off + stride * k];
    }
  }
  if (bad) throw Bail{};  // an element nobody put there
  return {out, false};
}

FastValue FastEvaluator::reduce(const EinsumCode& c, const ReduceSite& r, const Mask& m, int node, double* out) {
  const NumberFormat f = options_.accumulate;
  const double start = r.max ? -std::numeric_limits<double>::infinity()
                       : r.min ? std::numeric_limits<double>::infinity() : 0.0;
  std::fill(out, out + n_, start);
  const FastValue acc{out, false};
  std::vector<int64_t> lo(r.slots.size(), 0), hi;
  bool empty = false;
  for (int s : r.slots) {
    hi.push_back(c.extents[s] - 1);
    empty = empty || c.extents[s] < 1;
    slots_[s] = 0;
  }
  uint8_t* bits = masks_.data() + static_cast<size_t>(node) * kRow;
  if (!empty) do {
      const Mask im = restrict_to(c, r.conditions, m, bits);
      if (!im.any()) continue;
      const FastValue x = eval(c, r.summand, im);
      if (r.max)
        zip(acc, x, im.first, im.last, im.bits, [&](int64_t k, double a, double y) { out[k] = maximum(a, y); });
      else if (r.min)
        zip(acc, x, im.first, im.last, im.bits, [&](int64_t k, double a, double y) { out[k] = -maximum(-a, -y); });
      else
        for_format(f, [&]<NumberFormat F>() {
          zip(acc, x, im.first, im.last, im.bits, [&](int64_t k, double a, double y) { out[k] = round_as<F>(a + y); });
        });
    } while (step(slots_.data(), r.slots, lo.data(), hi.data()));
  for (int h : r.hoisted) {
    const FastValue y = eval(c, h, m);
    for_format(f, [&]<NumberFormat F>() {
      zip(acc, y, 0, n_ - 1, nullptr, [&](int64_t k, double a, double z) { out[k] = round_as<F>(a * z); });
    });
  }
  return acc;
}

FastValue FastEvaluator::eval(const EinsumCode& c, int index, const Mask& m) {
  const Node& nd = c.nodes[index];
  double* o = buffer(index);
  const NumberFormat f = options_.accumulate;
  const ExpMode e = options_.exp;
  const int64_t n = n_;
  // A uniform operand gives a uniform result: the same operation on the same value.
  auto unary = [&](auto fn) -> FastValue {
    const FastValue a = eval(c, nd.args[0], m);
    if (a.uniform) {
      o[0] = fn(a.p[0]);
      return {o, true};
    }
    for (int64_t k = 0; k < n; ++k) o[k] = fn(a.p[k]);
    return {o, false};
  };
  auto binary = [&](auto fn) -> FastValue {
    const FastValue a = eval(c, nd.args[0], m);
    const FastValue b = eval(c, nd.args[1], m);
    if (a.uniform && b.uniform) {
      o[0] = fn(a.p[0], b.p[0]);
      return {o, true};
    }
    zip(a, b, 0, n - 1, nullptr, [&](int64_t k, double x, double y) { o[k] = fn(x, y); });
    return {o, false};
  };
  FastValue r{o, false};
  switch (nd.op) {
    case ExprOp::Number:
    case ExprOp::Parameter: o[0] = nd.number; return {o, true};
    case ExprOp::Index: {
      const int64_t i0 = c.indices[nd.site].evaluate(slots_.data());
      const int64_t iv = c.indices[nd.site].coefficient(v_);
      for (int64_t k = 0; k < (iv ? n : 1); ++k) o[k] = round_to(f, static_cast<double>(i0 + iv * k));
      return {o, iv == 0};
    }
    case ExprOp::Read: return read(c.reads[nd.site], m, o);
    case ExprOp::Neg: return unary([](double a) { return -a; });
    case ExprOp::Add:
      for_format(f, [&]<NumberFormat F>() { r = binary([](double a, double b) { return round_as<F>(a + b); }); });
      return r;
    case ExprOp::Sub:
      for_format(f, [&]<NumberFormat F>() { r = binary([](double a, double b) { return round_as<F>(a - b); }); });
      return r;
    case ExprOp::Mul:
      for_format(f, [&]<NumberFormat F>() { r = binary([](double a, double b) { return round_as<F>(a * b); }); });
      return r;
    case ExprOp::Div:
      for_format(f, [&]<NumberFormat F>() { r = binary([](double a, double b) { return round_as<F>(a / b); }); });
      return r;
    case ExprOp::Call:
      switch (nd.fn) {
        case Fn::Exp: return unary([&](double a) { return exp_in(e, f, a); });
        case Fn::Sqrt: return unary([&](double a) { return round_to(f, std::sqrt(a)); });
        case Fn::Log: return unary([&](double a) { return round_to(f, std::log(a)); });
        case Fn::Abs: return unary([](double a) { return std::fabs(a); });
        case Fn::Relu: return unary([](double a) { return a > 0 ? a : (std::isnan(a) ? a : 0.0); });
        case Fn::Elu1: return unary([&](double a) { return a > 0 ? round_to(f, a + 1.0) : exp_in(e, f, a); });
        case Fn::Sigmoid: return unary([&](double a) { return sigmoid_in(e, f, a); });
        case Fn::Tanh: return unary([&](double a) { return tanh_in(f, a); });
        case Fn::Softplus: return unary([&](double a) { return softplus_in(e, f, a); });
        case Fn::Max: return binary([](double a, double b) { return maximum(a, b); });
        case Fn::Min: return binary([](double a, double b) { return -maximum(-a, -b); });
        case Fn::Pow: return binary([&](double a, double b) { return round_to(f, std::pow(a, b)); });
      }
      break;
    case ExprOp::Reduce: return reduce(c, c.reduces[nd.site], m, index, o);
    case ExprOp::Concat: break;  // never compiled
  }
  throw Bail{};
}

}  // namespace cascade::datapath_detail
