#include "sim/functional/check.h"
#include "arch/support/checked.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include "arch/support/names.h"
#include "mappings/analysis/evaluation_order.h"
#include "sim/functional/tensor_file.h"
#include "sim/reference/attention_reference.h"
#include "sim/reference/decode_reference.h"

namespace cascade {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in (0, 1): 53 random bits, never 0.
double uniform_open(uint64_t& state) {
  return (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53;
}

std::string option(const Cascade& c, const std::string& key, const std::string& fallback) {
  auto it = c.reference.find(key);
  return it == c.reference.end() ? fallback : it->second;
}

bool flag(const Cascade& c, const std::string& key) {
  const std::string v = option(c, key, "false");
  if (v == "true") return true;
  if (v == "false") return false;
  throw Error(SourceLocation{c.file, 0, 0},
              "reference option '" + key + "' must be true or false, not '" + v + "'");
}

// The cascade parameter a built-in reference reads as `role` (scale, eps, lambda): the one the
// `reference:` map names for it, else the parameter called `role`. A cascade without it is an
// error naming both sides, never a silent default.
double parameter(const Cascade& c, const Bindings& b, const std::string& role) {
  const std::string name = option(c, role, role);
  if (const auto it = b.parameters.find(name); it != b.parameters.end()) return it->second;
  std::vector<std::string> names;
  for (const Parameter& p : c.parameters) names.push_back(p.name);
  throw Error(SourceLocation{c.file, 0, 0},
              "the " + option(c, "function", "") + " reference reads parameter '" + role + "'" +
                  (name != role ? " (named '" + name + "' by `reference:`)" : "") +
                  ", which cascade " + c.name + " does not have (its parameters: " +
                  (names.empty() ? "none" : join(names, ", ")) +
                  "); rename it, or name yours with `reference: {function: " +
                  option(c, "function", "") + ", " + role + ": <name>}`");
}

int64_t shape_or(const Bindings& b, const std::string& name, int64_t fallback) {
  auto it = b.shapes.find(name);
  return it == b.shapes.end() ? fallback : it->second;
}

const Tensor& input(const TensorMap& inputs, const std::string& name) {
  auto it = inputs.find(name);
  if (it == inputs.end())
    throw Error("the reference needs an input tensor named " + name + " (Q, K, V)");
  return it->second;
}

reference::FeatureMap feature_map(const Cascade& c) {
  const std::string name = option(c, "feature_map", "elu1");
  if (name == "elu1") return reference::FeatureMap::elu1;
  if (name == "identity") return reference::FeatureMap::identity;
  if (name == "relu") return reference::FeatureMap::relu;
  throw Error(SourceLocation{c.file, 0, 0},
              "unknown feature_map '" + name + "' (elu1, identity, relu)");
}

}  // namespace

void fill_normal(Tensor& tensor, uint64_t seed, double stddev) {
  uint64_t state = seed;
  for (size_t i = 0; i < tensor.values.size(); i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform_open(state)));
    const double theta = 2.0 * M_PI * uniform_open(state);
    tensor.values[i] = stddev * r * std::cos(theta);
    if (i + 1 < tensor.values.size()) tensor.values[i + 1] = stddev * r * std::sin(theta);
  }
}

bool CheckResult::passed() const {
  for (const OutputComparison& o : outputs)
    if (!o.passed) return false;
  return !outputs.empty();
}

