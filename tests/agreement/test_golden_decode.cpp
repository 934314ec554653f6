// Decode golden vectors (tests/golden/decode/, made on an H200 by
// experiments/gpu/decode_benchmark.py --golden; provenance in its manifest.json): the fp64
// decode reference (sim/reference/decode_reference.h) and the functional executor on the
// decode cascade (configs/cascades/decode-gqa-split.yaml, several split layouts) against
// the GPU's fp64 naive reference and its SDPA kernel output, on the exact inputs the GPU saw.
//
// Tolerances as tests/agreement/test_golden_references.cpp and test_golden_executor.cpp:
// C++ fp64 vs GPU fp64 <= 1e-10 relative to max|ref|; the GPU kernel in its format vs the
// C++ fp64 reference bf16 <= 4·2^-8, fp16 <= 4·2^-10, fp32 <= 1e-5; the executor passes
// check's statistical tolerance (sim/functional/check.h) against the reference and lands
// within its max-error tolerance + the GPU's of the kernel (triangle inequality).
#include <gtest/gtest.h>

#include "mappings/cascade/parser.h"
#include "sim/functional/check.h"
#include "sim/functional/executor.h"
#include "sim/reference/decode_reference.h"
#include "tests/support/golden.h"

namespace cascade {
namespace {

const std::string kSource = CASCADE_SOURCE_DIR;

double gpu_tolerance(const std::string& format) {
  if (format == "bf16") return 4.0 / 256;
  if (format == "fp16") return 4.0 / 1024;
  return 1e-5;
}

golden::Manifest decode_manifest() { return golden::load_manifest(kSource + "/tests/golden/decode"); }

TEST(GoldenDecode, MadeOnAGpuWithEveryCaseCovered) {
  const golden::Manifest m = decode_manifest();
  EXPECT_EQ(m.provenance.value("device", ""), "cuda");
  EXPECT_EQ(m.cases.size(), 9u);  // 3 shapes x fp32, bf16, fp16: a kernel passed for each
  for (const golden::Case& c : m.cases) EXPECT_EQ(c.variant, "decode");
}

TEST(GoldenDecode, ReferenceMatchesTheGpuFp64AndTheKernelOutputs) {
  const golden::Manifest m = decode_manifest();
  for (const golden::Case& c : m.cases) {
    SCOPED_TRACE(c.id() + " " + c.kernel);
    const reference::DecodeShape s{c.param_int("M"), c.param_int("E"), c.param_int("F"),
                                   c.param_int("H"), c.param_int("G")};
    const std::vector<double> ours = reference::decode_attention(
        s, m.array(c, "q").data, m.array(c, "k").data, m.array(c, "v").data,
        c.param_double("scale"));
    const golden::Comparison vs_gpu64 = golden::compare(ours, m.array(c, "ref").data);
    EXPECT_LE(vs_gpu64.rel_max, 1e-10);
    const golden::Comparison kernel = golden::compare(m.array(c, "out").data, ours);
    EXPECT_LE(kernel.rel_max, gpu_tolerance(c.format));
    EXPECT_GT(kernel.rel_max, 0.0);  // the kernel really ran in its format
  }
}

TEST(GoldenDecode, ExecutorMatchesTheGpuWithinTheCombinedBound) {
  const golden::Manifest m = decode_manifest();
  const Cascade cascade = parse_cascade_file(kSource + "/configs/cascades/decode-gqa-split.yaml");
  int checked = 0;
  for (const golden::Case& c : m.cases) {
    // splits x tile: several tiles per split with a partial last split; one tile per split
    for (const auto& [splits, tile] : {std::pair<int, int>{4, 32}, {3, 16}, {1, 128}}) {
#ifdef CASCADE_SANITIZED
      // Under ASan/UBSan (59 s with all three) the first layout, which has several tiles per
      // split and a partial last split; the Release run checks all three.
      if (splits != 4) continue;
#endif
      SCOPED_TRACE(c.id() + " S=" + std::to_string(splits) + " M0=" + std::to_string(tile));
      std::map<std::string, std::string> settings;
      for (const char* k : {"E", "F", "H", "G"}) settings[k] = std::to_string(c.param_int(k));
      settings["S"] = std::to_string(splits);
      settings["M0"] = std::to_string(tile);
      settings["M"] = std::to_string(c.param_int("M"));
      const Bindings bm = resolve_bindings(cascade, settings);
      TensorMap inputs;
      for (const char* name : {"Q", "K", "V"}) {
        npy::Array a = m.array(c, std::string(1, static_cast<char>(std::tolower(name[0]))));
        Tensor t(a.shape);
        t.values = a.data;
        inputs[name] = std::move(t);
      }
      ExecutionOptions options;
      options.storage = parse_number_format(c.format);
      options.accumulate = default_accumulation(options.storage);
      const TensorMap result = execute(cascade, bm, inputs, options);
      const std::vector<double>& got = result.at("AV").values;
      Tensor reference(result.at("AV").extents);
      reference.values = m.array(c, "ref").data;
      ASSERT_EQ(reference.values.size(), got.size());
      const Tolerance tolerance = statistical_tolerances(cascade, bm, inputs, options, 1).at("AV");
      const OutputComparison vs_ref = compare_output("AV", result.at("AV"), reference, tolerance);
      EXPECT_TRUE(vs_ref.passed) << "max " << vs_ref.relative_error << " (" << vs_ref.tolerance
                                 << "), rms " << vs_ref.rms_error << " (" << vs_ref.rms_tolerance
                                 << "), bias " << vs_ref.bias << " (" << vs_ref.bias_tolerance << ")";
      EXPECT_LE(golden::compare(got, m.array(c, "out").data).rel_max,
                tolerance.max_relative + gpu_tolerance(c.format));
      ++checked;
    }
  }
#ifdef CASCADE_SANITIZED
  EXPECT_EQ(checked, 9);
#else
  EXPECT_EQ(checked, 27);
#endif
}

}  // namespace
}  // namespace cascade
