// Speed of the analytical model (DESIGN.md target: >= 100k mapping evaluations per second
// per core) and of the whole FuseMax reproduction (72 design points; target < 5 s).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mappings/mapping.h"
#include "mappings/parser.h"
#include "mappings/workload.h"
#include "sim/analytical/analytical_model.h"

namespace {

using namespace cascade;

const std::string kRoot = CASCADE_SOURCE_DIR;

struct Point {
  ArchSpec arch;
  Problem problem;
  Mapping mapping;
};

Point fusemax_point(int64_t seq) {
  Point p;
  p.arch = load_arch(kRoot + "/configs/arch/fusemax.yaml");
  const Workload w = load_workload(kRoot + "/configs/workloads/bert-base.yaml");
  const Cascade c = parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml");
  auto settings = mapper_shape_settings("fusemax", c, p.arch);
  for (const auto& [k, v] : workload_settings(w, c, seq, {})) settings[k] = v;
  p.problem = make_problem(c, resolve_bindings(c, settings), w.batch, w.heads, p.arch.word_bytes());
  p.mapping = generate_mappings("fusemax", p.problem, p.arch).front();
  return p;
}

// One mapping evaluation: resolve and check the mapping, data movement, action counts,
// latency, energy (the problem is prepared once per cascade and shape).
void BM_MappingEvaluation(benchmark::State& state) {
  const Point p = fusemax_point(4096);
  const AnalyticalModel model(p.problem, p.arch);
  for (auto _ : state) benchmark::DoNotOptimize(model.evaluate(p.mapping).stats.cycles);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MappingEvaluation);

// The same with the mapping already resolved (a search varying tile sizes in place).
void BM_ResolvedMappingEvaluation(benchmark::State& state) {
  const Point p = fusemax_point(4096);
  const AnalyticalModel model(p.problem, p.arch);
  const ResolvedMapping resolved = resolve_mapping(p.problem, p.arch, p.mapping);
  for (auto _ : state) benchmark::DoNotOptimize(model.evaluate(resolved).stats.cycles);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolvedMappingEvaluation);

// The FuseMax paper's comparison: 4 models x 6 lengths x 3 designs, each from files to a
// chosen, evaluated mapping (FLAT's mapper evaluates all its candidates).
void BM_FuseMaxReproduction(benchmark::State& state) {
  struct Design {
    std::string arch, mapper, cascade;
  };
  const std::vector<Design> designs = {{"fusemax", "fusemax", "softmax-1pass"},
                                       {"flat", "flat", "softmax-3pass"},
                                       {"unfused", "unfused", "softmax-3pass"}};
  const std::vector<std::string> models = {"bert-base", "trxl-wt103", "t5-small", "xlm"};
  const std::vector<int64_t> lengths = {1024, 4096, 16384, 65536, 262144, 1048576};
  for (auto _ : state) {
    int points = 0;
    for (const Design& d : designs) {
      const ArchSpec arch = load_arch(kRoot + "/configs/arch/" + d.arch + ".yaml");
      const Cascade c = parse_cascade_file(kRoot + "/configs/cascades/" + d.cascade + ".yaml");
      for (const std::string& m : models) {
        const Workload w = load_workload(kRoot + "/configs/workloads/" + m + ".yaml");
        for (int64_t seq : lengths) {
          const AnalyticalRun r =
              run_analytical(arch, c, w.batch, w.heads, workload_settings(w, c, seq, {}), d.mapper);
          benchmark::DoNotOptimize(r.evaluation.latency_s);
          ++points;
        }
      }
    }
    state.counters["points"] = points;
  }
}
BENCHMARK(BM_FuseMaxReproduction)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