namespace {

// The error of one output against its reference.
struct Errors {
  double max_abs = 0, scale = 0;       // max |got - want|, max |want|
  double sum_sq_error = 0, sum_sq_reference = 0;
  double sum_signed_error = 0, sum_abs_reference = 0;  // error along the reference's sign
  bool nan = false;
  double bias() const { return sum_abs_reference > 0 ? sum_signed_error / sum_abs_reference : sum_signed_error; }
  double relative() const { return scale > 0 ? max_abs / scale : max_abs; }
  double rms_relative() const {
    return sum_sq_reference > 0 ? std::sqrt(sum_sq_error / sum_sq_reference) : std::sqrt(sum_sq_error);
  }
};

Errors measure(const Tensor& got, const Tensor& want) {
  Errors e;
  for (size_t i = 0; i < got.values.size(); ++i) {
    const double d = got.values[i] - want.values[i];
    if (std::isnan(d)) e.nan = true;
    e.max_abs = std::max(e.max_abs, std::fabs(d));
    e.scale = std::max(e.scale, std::fabs(want.values[i]));
    e.sum_sq_error += d * d;
    e.sum_sq_reference += want.values[i] * want.values[i];
    e.sum_signed_error += want.values[i] < 0 ? -d : d;
    e.sum_abs_reference += std::fabs(want.values[i]);
  }
  return e;
}

}  // namespace

std::map<std::string, Tolerance> statistical_tolerances(const Cascade& cascade, const Bindings& bindings,
                                                        const TensorMap& inputs,
                                                        const ExecutionOptions& options, uint64_t seed) {
  std::map<std::string, Tolerance> out;
  if (options.storage == NumberFormat::FP64 && options.accumulate == NumberFormat::FP64) {
    for (const std::string& name : cascade.outputs) out[name] = Tolerance{true, kFp64AbsoluteTolerance, 0, 0};
    return out;
  }
  // The same computation without rounding and with the exact exp: what the noise runs are
  // measured against (so the hardware exp's approximation error counts as the datapath's).
  const ExecutionOptions exact;
  const TensorMap exact_values = execute(cascade, bindings, inputs, exact);
  // The runs are independent: up to two at a time (the results do not depend on it).
  std::vector<TensorMap> runs(kNoiseRuns);
  auto noise_run = [&](int run) {
    ExecutionOptions noisy = options;
    noisy.rounding_noise = true;
    noisy.noise_seed = seed * 0x2545f4914f6cdd1dULL + static_cast<uint64_t>(run) + 1;
    runs[run] = execute(cascade, bindings, inputs, noisy);
  };
  for (int run = 0; run < kNoiseRuns; run += 2) {
    std::exception_ptr failure;
    std::thread second;
    if (run + 1 < kNoiseRuns && std::thread::hardware_concurrency() > 1)
      second = std::thread([&] {
        try {
          noise_run(run + 1);
        } catch (...) {
          failure = std::current_exception();
        }
      });
    else if (run + 1 < kNoiseRuns)
      noise_run(run + 1);
    try {
      noise_run(run);
    } catch (...) {
      if (second.joinable()) second.join();
      throw;
    }
    if (second.joinable()) second.join();
    if (failure) std::rethrow_exception(failure);
  }
  // Per statistic: the runs' mean plus kSpreadSigmas of their spread, times kModelMargin.
  auto limit = [](const std::vector<double>& samples) {
    double mean = 0, square = 0;
    for (double x : samples) mean += x / static_cast<double>(samples.size());
    for (double x : samples) square += (x - mean) * (x - mean) / static_cast<double>(samples.size() - 1);
    return kModelMargin * (mean + kSpreadSigmas * std::sqrt(square));
  };
  for (const std::string& name : cascade.outputs) {
    std::vector<double> max, rms;
    double bias_square = 0;
    for (const TensorMap& values : runs) {
      const Errors e = measure(values.at(name), exact_values.at(name));
      max.push_back(e.relative());
      rms.push_back(e.rms_relative());
      bias_square += e.bias() * e.bias() / kNoiseRuns;
    }
    out[name] = Tolerance{false, limit(max), limit(rms), kBiasSigmas * std::sqrt(bias_square)};
  }
  return out;
}

