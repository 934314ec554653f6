// The search loop (search.h): enumeration of the structures, then seeded local search, in
// batches that are generated sequentially and evaluated in parallel.
#include "mappings/mappers/search/search.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>

#include "arch/support/names.h"
#include "mappings/mappers/search/search_pool.h"
#include "mappings/mappers/search/search_space.h"

namespace cascade {

using search_detail::BatchPool;
using search_detail::Genome;
using search_detail::SearchSpace;
using search_detail::Verdict;

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

// The hashes of the genomes generated so far (open addressing, linear probing: no allocation
// per genome; 0 marks a free slot, so a hash of 0 is kept apart).
class HashSet {
 public:
  bool insert(uint64_t h) {  // false: seen before
    if (h == 0) return !std::exchange(zero_, true);
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = slot(h, mask);; i = (i + 1) & mask) {
      if (slots_[i] == h) return false;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }

 private:
  static size_t slot(uint64_t h, size_t mask) { return ((h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull >> 32) & mask; }
  void grow() {
    std::vector<uint64_t> old(std::max<size_t>(1024, slots_.size() * 2), 0);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (uint64_t h : old)
      if (h != 0) {
        size_t i = slot(h, mask);
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = h;
      }
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
  bool zero_ = false;
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

  // The minimum utilizations, by array index, and their words.
  struct MinUtilization {
    int array;
    double minimum;
    std::string words;
  };
  std::vector<MinUtilization> min_utilization;
  for (const auto& u : options.constraints.utilization)
    min_utilization.push_back({static_cast<int>(arch.find_array(u.array) - arch.arrays.data()), u.minimum,
                               fmt::format("min_utilization {} >= {} ({})", u.array, u.minimum, u.loc.str())});

  std::mt19937_64 rng(options.seed);
  HashSet seen;
  std::vector<Scored> elite;  // the best few, best first
  std::vector<Scored> front;  // Pareto front, latency ascending
  struct Near {
    Genome genome;
    double shortfall, bound;
  };
  std::vector<Near> near;  // excluded by min_utilization alone, closest first
  std::map<std::string, int64_t> by_constraint;
  std::map<std::string, std::string> first_error;
  const size_t kElite = 8, kBatch = 256;

  // Phase 1: the structures, most fused first, with every Einsum's default choices.
  const Genome base = space.default_genome();
  // Kept as what changes from `base` (set_enumerated writes one into a genome).
  struct Structure {
    uint16_t loop_a = 0, loop_b = 0;  // DRAM loops of the first group
    uint32_t cuts = 0;                // bit i: a group starts at position i + 1
    uint16_t overlapped = 0;
  };
  std::vector<Structure> enumerated;
  const int cuts = static_cast<int>(std::min<size_t>(problem.order.size() > 0 ? problem.order.size() - 1 : 0, 12));
  {
    const auto& dram = space.dram_options();
    for (size_t a = 0; a < dram.size(); ++a)
      for (size_t b = 0; b < dram.size(); ++b) {
        // The second loop: none, or a whole rank at the DRAM level (FuseMax's M1).
        if (b > 0 && dram[b].factor != problem.bindings.shape(dram[b].rank)) continue;
        enumerated.push_back({static_cast<uint16_t>(a), static_cast<uint16_t>(b), 0, 0});
      }
    std::vector<uint32_t> masks;
    for (uint32_t m = 1; m < (1u << cuts); ++m) masks.push_back(m);
    std::stable_sort(masks.begin(), masks.end(), [](uint32_t x, uint32_t y) {
      return __builtin_popcount(x) < __builtin_popcount(y);
    });
    for (uint32_t m : masks)
      for (uint16_t overlapped : {0, 1}) enumerated.push_back({0, 0, m, overlapped});
  }
  auto set_enumerated = [&](const Structure& st, Genome& g) {
    g = base;
    g.loop_a[0] = st.loop_a;
    g.loop_b[0] = st.loop_b;
    for (int i = 0; i < cuts; ++i) g.cut[i + 1] = (st.cuts >> i) & 1;
    g.overlapped = st.overlapped;
  };
  const auto genes = space.genes();
  size_t next_enumerated = 0;
  // Mutates 1-3 genes; false when no gene changed (the parent again).
  auto mutate = [&](Genome& g) {
    std::uniform_int_distribution<int> count(1, 3);
    const int k = count(rng);
    bool changed = false;
    for (int i = 0; i < k; ++i) {
      const auto& r = genes[std::uniform_int_distribution<size_t>(0, genes.size() - 1)(rng)];
      const size_t values = space.values(g, r);
      if (values <= 1) continue;
      uint16_t& gene = space.gene(g, r);
      const uint16_t value = static_cast<uint16_t>(std::uniform_int_distribution<size_t>(0, values - 1)(rng));
      changed = changed || value != gene;
      gene = value;
      if (r.kind == 4) {  // the spatial options depend on the array
        changed = changed || g.spatial[r.index] != 0;
        g.spatial[r.index] = 0;
      }
    }
    return changed;
  };

  auto out_of_budget = [&] {
    if (options.budget_seconds > 0)
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >=
             options.budget_seconds;
    return result.generated >= options.budget_candidates;
  };

  // Evaluation of one candidate (in parallel): the genome's constraints, the lower bounds,
  // the decoded mapping's constraints and checks, the model.
  std::vector<ResolvedMapping> resolved(static_cast<size_t>(threads));
  auto evaluate = [&](int t, const Genome& g, double best_cycles, Verdict& v) {
    v.constraint.clear();
    v.pruned = v.evaluated = false;
    v.reason = nullptr;
    v.bound = v.shortfall = 0;
    v.score.valid = false;
    v.constraint = space.violated(g);
    if (!v.constraint.empty()) return;
    v.bound = space.lower_bound_cycles(g, ii);
    if (v.bound > best_cycles * (1 + 1e-9)) {
      v.pruned = true;
      return;
    }
    // A utilization of at least the minimum needs cycles <= busy PE-cycles / minimum; the
    // busy PE-cycles are exact and the model's cycles at least the bound, so below this
    // upper bound the constraint excludes the candidate before its evaluation.
    if (v.bound > 0)
      for (const MinUtilization& u : min_utilization) {
        const double most = space.occupancy(g, ii, u.array) / (v.bound * (1 - 1e-6));
        if (most < u.minimum) {
          v.constraint = u.words;
          v.shortfall += u.minimum - most;
        }
      }
    if (v.shortfall > 0) return;
    ResolvedMapping& rm = resolved[static_cast<size_t>(t)];
    switch (space.resolve(g, rm, v.constraint)) {
      case SearchSpace::Decoded::Constraint: return;
      case SearchSpace::Decoded::DoesNotFit:
        v.evaluated = true;
        v.reason = &kFit;
        return;
      case SearchSpace::Decoded::Invalid:
        v.evaluated = true;
        v.reason = &kInvalid;
        return;
      case SearchSpace::Decoded::Ok: break;
    }
    v.evaluated = true;
    evaluators[t]->evaluate(rm, v.score);
    if (!v.score.valid) {
      const std::string reason = reason_of(v.score.error);
      v.reason = reason == kFit ? &kFit : reason == kOp ? &kOp : &kInvalid;
      return;
    }
    for (const MinUtilization& u : min_utilization)
      if (v.score.utilization[u.array] < u.minimum) {
        v.constraint = u.words;
        v.shortfall += u.minimum - v.score.utilization[u.array];
      }
  };
  BatchPool pool(threads, kBatch, evaluate);

  int64_t stale = 0;  // consecutive duplicates: the reachable space is exhausted
  while (!out_of_budget() && stale < 20000) {
    // Generate a batch (sequentially: the order fixes the result).
    std::vector<search_detail::Candidate>& batch = pool.next_batch();
    size_t count = 0;
    while (count < kBatch && !out_of_budget() && stale < 20000) {
      Genome& genome = batch[count].genome;
      // An unchanged parent was seen (the base genome is the first enumerated one): a
      // duplicate without hashing it.
      bool changed = true;
      if (next_enumerated < enumerated.size()) set_enumerated(enumerated[next_enumerated++], genome);
      else if (elite.empty() && near.empty()) {
        genome = base;
        changed = mutate(genome);
      } else if (elite.empty()) {
        // Nothing valid yet under a min_utilization: climb from the closest to it.
        const size_t i = std::min(near.size() - 1, static_cast<size_t>(std::geometric_distribution<int>(0.5)(rng)));
        genome = near[i].genome;
        changed = mutate(genome);
      } else {
        // A parent among the best few, the best more often.
        const size_t i = std::min(elite.size() - 1, static_cast<size_t>(std::geometric_distribution<int>(0.5)(rng)));
        genome = elite[i].genome;
        changed = mutate(genome);
      }
      if (!changed || !seen.insert(genome.hash())) {
        ++result.duplicates;
        ++stale;
        continue;
      }
      stale = 0;
      ++result.generated;
      ++count;
    }
    pool.run(count, elite.empty() ? INFINITY : elite.front().latency * arch.clock_hz);
    // Merge in generation order.
    for (size_t k = 0; k < count; ++k) {
      const Genome& genome = batch[k].genome;
      const Verdict& c = batch[k].verdict;
      if (c.pruned) {
        ++result.pruned;
        continue;
      }
      if (c.shortfall > 0 && elite.empty()) {
        // Kept as parents while nothing is valid (the smallest shortfall, then the bound).
        const auto pos = std::find_if(near.begin(), near.end(), [&](const Near& n) {
          return c.shortfall < n.shortfall || (c.shortfall == n.shortfall && c.bound < n.bound);
        });
        if (static_cast<size_t>(pos - near.begin()) < kElite) {
          near.insert(pos, Near{genome, c.shortfall, c.bound});
          if (near.size() > kElite) near.pop_back();
        }
      }
      if (!c.constraint.empty() && !c.evaluated) {
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
      if (c.reason) {
        ++result.rejected[*c.reason];
        // The words: the first such candidate again, as `cascade run` would evaluate it.
        if (!first_error.count(*c.reason))
          first_error.emplace(*c.reason, evaluators[0]->evaluate(space.decode(genome)).error);
        continue;
      }
      ++result.valid;
      const double latency = c.score.latency_s, energy = c.score.energy_j;
      if (latency * arch.clock_hz < c.bound * (1 - 1e-6)) ++result.bound_violations;
      const auto pos = std::find_if(elite.begin(), elite.end(), [&](const Scored& e) {
        return better(latency, energy, e.latency, e.energy);
      });
      if (static_cast<size_t>(pos - elite.begin()) < kElite) {
        elite.insert(pos, Scored{genome, latency, energy});
        if (elite.size() > kElite) elite.pop_back();
      }
      bool dominated = false;
      for (const Scored& f : front) dominated = dominated || (f.latency <= latency && f.energy <= energy);
      if (!dominated) {
        std::erase_if(front, [&](const Scored& f) { return latency <= f.latency && energy <= f.energy; });
        const auto at = std::upper_bound(front.begin(), front.end(), latency,
                                         [](double l, const Scored& f) { return l < f.latency; });
        front.insert(at, Scored{genome, latency, energy});
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
