#include "sim/systemc/datapath_lanes.h"

#include "arch/support/error.h"

namespace cascade::datapath_detail {

namespace {

// The read site of node `n` if it is a plain read, else -1.
int read_site(const EinsumCode& c, int n) {
  return n >= 0 && c.nodes[static_cast<size_t>(n)].op == ExprOp::Read ? c.nodes[static_cast<size_t>(n)].site : -1;
}

}  // namespace

std::optional<LaneForm> lane_form(const EinsumCode& c, const EinsumCode* p, const LaneRole& role) {
  if (role.kind != LaneRole::Kind::Leader || !c.implicit.empty() || !c.hoisted.empty() || c.root < 0)
    return std::nullopt;
  const Node& root = c.nodes[static_cast<size_t>(c.root)];
  if (root.args.size() != 2) return std::nullopt;
  LaneForm f;
  f.role = role;
  const int a = read_site(c, root.args[0]), b = read_site(c, root.args[1]);
  if (a < 0 || b < 0) return std::nullopt;
  switch (role.command) {
    case LaneCommand::MaxExp:
      if (root.op != ExprOp::Call || root.fn != Fn::Max || !p) return std::nullopt;
      f.x = a, f.y = b;
      break;
    case LaneCommand::Divide:
      if (root.op != ExprOp::Div) return std::nullopt;
      f.x = a, f.y = b;
      break;
    case LaneCommand::Rescale: {
      if (root.op != ExprOp::Add || !p || !p->implicit.empty() || !p->hoisted.empty() || p->root < 0)
        return std::nullopt;
      // y: the addend that is not the partner's output
      f.y = c.reads[static_cast<size_t>(a)].tensor == p->out_tensor ? b : a;
      const Node& product = p->nodes[static_cast<size_t>(p->root)];
      if (product.op != ExprOp::Mul || product.args.size() != 2) return std::nullopt;
      const int pa = read_site(*p, product.args[0]), pb = read_site(*p, product.args[1]);
      if (pa < 0 || pb < 0) return std::nullopt;
      // the running value: the tensor the leader writes
      const bool a_runs = p->reads[static_cast<size_t>(pa)].tensor == c.out_tensor;
      f.px = a_runs ? pa : pb;
      f.pz = a_runs ? pb : pa;
      break;
    }
  }
  if (p) {
    for (const std::string& name : p->slot_names) {
      int s = -1;
      for (size_t k = 0; k < c.slot_names.size(); ++k)
        if (c.slot_names[k] == name) s = static_cast<int>(k);
      if (s < 0) return std::nullopt;
      f.partner_slot.push_back(s);
    }
  }
  return f;
}

double LaneFeed::gather(int op, int e, const std::vector<EinsumCode>& code,
                        const ExecutionOptions& options, const std::vector<int64_t>& lo,
                        const std::vector<int64_t>& hi, const LaneAccess& access) {
  const LaneRole& role = roles.at(static_cast<size_t>(e));
  const EinsumCode& c = code[static_cast<size_t>(e)];
  const EinsumCode* p = role.other >= 0 ? &code[static_cast<size_t>(role.other)] : nullptr;
  if (!forms_.count(e)) forms_[e] = lane_form(c, p, role);
  const std::optional<LaneForm>& f = forms_[e];
  if (!f || !accepts || !accepts(options.storage, options.accumulate, options.exp)) return -1;
  std::vector<LanePoint>& points = fed_.at(op).points;
  points.clear();
  std::vector<int64_t>& slots = access.slots;
  // The output slots of c in [lo, hi], lexicographically.
  slots.assign(c.extents.size(), 0);
  for (int s : c.outputs)
    if (hi[static_cast<size_t>(s)] < lo[static_cast<size_t>(s)]) return 0;
  for (int s : c.outputs) slots[static_cast<size_t>(s)] = lo[static_cast<size_t>(s)];
  std::vector<int64_t> mine;
  for (bool more = true; more;) {
    if (access.writes(c)) {
      LanePoint pt;
      pt.out = access.out_offset(c);
      if (pt.out < 0) throw Error(c.loc, "Einsum " + c.name + " writes out of range");
      pt.y = access.read(c, c.reads[static_cast<size_t>(f->y)]);
      if (f->x >= 0) pt.x = access.read(c, c.reads[static_cast<size_t>(f->x)]);
      if (p) {  // the partner's point: the same slots by name
        mine = slots;
        slots.assign(p->extents.size(), 0);
        for (size_t s = 0; s < f->partner_slot.size(); ++s)
          slots[s] = mine[static_cast<size_t>(f->partner_slot[s])];
        if (f->px >= 0) {
          pt.x = access.read(*p, p->reads[static_cast<size_t>(f->px)]);
          pt.z = access.read(*p, p->reads[static_cast<size_t>(f->pz)]);
        } else {
          pt.partner_out = access.out_offset(*p);
        }
        slots = mine;
      }
      points.push_back(pt);
    }
    size_t k = c.outputs.size();
    while (k-- > 0) {
      const size_t s = static_cast<size_t>(c.outputs[k]);
      if (++slots[s] <= hi[s]) break;
      slots[s] = lo[s];
    }
    more = k != static_cast<size_t>(-1);
  }
  return static_cast<double>(points.size());
}

bool LaneFeed::take(int op, int e, std::vector<LaneBatch>& commands) const {
  auto it = fed_.find(op);
  if (it == fed_.end() || it->second.points.empty() || it->second.lanes < 1) return false;
  const std::vector<LanePoint>& pts = it->second.points;
  commands.clear();
  const size_t n = static_cast<size_t>(it->second.lanes);
  for (size_t i = 0; i < pts.size(); i += n) {
    LaneBatch b;
    b.command = roles.at(static_cast<size_t>(e)).command;
    b.x.assign(n, 0.0), b.y.assign(n, 0.0), b.z.assign(n, 0.0);
    for (size_t l = 0; l < n && i + l < pts.size(); ++l) {
      b.x[l] = pts[i + l].x, b.y[l] = pts[i + l].y, b.z[l] = pts[i + l].z;
    }
    commands.push_back(std::move(b));
  }
  return true;
}

void LaneFeed::put(int op, int e, int64_t iteration, const LaneRun& run, Copy& target) {
  const Run& r = fed_.at(op);
  const size_t n = static_cast<size_t>(r.lanes);
  const LaneRole& role = roles.at(static_cast<size_t>(e));
  std::vector<std::pair<int64_t, double>>* held =
      role.command == LaneCommand::MaxExp ? &partner_values_[{role.other, iteration}] : nullptr;
  for (size_t i = 0; i < r.points.size(); ++i) {
    const size_t k = i / n, l = i % n;
    target.value[static_cast<size_t>(r.points[i].out)] = run.r0.at(k).at(l);
    target.valid[static_cast<size_t>(r.points[i].out)] = 1;
    if (held && r.points[i].partner_out >= 0) held->push_back({r.points[i].partner_out, run.r1.at(k).at(l)});
  }
}

int64_t LaneFeed::put_partner(int e, int64_t iteration, Copy& target) {
  auto it = partner_values_.find({e, iteration});
  if (it == partner_values_.end()) return 0;
  for (const auto& [off, v] : it->second) {
    target.value[static_cast<size_t>(off)] = v;
    target.valid[static_cast<size_t>(off)] = 1;
  }
  const int64_t n = static_cast<int64_t>(it->second.size());
  partner_values_.erase(it);
  return n;
}

}  // namespace cascade::datapath_detail
