#include "sim/systemc/lane_program.h"

#include <map>
#include <string>

namespace cascade {

namespace {

bool is_read(const Expr& e) { return e.op == ExprOp::Read; }

// `e` is exp(T[a] - T[b]) with two different reads of one tensor: that tensor, else "".
std::string exp_of_difference(const Expr& e) {
  if (e.op != ExprOp::Call || e.name != "exp" || e.args.size() != 1) return "";
  const Expr& d = e.args[0];
  if (d.op != ExprOp::Sub || d.args.size() != 2 || !is_read(d.args[0]) || !is_read(d.args[1]))
    return "";
  if (d.args[0].name != d.args[1].name || d.args[0].indices == d.args[1].indices) return "";
  return d.args[0].name;
}

}  // namespace

std::vector<LaneRole> lane_roles(const Problem& problem) {
  const std::vector<Einsum>& einsums = problem.cascade.einsums;
  std::vector<LaneRole> roles(einsums.size());
  std::map<std::string, int> by_output;
  for (size_t e = 0; e < einsums.size(); ++e) by_output[einsums[e].output] = static_cast<int>(e);
  auto iterative = [&](const std::string& tensor) {
    const int t = problem.find_tensor(tensor);
    return t >= 0 && problem.tensors[static_cast<size_t>(t)].iterative_dimension >= 0;
  };
  auto pair = [&](size_t leader, size_t partner, LaneCommand command) {
    roles[leader] = {LaneRole::Kind::Leader, command, static_cast<int>(partner)};
    roles[partner] = {LaneRole::Kind::Partner, command, static_cast<int>(leader)};
  };
  // MaxExp: T = max(T, Y) and C = exp(T[i] - T[i+1]).
  for (size_t e = 0; e < einsums.size(); ++e) {
    const Expr& v = einsums[e].value;
    if (v.op != ExprOp::Call || v.name != "max" || v.args.size() != 2 || !is_read(v.args[0]) ||
        !is_read(v.args[1]) || v.args[0].name != einsums[e].output || !iterative(einsums[e].output))
      continue;
    for (size_t c = 0; c < einsums.size(); ++c)
      if (c != e && roles[c].kind == LaneRole::Kind::None &&
          exp_of_difference(einsums[c].value) == einsums[e].output) {
        pair(e, c, LaneCommand::MaxExp);
        break;
      }
  }
  // Rescale: S = R * C (C a MaxExp partner) and R = Y + S.
  auto correction = [&](const Expr& x) {
    if (!is_read(x)) return false;
    auto it = by_output.find(x.name);
    return it != by_output.end() && roles[static_cast<size_t>(it->second)].kind == LaneRole::Kind::Partner &&
           roles[static_cast<size_t>(it->second)].command == LaneCommand::MaxExp;
  };
  for (size_t s = 0; s < einsums.size(); ++s) {
    const Expr& v = einsums[s].value;
    if (v.op != ExprOp::Mul || v.args.size() != 2 || !is_read(v.args[0]) || !is_read(v.args[1])) continue;
    const Expr* running = correction(v.args[1]) ? &v.args[0] : correction(v.args[0]) ? &v.args[1] : nullptr;
    if (!running || !iterative(running->name)) continue;
    auto r = by_output.find(running->name);
    if (r == by_output.end() || roles[static_cast<size_t>(r->second)].kind != LaneRole::Kind::None) continue;
    const Expr& sum = einsums[static_cast<size_t>(r->second)].value;
    if (sum.op != ExprOp::Add || sum.args.size() != 2 || !is_read(sum.args[0]) || !is_read(sum.args[1]))
      continue;
    if (sum.args[0].name != einsums[s].output && sum.args[1].name != einsums[s].output) continue;
    pair(static_cast<size_t>(r->second), s, LaneCommand::Rescale);
  }
  // Divide: Q = N / D.
  for (size_t e = 0; e < einsums.size(); ++e) {
    const Expr& v = einsums[e].value;
    if (roles[e].kind == LaneRole::Kind::None && v.op == ExprOp::Div && v.args.size() == 2 &&
        is_read(v.args[0]) && is_read(v.args[1]))
      roles[e] = {LaneRole::Kind::Leader, LaneCommand::Divide, -1};
  }
  return roles;
}

}  // namespace cascade
