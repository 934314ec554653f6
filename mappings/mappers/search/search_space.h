// The search space: a candidate is a genome (one small integer per choice), decoded into a
// Mapping. The options are generated from the cascade and the architecture; the ones a
// constraint or the hardware rules out are left out of the space (and listed, with why).
// Internal to the search (search.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mappers/search/search.h"
#include "mappings/mapping/mapping.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"

namespace cascade::search_detail {

struct Spatial {
  std::string cols, rows;  // rows "" on a 1D array or for none
  // Narrow ranks leave PEs idle: fill them with the next widest ranks (lightning's
  // QK[t, b, j] with 64-query blocks: t and b across the 256 columns).
  bool fill = false;
};

// The options of one Einsum (index 0 of each list is the default).
struct EinsumOptions {
  std::vector<int> units;                      // array indices
  std::vector<std::vector<Spatial>> spatial;   // per unit option
  std::vector<std::vector<std::string>> orders;  // `first` ranks of the buffer loops
};

struct DramLoopOption {
  std::string rank;  // "" = no loop
  int64_t factor = 1;
};

// Genes, per position p of the evaluation order: cut[p] (a new group starts at p, p > 0),
// and the group genes read from a group's first position (serialized only under the
// sequential schedule); per Einsum (cascade index) unit, spatial and order; per tensor
// placement; one schedule gene.
struct Genome {
  std::vector<uint16_t> cut;
  std::vector<uint16_t> loop_a, loop_b;  // DRAM loops of a group starting here
  std::vector<uint16_t> serialized;
  std::vector<uint16_t> unit, spatial, order;
  std::vector<uint16_t> placement;
  uint16_t overlapped = 0;
  bool operator==(const Genome& o) const = default;
  uint64_t hash() const;
};

class SearchSpace {
 public:
  SearchSpace(const Problem& problem, const ArchSpec& arch, const SearchConstraints& constraints);

  const std::vector<std::string>& excluded() const { return excluded_; }
  size_t einsums() const { return options_.size(); }
  const std::vector<DramLoopOption>& dram_options() const { return dram_; }
  const EinsumOptions& options(int einsum) const { return options_[einsum]; }
  size_t tensor_options(int tensor) const;

  Genome default_genome() const;
  // Gene count by kind, for mutation: every gene and how many values it has.
  struct GeneRef {
    int kind;  // 0 cut, 1 loop_a, 2 loop_b, 3 serialized, 4 unit, 5 spatial, 6 order, 7
               // placement, 8 overlapped
    int index;
  };
  std::vector<GeneRef> genes() const;
  size_t values(const Genome& g, const GeneRef& r) const;
  uint16_t& gene(Genome& g, const GeneRef& r) const;

  // The groups (Einsum indices per group, evaluation order).
  std::vector<std::vector<int>> groups(const Genome& g) const;
  // "" when the genome keeps every structural constraint, else the violated one, in words
  // with its location.
  std::string violated(const Genome& g) const;
  Mapping decode(const Genome& g) const;
  // The same for the constraints only a decoded mapping shows (DRAM factors, loop orders).
  std::string violated(const Mapping& m) const;
  // A lower bound on the cycles of the decoded mapping: the busiest array's compute
  // (points x II / PEs used) and DRAM's unavoidable traffic (inputs read, outputs written,
  // tensors between groups written and read once, each as much as its accesses touch) per
  // group, summed (sequential) or maxed (overlapped).
  double lower_bound_cycles(const Genome& g, const std::vector<std::vector<double>>& ii) const;
  // Busy PE-cycles per PE of array `array` (the numerator of its utilization): exact, since
  // it depends only on which Einsums the array runs.
  double occupancy(const Genome& g, const std::vector<std::vector<double>>& ii, int array) const;

  // The fast path (search_decode.cpp): decodes straight into what
  // resolve_mapping(decode(g)) gives (group names left empty), checking first what
  // violated(decode(g)) checks (`constraint` gets its words), then what resolve_mapping
  // checks, operation support aside; says which kind of check failed, never why in words.
  enum class Decoded { Ok, Constraint, DoesNotFit, Invalid };
  Decoded resolve(const Genome& g, ResolvedMapping& rm, std::string& constraint) const;

 private:
  // Slot tables for resolve(), by Einsum (built once).
  struct SpatialSlots {
    int cols = -1, rows = -1;  // slots of the spatial ranks (-1: none)
    bool fill = false;
    double pes_used = 1;  // the PEs the lower bound counts as used
  };
  struct EinsumTables {
    std::vector<int> dram_slot, exact_slot;  // per DRAM option: dram_loop_slot, slot_of_rank
    int batch_slot = -1, head_slot = -1;     // of the batch and head loops (the same both ways)
    std::vector<std::vector<SpatialSlots>> spatial;  // per unit option, per spatial option
    std::vector<std::vector<int>> orders;            // `first` per order option, as slots
    std::vector<int> rest;                           // output ranks, then reduced (slots >= 2)
    std::vector<int> wide;                           // wide_ranks(), as slots
    std::vector<bool> registers_overflow;            // per unit option
    std::vector<double> footprint;  // per access: elements it touches per (batch, head)
  };
  void build_tables();
  std::string factor_violation(const SearchConstraints::Factor& c) const;
  std::string order_violation(const SearchConstraints::Order& c) const;
  std::vector<EinsumTables> tables_;

  const Problem& problem_;
  const ArchSpec& arch_;
  const SearchConstraints& constraints_;
  std::vector<EinsumOptions> options_;
  std::vector<DramLoopOption> dram_;  // index 0: none
  std::vector<int> position_;         // cascade index -> evaluation position
  std::vector<std::string> excluded_;
};

}  // namespace cascade::search_detail
