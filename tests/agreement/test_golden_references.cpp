// cascade's fp64 C++ references against the golden vectors made on a GPU
// (experiments/gpu/make_golden.py; provenance in tests/golden/manifest.json).
//
// For every manifest case (variant x parameters x format):
//   1. `ref` (the fp64 naive reference computed on the GPU in PyTorch, float64) must
//      equal cascade::reference's C++ fp64 result on the same inputs to ~1e-10 of the
//      output scale: two independent fp64 implementations of the same formula;
//   2. `out` (the GPU kernel in the case's format: FlashAttention/cuDNN/efficient SDPA,
//      the Triton linear/lightning kernels, FlexAttention) must be within the format's
//      tolerance of the C++ fp64 result.
//
// Tolerances of 2. (error relative to the output scale max|ref|, and relative L2 error):
//   The inputs are already rounded to the format, so only the kernel's own rounding
//   counts. With unit roundoff u (bf16 u = 2^-9, fp16 u = 2^-11): the output is rounded
//   once (<= u * max|ref|); the kernels also round one intermediate operand of the
//   second product (softmax probabilities P in FlashAttention, the masked/decayed score
//   block and the fp32 state in the Triton kernels) to the format, which adds a sum of
//   independent u-sized relative errors of the terms, ~u * max|ref| in practice, and a
//   few u in the worst case for outputs that are sums with cancellation (lightning:
//   no normalization). Scores and accumulations stay fp32 (~2^-24, negligible).
//   Hence max-error <= 4u * 2 = 4 * 2^-8 (bf16), 4 * 2^-10 (fp16) -- i.e. "a few 2^-8"
//   and "a few 2^-11" times 2 for margin -- and rel-L2 <= 2 * 2^-8 / 2 * 2^-10.
//   fp32 kernels run with tf32 disabled (products in fp32, fp32 accumulation): the
//   errors are ~1e-7 relative; 1e-5 leaves room for long reductions.
//   Measured errors of every kernel on these cases are in manifest.json (rel_l2,
//   max_abs_over_scale) and well inside these bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "sim/reference/attention_reference.h"
#include "tests/support/golden.h"
#include "tests/support/npy.h"