OutputComparison compare_output(const std::string& name, const Tensor& got, const Tensor& want,
                                const Tolerance& tolerance) {
  const Errors e = measure(got, want);
  OutputComparison cmp;
  cmp.tensor = name;
  cmp.max_abs_error = e.max_abs;
  cmp.reference_scale = e.scale;
  cmp.relative_error = e.relative();
  cmp.rms_error = e.rms_relative();
  cmp.absolute = tolerance.absolute;
  cmp.tolerance = tolerance.max_relative;
  cmp.rms_tolerance = tolerance.rms_relative;
  cmp.bias = e.bias();
  cmp.bias_tolerance = tolerance.bias;
  cmp.passed = !e.nan && (tolerance.absolute
                              ? e.max_abs <= tolerance.max_relative
                              : cmp.relative_error <= tolerance.max_relative &&
                                    cmp.rms_error <= tolerance.rms_relative &&
                                    std::fabs(cmp.bias) <= tolerance.bias);
  if (e.nan) cmp.max_abs_error = cmp.relative_error = cmp.rms_error = std::nan("");
  return cmp;
}

TensorMap random_inputs(const Cascade& cascade, const Bindings& bindings, uint64_t seed,
                        double stddev) {
  TensorMap inputs;
  uint64_t index = 0;
  for (const TensorDecl& decl : cascade.inputs) {
    Tensor t(tensor_extents(*cascade.find_tensor(decl.name), bindings));
    fill_normal(t, seed * 1000003ULL + index++, stddev);
    inputs[decl.name] = std::move(t);
  }
  return inputs;
}

Tensor run_reference(const Cascade& cascade, const Bindings& bindings, const TensorMap& inputs,
                     std::string& description) {
  const std::string function = option(cascade, "function", "");
  if (function.empty())
    throw Error(SourceLocation{cascade.file, 0, 0},
                "cascade '" + cascade.name + "' names no reference (add `reference: {function: ...}`)");
  const bool causal = flag(cascade, "causal");
  description = function + (causal ? " (causal)" : "");
  const Tensor& Q = input(inputs, "Q");
  const Tensor& K = input(inputs, "K");
  const Tensor& V = input(inputs, "V");
  const int64_t E = bindings.shape("E");
  const int64_t F = bindings.shape("F");
  std::vector<double> out;
  std::vector<int64_t> extents;
  if (function == "softmax" || function == "linear" || function == "lightning") {
    reference::AttentionShape shape{Q.extents.at(1), K.extents.at(1), E, F};
    extents = {F, shape.P};
    if (function == "softmax") {
      out = reference::softmax_attention(shape, Q.values, K.values, V.values,
                                         parameter(cascade, bindings, "scale"),
                                         causal);
    } else if (function == "linear") {
      const reference::FeatureMap phi = feature_map(cascade);
      const double eps = parameter(cascade, bindings, "eps");
      description += std::string(" phi=") + reference::feature_map_name(phi);
      out = reference::linear_attention(shape, Q.values, K.values, V.values, phi, eps, causal);
    } else {
      out = reference::lightning_attention_naive(shape, Q.values, K.values, V.values,
                                                 parameter(cascade, bindings, "lambda"));
    }
  } else if (function == "neighborhood-1d") {
    reference::NeighborhoodAxis axis{Q.extents.at(1), bindings.shape("W"), shape_or(bindings, "D", 1), 1,
                                     causal};
    extents = {F, axis.length};
    out = reference::neighborhood_attention_1d(axis, E, F, Q.values, K.values, V.values,
                                               parameter(cascade, bindings, "scale"));
  } else if (function == "neighborhood-2d") {
    reference::NeighborhoodAxis y{Q.extents.at(1), bindings.shape("WY"), shape_or(bindings, "DY", 1), 1,
                                  flag(cascade, "causal_y")};
    reference::NeighborhoodAxis x{Q.extents.at(2), bindings.shape("WX"), shape_or(bindings, "DX", 1), 1,
                                  flag(cascade, "causal_x")};
    extents = {F, y.length, x.length};
    out = reference::neighborhood_attention_2d(y, x, E, F, Q.values, K.values, V.values,
                                               parameter(cascade, bindings, "scale"));
  } else if (function == "decode") {
    // Q [E][H], K and V [.][M][HK], out [F][H]; query head h reads KV head h / G.
    if (Q.extents.size() != 2 || K.extents.size() != 3 || V.extents.size() != 3)
      throw Error(SourceLocation{cascade.file, 0, 0},
                  "the decode reference reads Q [E][H], K [E][M][HK] and V [F][M][HK]; this "
                  "cascade's are " + shape_text(Q.extents) + ", " + shape_text(K.extents) + ", " +
                      shape_text(V.extents));
    const int64_t H = Q.extents.at(1), HK = K.extents.at(2);
    reference::DecodeShape shape{K.extents.at(1), E, F, H, HK > 0 ? H / HK : 0};
    if (HK < 1 || H % HK != 0)
      throw Error(SourceLocation{cascade.file, 0, 0},
                  "the decode reference needs the query heads (" + std::to_string(H) +
                      ") to be a multiple of the KV heads (" + std::to_string(HK) + ")");
    description += " G=" + std::to_string(shape.G);
    extents = {F, H};
    out = reference::decode_attention(shape, Q.values, K.values, V.values,
                                      parameter(cascade, bindings, "scale"));
  } else {
    throw Error(SourceLocation{cascade.file, 0, 0},
                "unknown reference function '" + function +
                    "' (softmax, linear, lightning, neighborhood-1d, neighborhood-2d, decode)");
  }
  Tensor t(extents);
  t.values = std::move(out);
  return t;
}

