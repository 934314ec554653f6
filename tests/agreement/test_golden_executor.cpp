// The functional executor against the GPU golden vectors (tests/golden/, made on an H200
// by experiments/gpu/make_golden.py): each golden case is run through the matching
// cascade in the case's format (bf16/fp16 storage with fp32 accumulation, or fp32) on the
// exact inputs the GPU saw.
//
// Tolerance, by the triangle inequality: |executor - GPU| <= |executor - exact| +
// |GPU - exact|. The first term is check's statistical tolerance (sim/functional/check.h:
// the errors of the same cascade with rounding noise, on these inputs), the second the
// tolerance the GPU kernels were accepted with (relative max error 4·2^-8 for bf16,
// 4·2^-10 for fp16, 1e-5 for fp32). The executor must also pass check's tolerance against
// the GPU's fp64 reference (max, RMS and bias).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mappings/cascade/parser.h"
#include "sim/functional/check.h"
#include "sim/functional/executor.h"
#include "tests/support/golden.h"

namespace cascade {
namespace {

const std::string kSource = CASCADE_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

struct GoldenSetup {
  Cascade cascade;
  std::map<std::string, std::string> settings;
};

std::string str(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// The cascade that computes a golden case, with its shapes and parameters; false if no
// shipped cascade covers it.
bool setup_for(const golden::Case& c, GoldenSetup& out) {
  auto file = [&](const std::string& name) { return kSource + "/configs/cascades/" + name; };
  auto& s = out.settings;
  const std::string P = std::to_string(c.param_int("P"));
  const std::string M = std::to_string(c.param_int("M"));
  s = {{"E", std::to_string(c.param_int("E"))}, {"F", std::to_string(c.param_int("F"))}};
  if (c.variant == "softmax") {
    const bool causal = c.param_bool("causal");
    out.cascade = parse_cascade_file(file(causal ? "softmax-causal.yaml" : "softmax-1pass.yaml"));
    s["P"] = P;
    s["M"] = M;
    if (!causal) s["M0"] = "16";  // several tiles, a partial last one for M = 70
    s["scale"] = str(c.param_double("scale"));
    return true;
  }
  if (c.variant == "linear") {
    const bool causal = c.param_bool("causal");
    std::string text = read_text(file(causal ? "linear-causal.yaml" : "linear.yaml"));
    if (c.param_string("feature_map") == "relu") {
      replace_all(text, "elu1(", "relu(");
      replace_all(text, "feature_map: elu1", "feature_map: relu");
    }
    out.cascade = parse_cascade_text(text, "linear (golden variant)");
    s["P"] = P;
    if (!causal) s["M"] = M;
    s["eps"] = str(c.param_double("eps"));
    return true;
  }
  if (c.variant == "lightning") {
    out.cascade = parse_cascade_file(file("lightning.yaml"));
    s["P"] = P;
    s["B"] = std::to_string(c.param_int("block"));
    s["lambda"] = str(c.param_double("lambda"));
    return true;
  }
  if (c.variant == "neighborhood") {
    const auto k = c.param_ints("k");
    const auto d = c.param_ints("d");
    const auto causal = c.param_bools("causal");
    const auto shape = c.param_ints("shape");
    s["scale"] = str(c.param_double("scale"));
    if (shape.size() == 1) {
      out.cascade = parse_cascade_file(
          file(causal[0] ? "neighborhood-1d-causal.yaml" : "neighborhood-1d.yaml"));
      s["P"] = P;
      s["W"] = std::to_string(k[0]);
      s["D"] = std::to_string(d[0]);
      return true;
    }
    if (causal[0] || causal[1]) return false;  // no causal 2D cascade is shipped
    out.cascade = parse_cascade_file(file("neighborhood-2d.yaml"));
    s["Y"] = std::to_string(shape[0]);
    s["X"] = std::to_string(shape[1]);
    s["WY"] = std::to_string(k[0]);
    s["WX"] = std::to_string(k[1]);
    s["DY"] = std::to_string(d[0]);
    s["DX"] = std::to_string(d[1]);
    return true;
  }
  return false;
}

double gpu_tolerance(NumberFormat f) {
  switch (f) {
    case NumberFormat::BF16:
      return 4.0 / 256;
    case NumberFormat::FP16:
      return 4.0 / 1024;
    default:
      return 1e-5;
  }
}

TEST(GoldenExecutor, EveryCascadeMatchesTheGpuWithinTheCombinedBound) {
  const golden::Manifest manifest = golden::load_manifest(kSource + "/tests/golden");
  int checked = 0, skipped = 0;
  std::map<std::string, int> per_variant;
  for (const golden::Case& c : manifest.cases) {
    SCOPED_TRACE(c.id());
    GoldenSetup first;
    if (!setup_for(c, first)) {
      ++skipped;
      continue;
    }
    std::vector<GoldenSetup> setups = {first};
    if (c.variant == "softmax" && c.param_bool("causal")) {
      // The 1-pass (online) form of the causal mask must give the same values.
      GoldenSetup online = first;
      online.cascade = parse_cascade_file(kSource + "/configs/cascades/softmax-1pass-causal.yaml");
      online.settings["M0"] = "16";  // several tiles, some emptied by the mask
      setups.push_back(online);
    }
    for (const GoldenSetup& setup : setups) {
      SCOPED_TRACE(setup.cascade.name);
      const Bindings b = resolve_bindings(setup.cascade, setup.settings);
      TensorMap inputs;
      for (const char* name : {"Q", "K", "V"}) {
        const std::string key(1, static_cast<char>(std::tolower(name[0])));
        npy::Array a = manifest.array(c, key);
        Tensor t(a.shape);
        t.values = a.data;
        inputs[name] = std::move(t);
      }
      ExecutionOptions options;
      options.storage = parse_number_format(c.format);
      options.accumulate = default_accumulation(options.storage);
      const TensorMap result = execute(setup.cascade, b, inputs, options);
      const std::vector<double>& got = result.at(setup.cascade.outputs.at(0)).values;

      const std::string output = setup.cascade.outputs.at(0);
      Tensor reference(result.at(output).extents);
      reference.values = manifest.array(c, "ref").data;
      ASSERT_EQ(reference.values.size(), got.size());
      const Tolerance tolerance =
          statistical_tolerances(setup.cascade, b, inputs, options, 1).at(output);
      const OutputComparison vs_ref = compare_output(output, result.at(output), reference, tolerance);
      const golden::Comparison vs_gpu = golden::compare(got, manifest.array(c, "out").data);
      EXPECT_TRUE(vs_ref.passed) << "executor vs fp64 reference: max " << vs_ref.relative_error << " ("
                                 << vs_ref.tolerance << "), rms " << vs_ref.rms_error << " ("
                                 << vs_ref.rms_tolerance << "), bias " << vs_ref.bias << " ("
                                 << vs_ref.bias_tolerance << ")";
      EXPECT_LE(vs_gpu.rel_max, tolerance.max_relative + gpu_tolerance(options.storage)) << "executor vs GPU";
      ++checked;
      ++per_variant[c.variant];
    }
  }
  // Every variant is covered; only the causal 2D neighborhood cases lack a cascade.
  EXPECT_GE(per_variant["softmax"], 15);  // 12 cases, the causal ones twice
  EXPECT_GE(per_variant["linear"], 9);
  EXPECT_GE(per_variant["lightning"], 6);
  EXPECT_GE(per_variant["neighborhood"], 9);
  EXPECT_LE(skipped, 3);
  EXPECT_GT(checked, 30);
}

}  // namespace
}  // namespace cascade
