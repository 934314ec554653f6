// The mapping search (`--mapper search`): explores, for any cascade and architecture, which
// Einsums are fused into one group, the groups' DRAM loops (rank and tile count), each
// Einsum's array, spatial ranks across the columns and rows, the order of its buffer loops,
// where every tensor lives (register file, global buffer, spilling, staged or streamed), the
// schedule (sequential / overlapped) and each group's units (concurrent / serialized).
//
// Layout and dependencies: the space, the constraints and the search loop live here, in
// mappings/mappers/search/, and see only the mapping IR; candidates are priced through the
// SearchEvaluator interface below, which sim/analytical implements (search_evaluator.h) and
// installs with set_search_evaluator_factory (the cascade binary does it in main). So the
// mappers never depend on sim/, and the `search` mapper in the registry works wherever a
// factory is installed (run, simulate, sweeps).
//
// Strategy: first the structures (fusion x schedule x DRAM tiling) with every Einsum's
// default choices, enumerated with the most fused first; then seeded local search (1-3 genes
// of one of the best candidates mutated at a time). A candidate whose compute or DRAM lower
// bound already exceeds the best latency found is dropped without evaluation, and so is one
// whose utilization cannot reach a min_utilization even at its lower-bound cycles. Candidates are generated sequentially from one seeded generator and evaluated in batches
// of 256 by a pool of threads started once per search; results merge in generation order,
// so a seed and a budget in candidates give the same mapping with any number of threads.
// A candidate is decoded straight into a ResolvedMapping (search_decode.cpp) and priced
// without building a Mapping or Stats; only the Pareto front (and the first rejected
// candidate of each kind, for the error's words) go through Mapping and resolve_mapping.
// experiments/search/bench-results.md has the speed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mappers/mapper.h"
#include "mappings/mapping/mapping.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"

namespace cascade {

struct SearchScore {
  bool valid = false;
  double latency_s = 0, energy_j = 0;
  std::vector<double> utilization;  // per array (ArchSpec::arrays order)
  std::string error;                // why it is not valid
};

// Prices mappings of one problem on one architecture. One per thread.
class SearchEvaluator {
 public:
  virtual ~SearchEvaluator() = default;
  // Cycles per iteration point of Einsum `einsum` on array `array` per PE; < 0 when the
  // array cannot run it. Used for lower bounds; must not exceed what evaluate() charges.
  virtual double issue_interval(int einsum, int array) const = 0;
  // A mapping as `cascade run` evaluates a file: resolved and checked first.
  virtual SearchScore evaluate(const Mapping& mapping) = 0;
  // The search's fast path: a mapping the search decoded straight into its resolved form,
  // every check of resolve_mapping passed except operation support. The same score as
  // evaluate() of the Mapping it stands for, bit for bit (tests/sim/model/test_search_decode.cpp).
  virtual void evaluate(const ResolvedMapping& mapping, SearchScore& into) = 0;
};
using SearchEvaluatorFactory =
    std::function<std::unique_ptr<SearchEvaluator>(const Problem&, const ArchSpec&)>;
void set_search_evaluator_factory(SearchEvaluatorFactory factory);
const SearchEvaluatorFactory& search_evaluator_factory();

// Constraints (the `constraints:` section of a mapping file, configs/mappings/README.md).
// Each keeps its location so that an error can name it.
struct SearchConstraints {
  struct Unit {  // fix (allowed has one) or forbid arrays for an Einsum
    std::string einsum;
    std::vector<std::string> arrays;
    bool forbid = false;
    SourceLocation loc;
  };
  struct Order {  // the Einsum's buffer loops begin with these ranks, in this order
    std::string einsum;
    std::vector<std::string> ranks;
    SourceLocation loc;
  };
  struct Factor {  // a DRAM-level tile count of a rank: fixed to, or never, these values
    std::string rank;
    std::vector<int64_t> values;
    bool forbid = false;
    SourceLocation loc;
  };
  struct Fuse {  // these Einsums in one group (together) or never in one group (apart)
    std::vector<std::string> einsums;
    bool apart = false;
    SourceLocation loc;
  };
  struct Utilization {
    std::string array;
    double minimum = 0;
    SourceLocation loc;
  };
  std::vector<Unit> units;
  std::vector<Order> orders;
  std::vector<Factor> factors;
  std::vector<Fuse> fuse;
  std::vector<Utilization> utilization;
  bool empty() const {
    return units.empty() && orders.empty() && factors.empty() && fuse.empty() &&
           utilization.empty();
  }
};
// Reads the `constraints:` section of a YAML file (other top-level keys are ignored: they
// are the mapping's). Unknown keys are Errors with file:line:col.
SearchConstraints load_search_constraints(const std::string& file);
SearchConstraints parse_search_constraints(const std::string& text, const std::string& file);

struct SearchOptions {
  int64_t budget_candidates = 20000;  // candidates generated (pruned and rejected count)
  double budget_seconds = 0;          // > 0: a time budget instead (not deterministic)
  uint64_t seed = 1;
  int threads = 1;
  bool progress = false;  // a progress line on stderr
  SearchConstraints constraints;
};
// Reads --search-budget (N or Ns), --seed, --search-threads, --search-constraints from
// mapper options (keys budget, seed, threads, constraints, progress).
SearchOptions search_options(const MapperOptions& options);

struct SearchPoint {
  Mapping mapping;
  double latency_s = 0, energy_j = 0;
};

struct SearchResult {
  int64_t generated = 0, evaluated = 0, valid = 0, pruned = 0, duplicates = 0;
  std::map<std::string, int64_t> rejected;  // by reason: tile does not fit, op unsupported,
                                            // constraint, invalid
  std::vector<std::string> excluded;        // options the space left out, and why
  std::vector<SearchPoint> pareto;          // latency ascending, energy descending
  int64_t bound_violations = 0;  // evaluated candidates faster than their bound (a bug)
  double seconds = 0;
  std::vector<std::string> summary() const;  // the report's lines
};

// Throws Error when nothing valid exists, naming the constraint or resource that excluded
// everything.
SearchResult search_mappings(const Problem& problem, const ArchSpec& arch,
                             const SearchOptions& options);

}  // namespace cascade
