// Functional executor speed: the 1-pass cascade on one BERT-base head
// (P = M = 1024, E = F = 64), single-threaded. Target (DESIGN.md): < 0.5 s in fp32.
#include <benchmark/benchmark.h>

#include "mappings/cascade/parser.h"
#include "sim/functional/check.h"
#include "sim/functional/executor.h"

namespace {

void run_cascade(benchmark::State& state, const char* file, cascade::NumberFormat format) {
  using namespace cascade;
  const Cascade c = parse_cascade_file(std::string(CASCADE_SOURCE_DIR) + "/configs/cascades/" + file);
  const int64_t n = state.range(0);
  std::map<std::string, std::string> shapes = {{"P", std::to_string(n)}, {"M", std::to_string(n)},
                                               {"E", "64"}, {"F", "64"}};
  if (c.find_partition_of("M")) shapes["M0"] = "64";
  const Bindings b = resolve_bindings(c, shapes);
  const TensorMap inputs = random_inputs(c, b, 1, 1.0);
  const ExecutionOptions options{format, default_accumulation(format), ExpMode::Exact};
  for (auto _ : state) {
    TensorMap out = execute(c, b, inputs, options);
    benchmark::DoNotOptimize(out);
  }
  // QK and AV multiply-accumulates per run.
  state.counters["MAC/s"] = benchmark::Counter(2.0 * n * n * 64, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(run_cascade, softmax_1pass_fp32, "softmax-1pass.yaml", cascade::NumberFormat::FP32)
    ->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run_cascade, softmax_1pass_bf16, "softmax-1pass.yaml", cascade::NumberFormat::BF16)
    ->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(run_cascade, softmax_3pass_fp32, "softmax-3pass.yaml", cascade::NumberFormat::FP32)
    ->Arg(1024)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
