#include "sim/analytical/search_evaluator.h"

#include "sim/analytical/analytical_model.h"
#include "sim/model/compute_cost.h"
#include "sim/model/design_point.h"

namespace cascade {

namespace {

class AnalyticalSearchEvaluator : public SearchEvaluator {
 public:
  AnalyticalSearchEvaluator(const Problem& problem, const ArchSpec& arch)
      : problem_(problem), arch_(arch), model_(problem, arch) {
    for (const ProblemEinsum& pe : problem.einsums) {
      ii_.emplace_back();
      for (const PeArray& a : arch.arrays) {
        const ComputeCost c = compute_cost(pe, a);
        ii_.back().push_back(c.supported ? c.ii : -1);
      }
    }
  }
  double issue_interval(int einsum, int array) const override { return ii_[einsum][array]; }
  SearchScore evaluate(const Mapping& mapping) override {
    SearchScore s;
    try {
      const Stats stats = model_.evaluate(mapping);  // as `cascade run` evaluates a file
      s.latency_s = latency_of(arch_, stats);
      s.energy_j = energy_of(arch_, stats).total_pj * 1e-12;
      s.utilization = stats.utilization;
      s.valid = true;
    } catch (const Error& e) {
      s.error = e.what();
    }
    return s;
  }

 private:
  const Problem& problem_;
  const ArchSpec& arch_;
  AnalyticalModel model_;
  std::vector<std::vector<double>> ii_;
};

}  // namespace

std::unique_ptr<SearchEvaluator> make_analytical_search_evaluator(const Problem& problem,
                                                                  const ArchSpec& arch) {
  return std::make_unique<AnalyticalSearchEvaluator>(problem, arch);
}

void install_analytical_search_evaluator() {
  set_search_evaluator_factory(make_analytical_search_evaluator);
}

}  // namespace cascade
