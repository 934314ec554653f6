// Pass analysis (FuseMax, MICRO'24, Sec. 3).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mappings/cascade/cascade.h"

namespace cascade {

// Pass analysis (FuseMax, MICRO'24, Sec. 3): the number of passes an evaluation must make
// over the elements of a rank's fibres. A later Einsum that iterates over rank R and reads
// a value that depends on a full reduction over R by an earlier Einsum needs another pass.
struct PassCause {
  int pass = 0;            // the pass this cause opens (2, 3, ...)
  int einsum = -1;         // the Einsum that must wait
  std::string tensor;      // the tensor it reads
  int reducer = -1;        // the Einsum whose full reduction over R that tensor depends on
};
struct RankPasses {
  std::string rank;                 // root rank (M, not M1/M0)
  int passes = 0;                   // 0 if no Einsum iterates over it
  std::map<int, int> einsum_pass;   // einsum index -> pass it runs in (iterating ones)
  std::vector<PassCause> causes;
};
struct PassReport {
  std::vector<RankPasses> ranks;  // every root rank, declaration order
  int max_passes() const;
  const RankPasses* find(const std::string& rank) const;
};
PassReport analyze_passes(const Cascade& cascade);

}  // namespace cascade
