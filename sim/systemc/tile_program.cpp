#include "sim/systemc/tile_program.h"

#include <cmath>
#include <string>

#include "arch/support/error.h"

namespace cascade {

const char* to_string(TileRole role) {
  switch (role) {
    case TileRole::ColumnMax: return "column_max";
    case TileRole::ColumnSum: return "column_sum";
    case TileRole::ExpOfDifference: return "exp_of_difference";
    case TileRole::Exp: return "exp";
    case TileRole::None: break;
  }
  return "none";
}

namespace {

// What a run's accesses span: both spatial ranks, the column rank only, or neither fully.
enum class Span { Both, Columns, Other };

struct Einsum2D {
  const Problem& problem;
  const ResolvedMapping& mapping;
  const ProblemEinsum& einsum;
  const FoldShape& shape;

  const ProblemAccess* access(const std::string& tensor) const {
    const int t = problem.find_tensor(tensor);
    for (const ProblemAccess& a : einsum.accesses)
      if (a.tensor == t && !a.write) return &a;
    return nullptr;
  }
  Span span(const ProblemAccess& a) const {
    const bool rows = (a.variables & shape.row_slots) == shape.row_slots;
    const bool cols = (a.variables & shape.col_slots) == shape.col_slots;
    if (rows && cols) return Span::Both;
    if (cols && (a.variables & shape.row_slots) == 0) return Span::Columns;
    return Span::Other;
  }
  bool resident(const ProblemAccess& a) const {
    return mapping.tensors[static_cast<size_t>(a.tensor)].home == TensorHome::RegisterFile;
  }
  // `e` reads a register-file tensor spanning both ranks.
  bool resident_tile(const Expr& e) const {
    if (e.op != ExprOp::Read) return false;
    const ProblemAccess* a = access(e.name);
    return a && resident(*a) && span(*a) == Span::Both;
  }
  bool column_vector(const Expr& e) const {
    if (e.op != ExprOp::Read) return false;
    const ProblemAccess* a = access(e.name);
    return a && span(*a) == Span::Columns;
  }
};

}  // namespace

std::vector<TileRole> tile_roles(const Problem& problem, const ResolvedMapping& mapping,
                                 const std::vector<FoldShape>& shapes) {
  std::vector<TileRole> roles(problem.einsums.size(), TileRole::None);
  for (size_t e = 0; e < problem.einsums.size(); ++e) {
    const ProblemEinsum& pe = problem.einsums[e];
    const FoldShape& s = shapes[e];
    if (s.gemm || s.row_slots == 0 || s.col_slots == 0 || std::llround(s.stream) != 1 ||
        pe.points != pe.box)
      continue;
    const Einsum2D x{problem, mapping, pe, s};
    const ProblemAccess& write = pe.accesses.back();
    const Expr& v = problem.cascade.einsums[e].value;
    if (x.span(write) == Span::Columns) {
      if (v.op == ExprOp::Reduce && v.name == "max" && v.args.size() == 1 && x.resident_tile(v.args[0]))
        roles[e] = TileRole::ColumnMax;
      else if (x.resident_tile(v) ||
               (v.op == ExprOp::Reduce && v.name == "sum" && v.args.size() == 1 && x.resident_tile(v.args[0])))
        roles[e] = TileRole::ColumnSum;
      continue;
    }
    if (x.span(write) != Span::Both || !x.resident(write) || v.op != ExprOp::Call || v.name != "exp" ||
        v.args.size() != 1)
      continue;
    const Expr& arg = v.args[0];
    if (x.resident_tile(arg))
      roles[e] = TileRole::Exp;
    else if (arg.op == ExprOp::Sub && arg.args.size() == 2 && x.resident_tile(arg.args[0]) &&
             x.column_vector(arg.args[1]))
      roles[e] = TileRole::ExpOfDifference;
  }
  return roles;
}

std::vector<TileStep> tile_program(TileRole role, int64_t folds, int entries) {
  if (role == TileRole::None) throw Error("no tile program for an Einsum without a tile role");
  if (entries < 1) throw Error("a tile program needs a register file");
  std::vector<TileStep> program;
  const auto step = [&](TileOp op, int64_t fold) {
    TileStep s;
    s.op = op, s.flag = true, s.entry = static_cast<int>(fold % entries);
    program.push_back(s);
  };
  for (int64_t f = 0; f < folds; ++f) switch (role) {
      case TileRole::ColumnMax: step(TileOp::ColMax, f); break;
      case TileRole::ColumnSum: step(TileOp::ColSum, f); break;
      case TileRole::ExpOfDifference: step(TileOp::SubExp, f), step(TileOp::Narrow, f); break;
      case TileRole::Exp: step(TileOp::Exp, f), step(TileOp::Narrow, f); break;
      case TileRole::None: break;
    }
  return program;
}

}  // namespace cascade