namespace {

// What the outputs are compared with, decided before anything runs.
enum class Against { BuiltIn, UserOutputs, ReferenceCascade };

Against against_of(const Cascade& cascade, const CheckOptions& options) {
  if (options.against && options.reference_cascade)
    throw Error("give one of --against and --reference-cascade, not both");
  if (options.against) return Against::UserOutputs;
  if (options.reference_cascade) {
    if (!options.reference_bindings) throw Error("a reference cascade needs its bindings");
    return Against::ReferenceCascade;
  }
  if (option(cascade, "function", "").empty())
    throw Error(SourceLocation{cascade.file, 0, 0},
                "cascade '" + cascade.name +
                    "' names no built-in reference: compare with your own outputs "
                    "(--against FILE.npz), with another cascade on the same inputs "
                    "(--reference-cascade OTHER.yaml), or add `reference: {function: ...}` "
                    "(softmax, linear, lightning, neighborhood-1d, neighborhood-2d, decode)");
  return Against::BuiltIn;
}

// The reference cascade reads the same inputs: each of its inputs must be one of ours.
void check_reference_inputs(const Cascade& cascade, const Cascade& other, const TensorMap& inputs,
                            const Bindings& other_bindings) {
  for (const TensorDecl& d : other.inputs) {
    const auto it = inputs.find(d.name);
    if (it == inputs.end())
      throw Error(SourceLocation{other.file, 0, 0},
                  "reference cascade " + other.name + " reads input " + d.name + ", which cascade " +
                      cascade.name + " does not have");
    const std::vector<int64_t> want = tensor_extents(*other.find_tensor(d.name), other_bindings);
    if (it->second.extents != want)
      throw Error(SourceLocation{other.file, 0, 0},
                  "input " + d.name + " has other extents in reference cascade " + other.name +
                      " than in " + cascade.name + " (check that both get the same shapes)");
  }
}

}  // namespace

