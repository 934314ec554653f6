// An emulation of the functional executor's documented rounding order
// (sim/functional/executor.h), written from the documentation and not from the executor:
// native float arithmetic for the fp32 accumulator (a float + or x of floats is the
// correctly rounded result), a bit-manipulation bf16 rounding and the compiler's _Float16
// conversion for fp16 (neither is the project's round_to), loops in the order the cascade's
// text says. Used bit-exactly (test_executor_emulation.cpp) and, with seeded bugs, against
// check's statistical tolerance (test_statistical_tolerance.cpp).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

namespace cascade::emulation {

// Storage rounding, written independently of sim/functional/number_format.h.
inline float bf16(float x) {
  uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return x;  // NaN stays NaN
  u += 0x7FFFu + ((u >> 16) & 1u);                 // round to nearest, ties to even
  return std::bit_cast<float>(u & 0xFFFF0000u);
}
inline float fp16(float x) { return static_cast<float>(static_cast<_Float16>(x)); }
inline float fp32(float x) { return x; }
// Seeded bug: bf16 by truncation (toward zero) instead of to nearest.
inline float bf16_truncated(float x) { return std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0xFFFF0000u); }

using Store = float (*)(float);
inline float exp32(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }

// A dense [d0][d1]... array of floats.
struct Array {
  std::vector<int64_t> dims;
  std::vector<float> v;
  explicit Array(std::vector<int64_t> d, float fill = 0) : dims(std::move(d)) {
    int64_t n = 1;
    for (int64_t x : dims) n *= x;
    v.assign(static_cast<size_t>(n), fill);
  }
  float& at(std::initializer_list<int64_t> idx) {
    int64_t off = 0;
    size_t k = 0;
    for (int64_t i : idx) off = off * dims[k++] + i;
    return v[static_cast<size_t>(off)];
  }
};

inline Array random_input(std::vector<int64_t> dims, Store store, uint64_t seed) {
  Array a(std::move(dims));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  for (float& x : a.v) x = store(static_cast<float>(normal(rng)));
  return a;
}

struct OnePassShape {
  int64_t P, M, E, F, M0;
};

// Where the 1-pass emulation rounds: `store` for every stored tensor, except what a seeded
// bug changes (a null pointer means `store`).
struct OnePassRounding {
  Store store;
  Store state = nullptr;   // RD and RNV, the running state
  Store output = nullptr;  // AV
  Store exp = nullptr;     // SLN, the exponentials
  Store numerator_accumulator = nullptr;  // the running sum of SLNV's MACs (fp32 as documented)
};

// The tensors of FuseMax's 1-pass cascade (configs/cascades/softmax-1pass.yaml), the key
// rank split M -> M1, M0 with a partial last tile when M0 does not divide M.
struct OnePassTensors {
  Array BQK, RM, SLNV, RD, RNV, AV;
};

inline OnePassTensors emulate_softmax_1pass(const OnePassShape& s, const Array& Q, const Array& K,
                                            const Array& V, const OnePassRounding& r) {
  const int64_t P = s.P, M = s.M, E = s.E, F = s.F, M0 = s.M0, M1 = (M + M0 - 1) / M0;
  const Store st = r.store, st_state = r.state ? r.state : st, st_out = r.output ? r.output : st,
              st_exp = r.exp ? r.exp : st, st_acc = r.numerator_accumulator ? r.numerator_accumulator : fp32;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(E)));
  const float inf = std::numeric_limits<float>::infinity();
  Array BQK({M1, M0, P}), LM({M1, P}, -inf), RM({M1 + 1, P}), SLN({M1, M0, P}), SLD({M1, P}),
      SLNV({M1, F, P}), PRM({M1, P}), SPD({M1, P}), RD({M1 + 1, P}), SPNV({M1, F, P}),
      RNV({M1 + 1, F, P}), AV({F, P});
  auto valid = [&](int64_t m1, int64_t m0) { return m1 * M0 + m0 < M; };
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t m0 = 0; m0 < M0; ++m0)
      for (int64_t p = 0; p < P; ++p) {
        if (!valid(m1, m0)) continue;
        float acc = 0;
        for (int64_t e = 0; e < E; ++e) acc = acc + Q.v[e * P + p] * K.v[e * M + m1 * M0 + m0];
        BQK.at({m1, m0, p}) = st(acc * scale);  // the scale multiplies the finished sum
      }
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t p = 0; p < P; ++p) {
      float mx = -inf;
      for (int64_t m0 = 0; m0 < M0; ++m0)
        if (valid(m1, m0)) mx = std::max(mx, BQK.at({m1, m0, p}));
      LM.at({m1, p}) = st(mx);
    }
  for (int64_t p = 0; p < P; ++p) RM.at({0, p}) = -inf;
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t p = 0; p < P; ++p) RM.at({m1 + 1, p}) = st(std::max(RM.at({m1, p}), LM.at({m1, p})));
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t m0 = 0; m0 < M0; ++m0)
      for (int64_t p = 0; p < P; ++p)
        if (valid(m1, m0)) SLN.at({m1, m0, p}) = st_exp(exp32(BQK.at({m1, m0, p}) - RM.at({m1 + 1, p})));
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t p = 0; p < P; ++p) {
      float acc = 0;
      for (int64_t m0 = 0; m0 < M0; ++m0)
        if (valid(m1, m0)) acc = acc + SLN.at({m1, m0, p});
      SLD.at({m1, p}) = st(acc);
    }
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t f = 0; f < F; ++f)
      for (int64_t p = 0; p < P; ++p) {
        float acc = 0;
        for (int64_t m0 = 0; m0 < M0; ++m0)
          if (valid(m1, m0)) acc = st_acc(acc + SLN.at({m1, m0, p}) * V.v[f * M + m1 * M0 + m0]);
        SLNV.at({m1, f, p}) = st(acc);
      }
  for (int64_t m1 = 0; m1 < M1; ++m1)
    for (int64_t p = 0; p < P; ++p) PRM.at({m1, p}) = st(exp32(RM.at({m1, p}) - RM.at({m1 + 1, p})));
  for (int64_t p = 0; p < P; ++p) RD.at({0, p}) = 0;
  for (int64_t f = 0; f < F; ++f)
    for (int64_t p = 0; p < P; ++p) RNV.at({0, f, p}) = 0;
  for (int64_t m1 = 0; m1 < M1; ++m1) {  // the recurrence, slice by slice
    for (int64_t p = 0; p < P; ++p) {
      SPD.at({m1, p}) = st(RD.at({m1, p}) * PRM.at({m1, p}));
      RD.at({m1 + 1, p}) = st_state(SLD.at({m1, p}) + SPD.at({m1, p}));
    }
    for (int64_t f = 0; f < F; ++f)
      for (int64_t p = 0; p < P; ++p) {
        SPNV.at({m1, f, p}) = st(RNV.at({m1, f, p}) * PRM.at({m1, p}));
        RNV.at({m1 + 1, f, p}) = st_state(SLNV.at({m1, f, p}) + SPNV.at({m1, f, p}));
      }
  }
  for (int64_t f = 0; f < F; ++f)
    for (int64_t p = 0; p < P; ++p) AV.at({f, p}) = st_out(RNV.at({M1, f, p}) / RD.at({M1, p}));
  return {BQK, RM, SLNV, RD, RNV, AV};
}

}  // namespace cascade::emulation
