// The functional executor in bf16 and fp16 storage (fp32 accumulation) against an
// independent emulation of its documented rounding order (sim/functional/executor.h),
// bit for bit. The emulation is written here from the documentation, not from the
// executor: native float arithmetic for the fp32 accumulator (a float + or x of floats is
// the correctly rounded result), a bit-manipulation bf16 rounding and the compiler's
// _Float16 conversion for fp16 (neither is the project's round_to), loops in the order the
// cascade's text says. The executor is the cycle-level model's datapath reference, so its
// rounding order is checked exactly, not within an error bound.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mappings/cascade/parser.h"
#include "sim/functional/executor.h"
#include "tests/agreement/softmax_emulation.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

using namespace emulation;

Tensor to_tensor(const Array& a) {
  Tensor t(a.dims);
  for (size_t i = 0; i < a.v.size(); ++i) t.values[i] = a.v[i];
  return t;
}

// Bit-exact comparison of an executor tensor with the emulation's.
void expect_same(const TensorMap& got, const std::string& name, const Array& want) {
  SCOPED_TRACE(name);
  const Tensor& t = got.at(name);
  ASSERT_EQ(t.extents, want.dims);
  int differ = 0;
  for (size_t i = 0; i < want.v.size(); ++i) {
    const float g = static_cast<float>(t.values[i]);
    if (std::bit_cast<uint32_t>(g) != std::bit_cast<uint32_t>(want.v[i]) && differ++ < 3)
      ADD_FAILURE() << "element " << i << ": executor " << t.values[i] << ", emulation "
                    << want.v[i];
  }
  EXPECT_EQ(differ, 0);
}

TensorMap run_executor(const std::string& file, const std::map<std::string, std::string>& shapes,
                       const std::map<std::string, Array>& inputs, NumberFormat storage) {
  const Cascade c = parse_cascade_file(kRoot + "/configs/cascades/" + file);
  const Bindings b = resolve_bindings(c, shapes);
  TensorMap in;
  for (const auto& [name, a] : inputs) in[name] = to_tensor(a);
  ExecutionOptions o;
  o.storage = storage;
  o.accumulate = NumberFormat::FP32;
  return execute(c, b, in, o);
}

struct Format {
  NumberFormat storage;
  Store store;
  const char* name;
};
const Format kFormats[] = {{NumberFormat::BF16, bf16, "bf16"}, {NumberFormat::FP16, fp16, "fp16"}};

// FuseMax's 1-pass cascade, a partial last key tile (M % M0 != 0) and E = 12 (a scale that
// is not a power of two).
TEST(ExecutorEmulation, SoftmaxOnePassBitExact) {
  const OnePassShape s{9, 70, 12, 5, 32};
  for (const Format& fmt : kFormats) {
    SCOPED_TRACE(fmt.name);
    const Store st = fmt.store;
    const Array Q = random_input({s.E, s.P}, st, 1), K = random_input({s.E, s.M}, st, 2),
                V = random_input({s.F, s.M}, st, 3);
    const OnePassTensors want = emulate_softmax_1pass(s, Q, K, V, OnePassRounding{st});
    const TensorMap got = run_executor(
        "softmax-1pass.yaml",
        {{"P", std::to_string(s.P)}, {"M", std::to_string(s.M)}, {"E", std::to_string(s.E)},
         {"F", std::to_string(s.F)}, {"M0", std::to_string(s.M0)}},
        {{"Q", Q}, {"K", K}, {"V", V}}, fmt.storage);
    expect_same(got, "BQK", want.BQK);
    expect_same(got, "RM", want.RM);
    expect_same(got, "SLNV", want.SLNV);
    expect_same(got, "RD", want.RD);
    expect_same(got, "RNV", want.RNV);
    expect_same(got, "AV", want.AV);
  }
}

