// Speed of the mapping search (mappings/mappers/search/search.h) with the analytical model:
// candidates per second (generated, pruning included) and evaluations per second, for
// BERT-base points; threads 1 and 2.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/analytical/search_evaluator.h"
#include "sim/model/design_point.h"

namespace cascade {
namespace {

const std::string kConfigs = std::string(CASCADE_SOURCE_DIR) + "/configs/";

DesignPoint bert(const std::string& arch, const std::string& cascade, int64_t seq) {
  DesignPointSettings s;
  s.mapper = "fusemax";
  if (cascade != "softmax-1pass") s.mapper = "generic";
  s.seq = seq;
  return load_design_point({kConfigs + "arch/" + arch + ".yaml", kConfigs + "workloads/bert-base.yaml",
                            kConfigs + "cascades/" + cascade + ".yaml", ""},
                           s);
}

void run(benchmark::State& state, const std::string& arch, const std::string& cascade) {
  install_analytical_search_evaluator();
  const DesignPoint p = bert(arch, cascade, state.range(0));
  SearchOptions o;
  o.budget_candidates = 20000;
  o.threads = static_cast<int>(state.range(1));
  int64_t generated = 0, evaluated = 0;
  for (auto _ : state) {
    const SearchResult r = search_mappings(p.problem, p.arch, o);
    generated += r.generated;
    evaluated += r.evaluated;
  }
  state.counters["candidates_per_s"] = benchmark::Counter(static_cast<double>(generated), benchmark::Counter::kIsRate);
  state.counters["evaluations_per_s"] = benchmark::Counter(static_cast<double>(evaluated), benchmark::Counter::kIsRate);
}

void BM_SearchFusemax1Pass(benchmark::State& s) { run(s, "fusemax", "softmax-1pass"); }
void BM_SearchFlat3Pass(benchmark::State& s) { run(s, "flat", "softmax-3pass"); }
BENCHMARK(BM_SearchFusemax1Pass)->Args({4096, 1})->Args({4096, 2})->Args({65536, 1})->Args({65536, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SearchFlat3Pass)->Args({4096, 1})->Args({4096, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace cascade

BENCHMARK_MAIN();
