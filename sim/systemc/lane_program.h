// Which Einsums of a cascade the 1D array's online-softmax unit (softmax_lanes.h,
// hdl/softmax_1d.sv) runs as its commands, recognised by their form (the 1-pass cascade's
// tail, whatever the tensors are called):
//   MaxExp   T[i+1] = max(T[i], Y)                     with a partner  C = exp(T[i] - T[i+1])
//   Rescale  R[i+1] = Y + S  (or S + Y)                with a partner  S = R[i] * C (or C * R[i]),
//                                                      C a MaxExp partner
//   Divide   Q = N / D
// A leader's command computes its partner too (MaxExp's r1 is C; Rescale rounds S on the
// way), so the partner's run takes no cycles of its own. Everything else: None.
// Plain C++ over the cascade IR.
#pragma once

#include <vector>

#include "mappings/problem/problem.h"
#include "sim/systemc/softmax_lanes.h"

namespace cascade {

struct LaneRole {
  enum class Kind { None, Leader, Partner };
  Kind kind = Kind::None;
  LaneCommand command = LaneCommand::Rescale;
  int other = -1;  // the partner (of a leader) or the leader (of a partner); -1 for Divide
};

// Per Einsum of `problem` (its cascade order).
std::vector<LaneRole> lane_roles(const Problem& problem);

}  // namespace cascade
