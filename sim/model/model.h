// The Model interface every fidelity implements: a model is built for one problem on one
// architecture and evaluates mappings of it, returning Stats. Models never read each
// other's results: the analytical and the cycle-level model are independent counts of the
// same thing, or their agreement proves nothing (tests/agreement).
#pragma once

#include <string>

#include "mappings/mapping/mapping.h"
#include "sim/model/stats.h"

namespace cascade {

class Model {
 public:
  virtual ~Model() = default;
  // analytical, cycle, rtl
  virtual std::string fidelity() const = 0;
  // Checks the mapping (Error with file:line:col for what it cannot run) and evaluates it.
  virtual Stats evaluate(const Mapping& mapping) const = 0;
};

}  // namespace cascade