namespace {

using cascade::golden::Case;
using cascade::golden::Comparison;
using cascade::golden::Manifest;
namespace ref = cascade::reference;

const std::string kGoldenDir = std::string(CASCADE_SOURCE_DIR) + "/tests/golden";

// fp64 GPU (PyTorch) vs C++ fp64: max|gpu64 - cpp| <= kFp64Tolerance * max(1, max|cpp|).
constexpr double kFp64Tolerance = 1e-10;

struct FormatTolerance {
  double rel_max;  // max|out - cpp| / max|cpp|
  double rel_l2;   // ||out - cpp|| / ||cpp||
};

FormatTolerance tolerance_for(const std::string& format) {
  if (format == "bf16") return {4.0 * std::ldexp(1.0, -8), 2.0 * std::ldexp(1.0, -8)};
  if (format == "fp16") return {4.0 * std::ldexp(1.0, -10), 2.0 * std::ldexp(1.0, -10)};
  if (format == "fp32") return {1e-5, 1e-5};
  throw cascade::Error("golden: unknown format '" + format + "'");
}

const Manifest& manifest() {
  static const Manifest m = cascade::golden::load_manifest(kGoldenDir);
  return m;
}

// Case indices for the parameterized test; a broken manifest gives no cases here and
// fails ManifestIsComplete instead of aborting test registration.
std::vector<size_t> case_indices() {
  std::vector<size_t> idx;
  try {
    for (size_t i = 0; i < manifest().cases.size(); ++i) idx.push_back(i);
  } catch (const std::exception&) {
  }
  return idx;
}

ref::FeatureMap feature_map(const std::string& name) {
  if (name == "elu1") return ref::FeatureMap::elu1;
  if (name == "identity") return ref::FeatureMap::identity;
  if (name == "relu") return ref::FeatureMap::relu;
  throw cascade::Error("golden: unknown feature map '" + name + "'");
}

// Runs cascade's C++ fp64 reference for a case on the case's inputs.
std::vector<double> cpp_reference(const Case& c, const std::vector<double>& q,
                                  const std::vector<double>& k, const std::vector<double>& v) {
  const ref::AttentionShape shape{c.param_int("P"), c.param_int("M"), c.param_int("E"),
                                  c.param_int("F")};
  if (c.variant == "softmax")
    return ref::softmax_attention(shape, q, k, v, c.param_double("scale"), c.param_bool("causal"));
  if (c.variant == "linear")
    return ref::linear_attention(shape, q, k, v, feature_map(c.param_string("feature_map")),
                                 c.param_double("eps"), c.param_bool("causal"));
  if (c.variant == "lightning")
    return ref::lightning_attention_naive(shape, q, k, v, c.param_double("lambda"));
  if (c.variant == "neighborhood") {
    const auto dims = c.param_ints("shape");
    const auto kernel = c.param_ints("k");
    const auto dilation = c.param_ints("d");
    const auto causal = c.param_bools("causal");
    std::vector<ref::NeighborhoodAxis> axes;
    for (size_t a = 0; a < dims.size(); ++a)
      axes.push_back({dims[a], kernel.at(a), dilation.at(a), 1, static_cast<bool>(causal.at(a))});
    if (axes.size() == 1)
      return ref::neighborhood_attention_1d(axes[0], shape.E, shape.F, q, k, v,
                                            c.param_double("scale"));
    if (axes.size() == 2)
      return ref::neighborhood_attention_2d(axes[0], axes[1], shape.E, shape.F, q, k, v,
                                            c.param_double("scale"));
    throw cascade::Error("golden: " + c.id() + ": only 1D and 2D neighborhoods");
  }
  throw cascade::Error("golden: unknown variant '" + c.variant + "'");
}

// Expected cascade-layout shapes of a case's arrays.
std::vector<int64_t> expected_shape(const Case& c, const std::string& key) {
  const int64_t rows = (key == "q" || key == "k") ? c.param_int("E") : c.param_int("F");
  const int64_t cols =
      (key == "q" || key == "out" || key == "ref") ? c.param_int("P") : c.param_int("M");
  if (c.variant == "neighborhood") {
    std::vector<int64_t> s{rows};
    for (int64_t d : c.param_ints("shape")) s.push_back(d);
    return s;
  }
  return {rows, cols};
}

// True when the float32 value x is exactly representable in `format`.
bool representable(double x, const std::string& format) {
  if (format == "fp32" || x == 0.0) return true;
  const float f = static_cast<float>(x);
  if (format == "bf16") {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    return (bits & 0xFFFFu) == 0;
  }
  // fp16: |x| <= 65504, 11 significant bits for normals (|x| >= 2^-14), multiples of
  // 2^-24 below.
  if (std::abs(x) > 65504.0) return false;
  int exp2 = 0;
  std::frexp(x, &exp2);  // |x| = m * 2^exp2, m in [0.5, 1)
  const int shift = (exp2 - 1 >= -14) ? 11 - exp2 : 24;
  const double scaled = std::ldexp(x, shift);
  return scaled == std::floor(scaled);
}

class Golden : public ::testing::TestWithParam<size_t> {};

TEST_P(Golden, MatchesCppReference) {
  const Manifest& m = manifest();
  const Case& c = m.cases.at(GetParam());
  SCOPED_TRACE(c.id() + " (kernel " + c.kernel + ")");

  std::vector<double> in[3];
  const char* names[3] = {"q", "k", "v"};
  for (int i = 0; i < 3; ++i) {
    cascade::npy::Array a = m.array(c, names[i]);
    ASSERT_EQ(a.dtype, "<f4") << names[i];
    ASSERT_EQ(a.shape, expected_shape(c, names[i])) << names[i];
    for (double x : a.data)
      ASSERT_TRUE(representable(x, c.format))
          << names[i] << " value " << x << " not in " << c.format;
    in[i] = std::move(a.data);
  }
  const cascade::npy::Array out = m.array(c, "out");
  const cascade::npy::Array gpu64 = m.array(c, "ref");
  ASSERT_EQ(out.dtype, "<f4");
  ASSERT_EQ(gpu64.dtype, "<f8");
  ASSERT_EQ(out.shape, expected_shape(c, "out"));
  ASSERT_EQ(gpu64.shape, expected_shape(c, "ref"));

  const std::vector<double> cpp = cpp_reference(c, in[0], in[1], in[2]);
  ASSERT_EQ(cpp.size(), gpu64.data.size());

  // 1. two fp64 implementations agree
  const Comparison fp64 = cascade::golden::compare(gpu64.data, cpp);
  EXPECT_LE(fp64.max_abs, kFp64Tolerance * std::max(1.0, fp64.scale))
      << "GPU fp64 vs C++ fp64: max_abs=" << fp64.max_abs << " scale=" << fp64.scale;

  // 2. the GPU kernel in the case's format, against the C++ fp64 reference
  const FormatTolerance tol = tolerance_for(c.format);
  const Comparison low = cascade::golden::compare(out.data, cpp);
  EXPECT_LE(low.rel_max, tol.rel_max) << c.format << " kernel vs C++ fp64: rel_max";
  EXPECT_LE(low.rel_l2, tol.rel_l2) << c.format << " kernel vs C++ fp64: rel_l2";

  // The fp64 check can see a disagreement far below the low-precision tolerances:
  // perturbing one reference value by 1e-8 of the scale must fail it.
  std::vector<double> perturbed = gpu64.data;
  perturbed[perturbed.size() / 2] += 1e-8 * std::max(1.0, fp64.scale);
  EXPECT_GT(cascade::golden::compare(perturbed, cpp).max_abs,
            kFp64Tolerance * std::max(1.0, fp64.scale));
}

// The blocked / chunked / recurrent C++ forms against the GPU fp64 reference too (same
// formula, different summation order): every lightning and causal linear case.
TEST(GoldenBlocked, BlockedFormsMatch) {
  const Manifest& m = manifest();
  int checked = 0;
  for (const Case& c : m.cases) {
    const bool lightning = c.variant == "lightning";
    const bool causal_linear = c.variant == "linear" && c.param_bool("causal");
    if (!lightning && !causal_linear) continue;
    SCOPED_TRACE(c.id());
    const auto q = m.array(c, "q").data, k = m.array(c, "k").data, v = m.array(c, "v").data;
    const auto gpu64 = m.array(c, "ref").data;
    const ref::AttentionShape shape{c.param_int("P"), c.param_int("M"), c.param_int("E"),
                                    c.param_int("F")};
    std::vector<std::vector<double>> forms;
    if (lightning) {
      const double lambda = c.param_double("lambda");
      forms.push_back(
          ref::lightning_attention_blocked(shape, q, k, v, lambda, c.param_int("block")));
      forms.push_back(ref::lightning_attention_recurrent(shape, q, k, v, lambda));
    } else {
      const auto phi = feature_map(c.param_string("feature_map"));
      forms.push_back(
          ref::linear_attention_causal_chunked(shape, q, k, v, phi, c.param_double("eps"), 64));
      forms.push_back(
          ref::linear_attention_causal_quadratic(shape, q, k, v, phi, c.param_double("eps")));
    }
    for (const auto& f : forms) {
      const Comparison d = cascade::golden::compare(gpu64, f);
      EXPECT_LE(d.max_abs, kFp64Tolerance * std::max(1.0, d.scale));
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  return manifest().cases.at(info.param).id();
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(case_indices()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

// Every variant/format the brief asks for is present, and the data came from a GPU.
TEST(GoldenManifest, IsCompleteAndFromGpu) {
  Manifest m;
  ASSERT_NO_THROW(m = cascade::golden::load_manifest(kGoldenDir));
  EXPECT_EQ(m.provenance.value("device", ""), "cuda")
      << "golden vectors must be made on a GPU (experiments/gpu/make_golden.py)";
  EXPECT_FALSE(m.provenance.value("gpu", nlohmann::json()).is_null());
  for (const std::string variant : {"softmax", "linear", "lightning", "neighborhood"}) {
    for (const std::string format : {"fp32", "bf16", "fp16"}) {
      int n = 0;
      for (const auto& c : m.cases) n += (c.variant == variant && c.format == format);
      EXPECT_GE(n, 2) << variant << " " << format;
    }
  }
  bool causal_rect = false;
  for (const auto& c : m.cases)
    if (c.variant == "softmax" && c.param_bool("causal") && c.param_int("P") != c.param_int("M"))
      causal_rect = true;
  EXPECT_TRUE(causal_rect) << "no causal softmax case with P != M";
}

// --- the .npy reader ------------------------------------------------------------------

std::string npy_bytes(const std::string& dict, const std::string& payload, int version = 1) {
  std::string header = dict;
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string b = "\x93NUMPY";
  b += static_cast<char>(version);
  b += '\0';
  const uint32_t n = static_cast<uint32_t>(header.size());
  b += static_cast<char>(n & 0xFF);
  b += static_cast<char>((n >> 8) & 0xFF);
  if (version != 1) {
    b += static_cast<char>((n >> 16) & 0xFF);
    b += static_cast<char>((n >> 24) & 0xFF);
  }
  return b + header + payload;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(Npy, ReadsFloat32AndFloat64) {
  const auto a =
      cascade::npy::parse(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                    raw(std::vector<float>{1, 2, 3, 4, 5, 6.5f})),
                          "a");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4, 5, 6.5}));
  const auto b =
      cascade::npy::parse(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                                    raw(std::vector<double>{0.1, -2.0, 1e300}), 2),
                          "b");
  EXPECT_EQ(b.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(b.data, (std::vector<double>{0.1, -2.0, 1e300}));
  const auto c =
      cascade::npy::parse(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                    raw(std::vector<double>{7.0})),
                          "c");
  EXPECT_TRUE(c.shape.empty());
  EXPECT_EQ(c.data, (std::vector<double>{7.0}));
}

TEST(Npy, RejectsWhatItCannotRead) {
  const std::string four = raw(std::vector<float>{1, 2, 3, 4});
  auto expect_error = [](const std::string& bytes, const std::string& needle) {
    try {
      cascade::npy::parse(bytes, "x.npy");
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const cascade::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos) << e.what();
    }
  };
  expect_error(npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", four),
               "unsupported dtype");
  expect_error(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", four),
               "unsupported dtype");
  expect_error(npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }", four),
               "unsupported dtype");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four),
               "Fortran");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", four),
               "bytes");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", four),
               "bytes");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", four),
               "shape");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, }", four), "shape");
  expect_error("NUMPY garbage", "magic");
  std::string truncated =
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four);
  expect_error(truncated.substr(0, 20), "truncated");
  EXPECT_THROW(cascade::npy::load(kGoldenDir + "/does_not_exist.npy"), cascade::Error);
}

TEST(GoldenSupport, RepresentabilityCheckWorks) {
  EXPECT_TRUE(representable(1.0 + std::ldexp(1.0, -7), "bf16"));
  EXPECT_FALSE(representable(1.0 + std::ldexp(1.0, -8), "bf16"));
  EXPECT_TRUE(representable(1.0 + std::ldexp(1.0, -10), "fp16"));
  EXPECT_FALSE(representable(1.0 + std::ldexp(1.0, -11), "fp16"));
  EXPECT_TRUE(representable(std::ldexp(1.0, -24), "fp16"));
  EXPECT_FALSE(representable(std::ldexp(1.0, -25), "fp16"));
  EXPECT_FALSE(representable(70000.0, "fp16"));
}

}  // namespace
