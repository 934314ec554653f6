// Data mode's 1D-unit commands in per-PE mode (internal to datapath.cpp): the run of a
// leader Einsum (lane_program.h) is gathered, per DRAM-level tile, into the commands the
// 1D unit's lanes run (SoftmaxLanes or the Verilated unit), one lane per output point, from
// the places the mapping puts the operands; the results come back into the leader's output
// place, and a MaxExp's r1 into its partner's when the partner's run comes. So the values
// that flow on are the unit's, and data mode's comparison with the executor checks them.
// The datapath still evaluates every Einsum first (the partner's value S of a Rescale is
// never read from the unit); the unit's results overwrite it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "sim/systemc/datapath_code.h"
#include "sim/systemc/lane_program.h"

namespace cascade::datapath_detail {

// Where a leader's operands come from in the compiled code.
struct LaneForm {
  LaneRole role;
  int x = -1, y = -1;     // read sites of the leader (Rescale: only y, the other addend)
  int px = -1, pz = -1;   // Rescale: read sites of the partner (the running value, c)
  std::vector<int> partner_slot;  // per partner slot: the leader's slot of the same name
};

// The form of leader Einsum `c` (role from lane_roles) with partner `p` (nullptr for a
// Divide), or nothing when the compiled code is not the plain form (a reduction, a hoisted
// factor, a partner slot the leader does not have).
std::optional<LaneForm> lane_form(const EinsumCode& c, const EinsumCode* p, const LaneRole& role);

// One point's operands and where its results go.
struct LanePoint {
  double x = 0, y = 0, z = 0;
  int64_t out = -1, partner_out = -1;
};

// How the datapath reads at the point in `slots` (set for the code asked about).
struct LaneAccess {
  std::vector<int64_t>& slots;
  std::function<double(const EinsumCode&, const ReadSite&)> read;
  std::function<int64_t(const EinsumCode&)> out_offset;  // -1 outside the output
  std::function<bool(const EinsumCode&)> writes;         // the output conditions hold
};

class LaneFeed {
 public:
  // Set once: whether the engine's lanes compute the data's values in these formats.
  std::function<bool(NumberFormat storage, NumberFormat accumulate, ExpMode exp)> accepts;
  std::vector<LaneRole> roles;  // per Einsum (lane_roles)

  // Operation op is a leader's run on `lanes` lanes.
  void feed(int op, int lanes) { fed_[op].lanes = lanes; }
  bool fed(int op) const { return fed_.count(op) > 0; }
  // Gathers fed op's points (Einsum e, tile [lo, hi]) in lane order: their count, or -1 when
  // the lanes stay out (formats refused, not the plain form).
  double gather(int op, int e, const std::vector<EinsumCode>& code, const ExecutionOptions& options,
                const std::vector<int64_t>& lo, const std::vector<int64_t>& hi, const LaneAccess& access);
  // The commands for op's points, its array's lanes per command (the last padded with zeros).
  bool take(int op, int e, std::vector<LaneBatch>& commands) const;
  // r0 into `target` at the points' outputs; a MaxExp's r1 held for its partner's run of
  // `iteration`.
  void put(int op, int e, int64_t iteration, const LaneRun& run, Copy& target);
  // The r1 values held for Einsum e's run of `iteration`, written into `target` (taken).
  int64_t put_partner(int e, int64_t iteration, Copy& target);

 private:
  struct Run {
    int lanes = 0;
    std::vector<LanePoint> points;
  };
  std::map<int, Run> fed_;
  std::map<int, std::optional<LaneForm>> forms_;  // per leader Einsum looked at
  std::map<std::pair<int, int64_t>, std::vector<std::pair<int64_t, double>>> partner_values_;
};

}  // namespace cascade::datapath_detail