TEST(ExecutorEmulation, SoftmaxThreePassBitExact) {
  const int64_t P = 11, M = 37, E = 12, F = 6;
  for (const Format& fmt : kFormats) {
    SCOPED_TRACE(fmt.name);
    const Store st = fmt.store;
    const Array Q = random_input({E, P}, st, 4), K = random_input({E, M}, st, 5),
                V = random_input({F, M}, st, 6);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(E)));
    const float inf = std::numeric_limits<float>::infinity();
    Array QK({M, P}), GM({P}), SN({M, P}), SD({P}), A({M, P}), AV({F, P});
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) {
        float acc = 0;
        for (int64_t e = 0; e < E; ++e) acc = acc + Q.v[e * P + p] * K.v[e * M + m];
        QK.at({m, p}) = st(acc * scale);
      }
    for (int64_t p = 0; p < P; ++p) {
      float mx = -inf;
      for (int64_t m = 0; m < M; ++m) mx = std::max(mx, QK.at({m, p}));
      GM.at({p}) = st(mx);
    }
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) SN.at({m, p}) = st(exp32(QK.at({m, p}) - GM.at({p})));
    for (int64_t p = 0; p < P; ++p) {
      float acc = 0;
      for (int64_t m = 0; m < M; ++m) acc = acc + SN.at({m, p});
      SD.at({p}) = st(acc);
    }
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) A.at({m, p}) = st(SN.at({m, p}) / SD.at({p}));
    for (int64_t f = 0; f < F; ++f)
      for (int64_t p = 0; p < P; ++p) {
        float acc = 0;
        for (int64_t m = 0; m < M; ++m) acc = acc + A.at({m, p}) * V.v[f * M + m];
        AV.at({f, p}) = st(acc);
      }
    const TensorMap got = run_executor(
        "softmax-3pass.yaml",
        {{"P", std::to_string(P)}, {"M", std::to_string(M)}, {"E", std::to_string(E)},
         {"F", std::to_string(F)}},
        {{"Q", Q}, {"K", K}, {"V", V}}, fmt.storage);
    expect_same(got, "QK", QK);
    expect_same(got, "SD", SD);
    expect_same(got, "AV", AV);
  }
}

TEST(ExecutorEmulation, LinearAttentionBitExact) {
  const int64_t P = 13, M = 29, E = 7, F = 5;
  for (const Format& fmt : kFormats) {
    SCOPED_TRACE(fmt.name);
    const Store st = fmt.store;
    const Array Q = random_input({E, P}, st, 7), K = random_input({E, M}, st, 8),
                V = random_input({F, M}, st, 9);
    const float eps = static_cast<float>(1e-6);
    auto elu1 = [&](float x) { return x > 0 ? x + 1.0f : exp32(x); };
    Array PHIQ({E, P}), PHIK({E, M}), KV({E, F}), Z({E}), NUM({F, P}), DEN({P}), AV({F, P});
    for (int64_t e = 0; e < E; ++e)
      for (int64_t p = 0; p < P; ++p) PHIQ.at({e, p}) = st(elu1(Q.v[e * P + p]));
    for (int64_t e = 0; e < E; ++e)
      for (int64_t m = 0; m < M; ++m) PHIK.at({e, m}) = st(elu1(K.v[e * M + m]));
    for (int64_t e = 0; e < E; ++e)
      for (int64_t f = 0; f < F; ++f) {
        float acc = 0;
        for (int64_t m = 0; m < M; ++m) acc = acc + PHIK.at({e, m}) * V.v[f * M + m];
        KV.at({e, f}) = st(acc);
      }
    for (int64_t e = 0; e < E; ++e) {
      float acc = 0;
      for (int64_t m = 0; m < M; ++m) acc = acc + PHIK.at({e, m});
      Z.at({e}) = st(acc);
    }
    for (int64_t f = 0; f < F; ++f)
      for (int64_t p = 0; p < P; ++p) {
        float acc = 0;
        for (int64_t e = 0; e < E; ++e) acc = acc + PHIQ.at({e, p}) * KV.at({e, f});
        NUM.at({f, p}) = st(acc);
      }
    for (int64_t p = 0; p < P; ++p) {
      float acc = 0;
      for (int64_t e = 0; e < E; ++e) acc = acc + PHIQ.at({e, p}) * Z.at({e});
      DEN.at({p}) = st(acc + eps);
    }
    for (int64_t f = 0; f < F; ++f)
      for (int64_t p = 0; p < P; ++p) AV.at({f, p}) = st(NUM.at({f, p}) / DEN.at({p}));
    const TensorMap got = run_executor(
        "linear.yaml",
        {{"P", std::to_string(P)}, {"M", std::to_string(M)}, {"E", std::to_string(E)},
         {"F", std::to_string(F)}},
        {{"Q", Q}, {"K", K}, {"V", V}}, fmt.storage);
    expect_same(got, "KV", KV);
    expect_same(got, "DEN", DEN);
    expect_same(got, "AV", AV);
  }
}

