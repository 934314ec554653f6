// The search loop (search.h): enumeration of the structures, then seeded local search, in
// batches that are generated sequentially and evaluated in parallel.
#include "mappings/mappers/search/search.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <unordered_set>

#include "arch/support/names.h"
#include "mappings/mappers/search/search_space.h"

namespace cascade {

using search_detail::Genome;
using search_detail::SearchSpace;

namespace {

SearchEvaluatorFactory& factory_slot() {
  static SearchEvaluatorFactory f;
  return f;
}

const std::string kFit = "tile does not fit", kOp = "op unsupported",
                  kConstraint = "constraint", kInvalid = "invalid";

std::string reason_of(const std::string& error) {
  if (error.find("do not fit") != std::string::npos ||
      error.find("register file") != std::string::npos)
    return kFit;
  if (error.find("not supported") != std::string::npos ||
      error.find("does not support") != std::string::npos)
    return kOp;
  return kInvalid;
}

struct Scored {
  Genome genome;
  double latency = 0, energy = 0;
};

// Better: lower latency, then lower energy (DesignPoint's rule).
bool better(double la, double ea, double lb, double eb) {
  return la < lb * (1 - 1e-9) || (la <= lb * (1 + 1e-9) && ea < eb);
}

struct Candidate {
  Genome genome;
  Mapping mapping;
  SearchScore score;
  std::string constraint;  // the violated one
  bool pruned = false, duplicate = false;
  double bound = 0;
};

}  // namespace

void set_search_evaluator_factory(SearchEvaluatorFactory factory) {
  factory_slot() = std::move(factory);
}
const SearchEvaluatorFactory& search_evaluator_factory() { return factory_slot(); }

std::vector<std::string> SearchResult::summary() const {
  std::vector<std::string> out;
  out.push_back(fmt::format("search: {} candidates generated, {} evaluated ({} valid), {} pruned "
                            "by the lower bounds, {} duplicates, in {:.2f} s",
                            generated, evaluated, valid, pruned, duplicates, seconds));
  std::string why;
  for (const auto& [reason, n] : rejected) why += fmt::format("{}{}: {}", why.empty() ? "" : ", ", reason, n);
  out.push_back("search: rejected " + (why.empty() ? std::string("none") : why));
  if (!excluded.empty())
    out.push_back("search: left out of the space: " + join(excluded, "; "));
  std::string front;
  for (const SearchPoint& p : pareto)
    front += fmt::format("{}({:.6g} ms, {:.6g} mJ)", front.empty() ? "" : " ", p.latency_s * 1e3,
                         p.energy_j * 1e3);
  out.push_back("search: Pareto front (latency, energy): " + front);
  return out;
}

SearchResult search_mappings(const Problem& problem, const ArchSpec& arch,
                             const SearchOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (!search_evaluator_factory())
    throw Error("the search mapper needs an evaluator (set_search_evaluator_factory): none is "
                "installed in this program");
  SearchSpace space(problem, arch, options.constraints);
  SearchResult result;
  result.excluded = space.excluded();
  const int threads = std::max(1, options.threads);
  std::vector<std::unique_ptr<SearchEvaluator>> evaluators;
  for (int t = 0; t < threads; ++t) evaluators.push_back(search_evaluator_factory()(problem, arch));
  std::vector<std::vector<double>> ii(problem.einsums.size(), std::vector<double>(arch.arrays.size()));
  for (size_t e = 0; e < problem.einsums.size(); ++e)
    for (size_t a = 0; a < arch.arrays.size(); ++a)
      ii[e][a] = std::max(0.0, evaluators[0]->issue_interval(static_cast<int>(e), static_cast<int>(a)));

  std::mt19937_64 rng(options.seed);
  std::unordered_set<uint64_t> seen;
  std::vector<Scored> elite;  // the best few, best first
  std::vector<Scored> front;  // Pareto front, latency ascending
  std::map<std::string, int64_t> by_constraint;
  std::map<std::string, std::string> first_error;
  const size_t kElite = 8, kBatch = 256;

  // Phase 1: the structures, most fused first, with every Einsum's default choices.
  std::vector<Genome> enumerated;
  {
    const size_t n = problem.order.size();
    const Genome base = space.default_genome();
    const auto& dram = space.dram_options();
    for (size_t a = 0; a < dram.size(); ++a)
      for (size_t b = 0; b < dram.size(); ++b) {
        // The second loop: none, or a whole rank at the DRAM level (FuseMax's M1).
        if (b > 0 && dram[b].factor != problem.bindings.shape(dram[b].rank)) continue;
        Genome g = base;
        g.loop_a[0] = static_cast<uint16_t>(a);
        g.loop_b[0] = static_cast<uint16_t>(b);
        enumerated.push_back(g);
      }
    const int cuts = static_cast<int>(std::min<size_t>(n > 0 ? n - 1 : 0, 12));
    std::vector<uint32_t> masks;
    for (uint32_t m = 1; m < (1u << cuts); ++m) masks.push_back(m);
    std::stable_sort(masks.begin(), masks.end(), [](uint32_t x, uint32_t y) {
      return __builtin_popcount(x) < __builtin_popcount(y);
    });
    for (uint32_t m : masks)
      for (uint16_t overlapped : {0, 1}) {
        Genome g = base;
        for (int i = 0; i < cuts; ++i) g.cut[i + 1] = (m >> i) & 1;
        g.overlapped = overlapped;
        enumerated.push_back(g);
      }
  }
  const auto genes = space.genes();
  size_t next_enumerated = 0;
  auto mutate = [&](Genome g) {
    std::uniform_int_distribution<int> count(1, 3);
    const int k = count(rng);
    for (int i = 0; i < k; ++i) {
      const auto& r = genes[std::uniform_int_distribution<size_t>(0, genes.size() - 1)(rng)];
      const size_t values = space.values(g, r);
      if (values <= 1) continue;
      space.gene(g, r) = static_cast<uint16_t>(std::uniform_int_distribution<size_t>(0, values - 1)(rng));
      if (r.kind == 4) g.spatial[r.index] = 0;  // the spatial options depend on the array
    }
    return g;
  };

  auto out_of_budget = [&] {
    if (options.budget_seconds > 0)
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >=
             options.budget_seconds;
    return result.generated >= options.budget_candidates;
  };
  int64_t stale = 0;  // consecutive duplicates: the reachable space is exhausted
  while (!out_of_budget() && stale < 20000) {
    // Generate a batch (sequentially: the order fixes the result).
    std::vector<Candidate> batch;
    const double best_cycles = elite.empty() ? INFINITY : elite.front().latency * arch.clock_hz;
    while (batch.size() < kBatch && !out_of_budget() && stale < 20000) {
      Candidate c;
      if (next_enumerated < enumerated.size()) c.genome = enumerated[next_enumerated++];
      else if (elite.empty()) c.genome = mutate(space.default_genome());
      else {
        // A parent among the best few, the best more often.
        const size_t i = std::min(elite.size() - 1, static_cast<size_t>(std::geometric_distribution<int>(0.5)(rng)));
        c.genome = mutate(elite[i].genome);
      }
      if (!seen.insert(c.genome.hash()).second) {
        ++result.duplicates;
        ++stale;
        continue;
      }
      stale = 0;
      ++result.generated;
      c.constraint = space.violated(c.genome);
      if (c.constraint.empty()) {
        c.bound = space.lower_bound_cycles(c.genome, ii);
        if (c.bound > best_cycles * (1 + 1e-9)) c.pruned = true;
      }
      batch.push_back(std::move(c));
    }
    // Evaluate (in parallel): decode, the mapping's own constraints, the model.
    auto work = [&](int t) {
      for (size_t i = static_cast<size_t>(t); i < batch.size(); i += static_cast<size_t>(threads)) {
        Candidate& c = batch[i];
        if (!c.constraint.empty() || c.pruned) continue;
        c.mapping = space.decode(c.genome);
        c.constraint = space.violated(c.mapping);
        if (!c.constraint.empty()) continue;
        c.score = evaluators[t]->evaluate(c.mapping);
        if (c.score.valid)
          for (const auto& u : options.constraints.utilization) {
            const auto it = c.score.utilization.find(u.array);
            const double got = it == c.score.utilization.end() ? 0 : it->second;
            if (got < u.minimum)
              c.constraint = fmt::format("min_utilization {} >= {} ({})", u.array, u.minimum, u.loc.str());
          }
      }
    };
    if (threads == 1) work(0);
    else {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
      for (std::thread& th : pool) th.join();
    }
    // Merge in generation order.
    for (Candidate& c : batch) {
      if (c.pruned) {
        ++result.pruned;
        continue;
      }
      if (!c.constraint.empty() && !c.score.valid) {
        ++result.rejected[kConstraint];
        ++by_constraint[c.constraint];
        continue;
      }
      ++result.evaluated;
      if (!c.constraint.empty()) {  // evaluated, then below a minimum utilization
        ++result.rejected[kConstraint];
        ++by_constraint[c.constraint];
        continue;
      }
      if (!c.score.valid) {
        const std::string reason = reason_of(c.score.error);
        ++result.rejected[reason];
        first_error.emplace(reason, c.score.error);
        continue;
      }
      ++result.valid;
      if (c.score.latency_s * arch.clock_hz < c.bound * (1 - 1e-6)) ++result.bound_violations;
      Scored s{c.genome, c.score.latency_s, c.score.energy_j};
      const auto pos = std::find_if(elite.begin(), elite.end(), [&](const Scored& e) {
        return better(s.latency, s.energy, e.latency, e.energy);
      });
      if (static_cast<size_t>(pos - elite.begin()) < kElite) {
        elite.insert(pos, s);
        if (elite.size() > kElite) elite.pop_back();
      }
      bool dominated = false;
      for (const Scored& f : front)
        dominated = dominated || (f.latency <= s.latency && f.energy <= s.energy);
      if (!dominated) {
        std::erase_if(front, [&](const Scored& f) { return s.latency <= f.latency && s.energy <= f.energy; });
        front.insert(std::upper_bound(front.begin(), front.end(), s,
                                      [](const Scored& a, const Scored& b) { return a.latency < b.latency; }),
                     s);
      }
    }
    if (options.progress)
      std::fprintf(stderr, "\rsearch: %lld generated, %lld evaluated, best %.6g ms   ",
                   static_cast<long long>(result.generated), static_cast<long long>(result.evaluated),
                   elite.empty() ? 0.0 : elite.front().latency * 1e3);
  }
  if (options.progress) std::fprintf(stderr, "\n");
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (front.empty()) {
    std::string why;
    if (!by_constraint.empty()) {
      const auto most = std::max_element(by_constraint.begin(), by_constraint.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
      why = "the constraint " + most->first + " excluded " + std::to_string(most->second) +
            " of them";
    }
    for (const auto& [reason, message] : first_error)
      why += (why.empty() ? "" : "; ") + fmt::format("{} ({}), e.g. {}", reason, result.rejected[reason], message);
    throw Error(fmt::format("search: no valid mapping among {} candidates: {}", result.generated,
                            why.empty() ? "every candidate was rejected" : why));
  }
  for (const Scored& f : front) result.pareto.push_back({space.decode(f.genome), f.latency, f.energy});
  return result;
}

}  // namespace cascade
