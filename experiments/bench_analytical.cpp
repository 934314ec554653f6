// Speed of the analytical model (DESIGN.md target: >= 100k mapping evaluations per second
// per core) and of the whole FuseMax reproduction (72 design points; target < 5 s).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mappings/mappers/registry.h"
#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "sim/analytical/analytical_model.h"
#include "sim/model/design_point.h"

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
  const Mapper& fusemax = mapper_named("fusemax");
  auto settings = fusemax.shape_settings(c, p.arch);
  for (const auto& [k, v] : workload_settings(w, c, seq, {})) settings[k] = v;
  p.problem = make_problem(c, resolve_bindings(c, settings), w.batch, w.heads, p.arch.word_bytes());
  p.mapping = fusemax.candidates(p.problem, p.arch).front();
  return p;
}

// One mapping evaluation: resolve and check the mapping, data movement, action counts,
// latency, energy (the problem is prepared once per cascade and shape).
void BM_MappingEvaluation(benchmark::State& state) {
  const Point p = fusemax_point(4096);
  const AnalyticalModel model(p.problem, p.arch);
  for (auto _ : state)
    benchmark::DoNotOptimize(energy_of(p.arch, model.evaluate(p.mapping)).total_pj);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MappingEvaluation);

// The same with the mapping already resolved (a search varying tile sizes in place).
void BM_ResolvedMappingEvaluation(benchmark::State& state) {
  const Point p = fusemax_point(4096);
  const AnalyticalModel model(p.problem, p.arch);
  const ResolvedMapping resolved = resolve_mapping(p.problem, p.arch, p.mapping);
  for (auto _ : state)
    benchmark::DoNotOptimize(energy_of(p.arch, model.evaluate(resolved)).total_pj);
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
          DesignPointSettings settings;
          settings.seq = seq;
          settings.mapper = d.mapper;
          const DesignPoint point = make_design_point(arch, w, c, settings);
          const AnalyticalModel model(point.problem, point.arch);
          benchmark::DoNotOptimize(evaluate_design_point(point, model).latency_s);
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