// sigmoid, tanh and softplus as executor.h documents them (bf16 storage, fp32 compute, exact
// exp): sigmoid = round(1 / round(1 + exp(-x))), softplus = round(max(x, 0) +
// round(log1p(exp(-|x|)))), tanh = round(tanh(x)), each in float from the stored bf16 input.
TEST(ExecutorEmulation, ActivationFunctionsBitExact) {
  const Cascade c = parse_cascade_text(R"(name: activations
inputs: {X: [P]}
shapes: {P: 4000}
einsums: |
  SIG[p] = sigmoid(X[p])
  TANH[p] = tanh(X[p])
  SOFT[p] = softplus(X[p])
outputs: [SIG, TANH, SOFT]
)", "activations.yaml");
  const Bindings b = resolve_bindings(c, {});
  TensorMap in;
  in["X"] = Tensor({4000});
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0, 6);
  for (size_t i = 0; i < 4000; ++i) in["X"].values[i] = normal(rng);
  const double specials[] = {0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 104.0, -104.0, 1e30, -1e30,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i < std::size(specials); ++i) in["X"].values[i] = specials[i];
  auto same = [](double got, float want) {
    return std::isnan(want) ? std::isnan(got) : got == static_cast<double>(want);
  };
  const Store fp32 = [](float x) { return x; };
  for (const auto& [storage, store] : {std::pair{NumberFormat::BF16, Store(bf16)},
                                       std::pair{NumberFormat::FP32, fp32}}) {
    const ExecutionOptions o{storage, NumberFormat::FP32, ExpMode::Exact};
    const TensorMap out = execute(c, b, in, o);
    for (size_t i = 0; i < 4000; ++i) {
      const float x = store(static_cast<float>(in["X"].values[i]));
      const float sig = store(1.0f / (1.0f + exp32(-x)));
      const float t = store(static_cast<float>(std::tanh(static_cast<double>(x))));
      const float tail = static_cast<float>(std::log1p(static_cast<double>(exp32(-std::fabs(x)))));
      const float soft = store((x > 0 ? x : 0.0f) + tail);
      EXPECT_TRUE(same(out.at("SIG").values[i], sig)) << x << " " << out.at("SIG").values[i];
      EXPECT_TRUE(same(out.at("TANH").values[i], t)) << x;
      EXPECT_TRUE(same(out.at("SOFT").values[i], soft)) << x << " " << out.at("SOFT").values[i];
    }
    // The limits, exactly.
    EXPECT_EQ(out.at("SIG").values[10], 1.0);
    EXPECT_EQ(out.at("SIG").values[11], 0.0);
    EXPECT_EQ(out.at("SOFT").values[10], std::numeric_limits<double>::infinity());
    EXPECT_EQ(out.at("SOFT").values[11], 0.0);
    EXPECT_EQ(out.at("TANH").values[11], -1.0);
  }
}

}  // namespace
}  // namespace cascade
