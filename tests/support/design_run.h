// A design point evaluated by the analytical model, for tests: what `cascade run` does,
// without the files' lookup.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sim/analytical/analytical_model.h"
#include "sim/model/design_point.h"

namespace cascade::testing_support {

struct DesignRun {
  DesignPoint point;
  DesignPointResult result;
};

inline DesignRun run_design_point(const ArchSpec& arch, const Workload& workload,
                                  const Cascade& cascade, int64_t seq, const std::string& mapper,
                                  int64_t batch = 0, int64_t heads = 0,
                                  const std::map<std::string, std::string>& overrides = {}) {
  DesignPointSettings settings;
  settings.mapper = mapper;
  settings.seq = seq;
  settings.batch = batch;
  settings.heads = heads;
  settings.overrides = overrides;
  DesignRun run;
  run.point = make_design_point(arch, workload, cascade, settings);
  const AnalyticalModel model(run.point.problem, run.point.arch);
  run.result = evaluate_design_point(run.point, model);
  return run;
}

}  // namespace cascade::testing_support
