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
      for (const PeArray& a : arch_.arrays) {
        const auto it = stats.utilization.find(a.name);
        s.utilization.push_back(it == stats.utilization.end() ? 0 : it->second);
      }
      s.valid = true;
    } catch (const Error& e) {
      s.error = e.what();
    }
    return s;
  }
  void evaluate(const ResolvedMapping& mapping, SearchScore& s) override {
    s.valid = false;
    s.error.clear();
    try {
      // AnalyticalModel::evaluate(Mapping) checks operation support after resolving.
      for (size_t e = 0; e < mapping.einsums.size(); ++e)
        if (ii_[e][mapping.einsums[e].array] < 0)
          throw Error("einsum " + problem_.einsums[e].name + ": " +
                      arch_.arrays[mapping.einsums[e].array].name + " does not support its operations");
      model_.summarize(mapping, summary_);
      s.latency_s = summary_.latency_s;
      s.energy_j = summary_.energy_pj * 1e-12;
      s.utilization = summary_.utilization;
      s.valid = true;
    } catch (const Error& e) {
      s.error = e.what();
    }
  }

 private:
  const Problem& problem_;
  const ArchSpec& arch_;
  AnalyticalModel model_;
  std::vector<std::vector<double>> ii_;
  AnalyticalModel::Summary summary_;
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