CheckResult check_cascade(const Cascade& cascade, const Bindings& bindings,
                          const CheckOptions& options) {
  using clock = std::chrono::steady_clock;
  const Against against = against_of(cascade, options);
  CheckResult result;
  // The inputs three times (drawn, the executor's rounded copy, the reference's view), every
  // other tensor once, the outputs again in the reference: refused before allocating.
  double input_bytes = 0, output_bytes = 0;
  for (const TensorInfo& t : cascade.tensors) {
    double n = sizeof(double);
    for (int64_t e : tensor_extents(t, bindings)) n *= static_cast<double>(e);
    if (t.producer < 0) input_bytes += n;
    if (std::find(cascade.outputs.begin(), cascade.outputs.end(), t.name) != cascade.outputs.end())
      output_bytes += n;
  }
  check_memory(tensor_bytes(cascade, bindings) + 2 * input_bytes + output_bytes,
               "checking cascade " + cascade.name + " at these shapes");
  TensorMap inputs = random_inputs(cascade, bindings, options.seed, options.input_stddev);
  if (options.inputs)
    for (const auto& [name, tensor] : *options.inputs) {
      const TensorInfo* info = cascade.find_tensor(name);
      if (info == nullptr || !inputs.count(name))
        throw Error("input " + name + " is not an input of cascade " + cascade.name);
      if (tensor.extents != tensor_extents(*info, bindings))
        throw Error("input " + name + " does not have the extents of " + name + " at these shapes");
      inputs[name] = tensor;
    }
  // The reference sees exactly the (rounded) values the executor computes with.
  for (auto& [name, tensor] : inputs) {
    const TensorInfo* info = cascade.find_tensor(name);
    const NumberFormat f = info && !info->format.empty() ? parse_number_format(info->format)
                                                         : options.execution.storage;
    for (double& v : tensor.values) v = round_to(f, v);
  }
  if (against == Against::ReferenceCascade)
    check_reference_inputs(cascade, *options.reference_cascade, inputs, *options.reference_bindings);
  auto t0 = clock::now();
  const TensorMap values = execute(cascade, bindings, inputs, options.execution);
  auto t1 = clock::now();
  // Expected outputs by name.
  std::map<std::string, Tensor> expected;
  if (against == Against::BuiltIn) {
    const Tensor t = run_reference(cascade, bindings, inputs, result.reference);
    for (const std::string& name : cascade.outputs) expected[name] = t;
  } else if (against == Against::UserOutputs) {
    result.reference = "your outputs (" + options.against_name + ")";
    for (const std::string& name : cascade.outputs) {
      const auto it = options.against->find(name);
      if (it == options.against->end()) {
        std::vector<std::string> names;
        for (const auto& [n, t] : *options.against) names.push_back(n);
        throw Error(SourceLocation{options.against_name, 0, 0},
                    "has no output " + name + " (entries: " + join(names, ", ") + ")");
      }
      expected[name] = it->second;
    }
  } else {
    const Cascade& other = *options.reference_cascade;
    result.reference = "cascade " + other.name + " in fp64 on the same inputs";
    TensorMap other_inputs;
    for (const TensorDecl& d : other.inputs) other_inputs[d.name] = inputs.at(d.name);
    const TensorMap other_values =
        execute(other, *options.reference_bindings, other_inputs, ExecutionOptions{});
    for (const std::string& name : cascade.outputs) {
      const auto it = other_values.find(name);
      if (it == other_values.end())
        throw Error(SourceLocation{other.file, 0, 0},
                    "reference cascade " + other.name + " computes no tensor " + name);
      expected[name] = it->second;
    }
  }
  auto t2 = clock::now();
  result.execute_seconds = std::chrono::duration<double>(t1 - t0).count();
  result.reference_seconds = std::chrono::duration<double>(t2 - t1).count();

  for (const std::string& name : cascade.outputs) {
    const Tensor& got = values.at(name);
    const Tensor& want = expected.at(name);
    if (got.extents != want.extents)
      throw Error(SourceLocation{cascade.file, 0, 0},
                  "output " + name + " has extents " + shape_text(got.extents) +
                      ", the reference's are " + shape_text(want.extents) +
                      (against == Against::BuiltIn ? " (the built-in references lay out [F][P] or [F][Y][X])"
                                                   : ""));
  }
  std::map<std::string, Tolerance> tolerances;
  if (options.tolerance > 0) {
    for (const std::string& name : cascade.outputs) tolerances[name] = Tolerance{false, options.tolerance, kNoLimit, kNoLimit};
  } else {
    tolerances = statistical_tolerances(cascade, bindings, inputs, options.execution, options.seed);
  }
  result.tolerance_seconds = std::chrono::duration<double>(clock::now() - t2).count();
  for (const std::string& name : cascade.outputs)
    result.outputs.push_back(compare_output(name, values.at(name), expected.at(name), tolerances.at(name)));
  return result;
}

}  // namespace cascade
