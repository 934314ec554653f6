#include "mappings/cascade/index_program.h"

#include <algorithm>

namespace cascade {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

constexpr int kMaxInlineDepth = 32;

}  // namespace

IndexProgram::IndexProgram(const IndexExpr& expr, const Cascade& cascade,
                           const Bindings& bindings, const std::map<std::string, int>& slots)
    : loc_(expr.loc) {
  root_ = build(expr, cascade, bindings, slots, {}, 0);
  std::map<int, int64_t> terms;
  int64_t constant = 0;
  affine_ = linearize(root_, terms, constant, 1);
  if (affine_) {
    for (const auto& [slot, coef] : terms)
      if (coef != 0) terms_.emplace_back(slot, coef);
    constant_ = constant;
  }
  for (const Node& n : nodes_)
    if (n.op == IndexOp::Variable &&
        std::find(slots_used_.begin(), slots_used_.end(), n.value) == slots_used_.end())
      slots_used_.push_back(static_cast<int>(n.value));
  std::sort(slots_used_.begin(), slots_used_.end());
}

int64_t IndexProgram::coefficient(int slot) const {
  for (const auto& [s, c] : terms_)
    if (s == slot) return c;
  return 0;
}

// `locals` maps a user function's parameter names to already-built argument nodes.
int IndexProgram::build(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
                        const std::map<std::string, int>& slots,
                        const std::map<std::string, int>& locals, int depth) {
  if (depth > kMaxInlineDepth)
    throw Error(expr.loc, "index functions nest more than " + std::to_string(kMaxInlineDepth) +
                              " deep (recursive definition?)");
  Node node;
  node.op = expr.op;
  switch (expr.op) {
    case IndexOp::Constant:
      node.value = expr.value;
      break;
    case IndexOp::Symbol:
      node.op = IndexOp::Constant;
      node.value = bindings.shape(expr.name);
      break;
    case IndexOp::Variable: {
      if (auto it = locals.find(expr.name); it != locals.end()) return it->second;
      auto it = slots.find(expr.name);
      if (it == slots.end())
        throw Error(expr.loc, "variable '" + expr.name + "' is not bound here");
      node.value = it->second;
      break;
    }
    case IndexOp::Call: {
      std::vector<int> args;
      for (const IndexExpr& a : expr.args)
        args.push_back(build(a, cascade, bindings, slots, locals, depth + 1));
      if (expr.name == "min" || expr.name == "max" || expr.name == "clamp") {
        const size_t arity = expr.name == "clamp" ? 3 : 2;
        if (args.size() != arity)
          throw Error(expr.loc, expr.name + " takes " + std::to_string(arity) + " arguments");
        node.builtin = expr.name == "min" ? 0 : expr.name == "max" ? 1 : 2;
        node.args = args;
        break;
      }
      const IndexFunction* fn = cascade.find_index_function(expr.name);
      if (!fn) throw Error(expr.loc, "unknown index function '" + expr.name + "'");
      if (fn->params.size() != args.size())
        throw Error(expr.loc, "index function '" + fn->name + "' takes " +
                                  std::to_string(fn->params.size()) + " arguments, given " +
                                  std::to_string(args.size()));
      std::map<std::string, int> inner;
      for (size_t i = 0; i < args.size(); ++i) inner[fn->params[i]] = args[i];
      return build(fn->body, cascade, bindings, slots, inner, depth + 1);
    }
    default:
      for (const IndexExpr& a : expr.args)
        node.args.push_back(build(a, cascade, bindings, slots, locals, depth + 1));
      break;
  }
  nodes_.push_back(node);
  return static_cast<int>(nodes_.size()) - 1;
}

int64_t IndexProgram::evaluate_node(int index, const int64_t* s) const {
  const Node& n = nodes_[index];
  switch (n.op) {
    case IndexOp::Constant: return n.value;
    case IndexOp::Variable: return s[n.value];
    case IndexOp::Add: return evaluate_node(n.args[0], s) + evaluate_node(n.args[1], s);
    case IndexOp::Sub: return evaluate_node(n.args[0], s) - evaluate_node(n.args[1], s);
    case IndexOp::Mul: return evaluate_node(n.args[0], s) * evaluate_node(n.args[1], s);
    case IndexOp::Neg: return -evaluate_node(n.args[0], s);
    case IndexOp::Div:
    case IndexOp::Mod: {
      const int64_t b = evaluate_node(n.args[1], s);
      if (b == 0) throw Error(loc_, "division by zero in an index expression");
      const int64_t a = evaluate_node(n.args[0], s);
      return n.op == IndexOp::Div ? floor_div(a, b) : floor_mod(a, b);
    }
    case IndexOp::Call: {
      const int64_t a = evaluate_node(n.args[0], s);
      const int64_t b = evaluate_node(n.args[1], s);
      if (n.builtin == 0) return std::min(a, b);
      if (n.builtin == 1) return std::max(a, b);
      const int64_t hi = evaluate_node(n.args[2], s);
      return std::min(std::max(a, b), hi);
    }
    case IndexOp::Symbol: break;
  }
  return 0;
}

// Collects factor * node as slot coefficients + a constant; false if not affine.
bool IndexProgram::linearize(int index, std::map<int, int64_t>& terms, int64_t& constant,
                             int64_t factor) const {
  const Node& n = nodes_[index];
  switch (n.op) {
    case IndexOp::Constant: constant += factor * n.value; return true;
    case IndexOp::Variable: terms[static_cast<int>(n.value)] += factor; return true;
    case IndexOp::Add:
      return linearize(n.args[0], terms, constant, factor) &&
             linearize(n.args[1], terms, constant, factor);
    case IndexOp::Sub:
      return linearize(n.args[0], terms, constant, factor) &&
             linearize(n.args[1], terms, constant, -factor);
    case IndexOp::Neg: return linearize(n.args[0], terms, constant, -factor);
    case IndexOp::Mul: {
      // Affine only when one side is constant.
      std::map<int, int64_t> lt, rt;
      int64_t lc = 0, rc = 0;
      if (!linearize(n.args[0], lt, lc, 1) || !linearize(n.args[1], rt, rc, 1)) return false;
      auto nonzero = [](const std::map<int, int64_t>& t) {
        return std::any_of(t.begin(), t.end(), [](const auto& kv) { return kv.second != 0; });
      };
      if (nonzero(lt) && nonzero(rt)) return false;
      const auto& vars = nonzero(lt) ? lt : rt;
      const int64_t scale = nonzero(lt) ? rc : lc;
      for (const auto& [slot, coef] : vars) terms[slot] += factor * scale * coef;
      constant += factor * lc * rc;
      return true;
    }
    default: return false;
  }
}

ConditionProgram compile_condition(const Condition& condition, const Cascade& cascade,
                                   const Bindings& bindings,
                                   const std::map<std::string, int>& slots) {
  IndexExpr difference;
  difference.op = IndexOp::Sub;
  difference.args = {condition.lhs, condition.rhs};
  difference.loc = condition.loc;
  ConditionProgram program;
  program.difference = IndexProgram(difference, cascade, bindings, slots);
  program.op = condition.op;
  return program;
}

std::vector<Condition> partition_conditions(const Cascade& cascade,
                                            const std::vector<std::string>& variables) {
  std::vector<Condition> out;
  auto has = [&](const std::string& v) {
    return std::find(variables.begin(), variables.end(), v) != variables.end();
  };
  for (const Partition& part : cascade.partitions) {
    if (part.parts.size() != 2) continue;
    const std::string outer = variable_of_rank(part.parts[0]);
    const std::string inner = variable_of_rank(part.parts[1]);
    if (!has(outer) || !has(inner)) continue;
    auto var = [](const std::string& n) {
      IndexExpr e;
      e.op = IndexOp::Variable;
      e.name = n;
      return e;
    };
    auto sym = [](const std::string& n) {
      IndexExpr e;
      e.op = IndexOp::Symbol;
      e.name = n;
      return e;
    };
    IndexExpr product;
    product.op = IndexOp::Mul;
    product.args = {var(outer), sym(part.parts[1])};
    Condition c;
    c.lhs.op = IndexOp::Add;
    c.lhs.args = {product, var(inner)};
    c.op = CompareOp::Less;
    c.rhs = sym(part.rank);
    c.loc = part.loc;
    out.push_back(c);
  }
  return out;
}

bool restrict_range(const std::vector<const ConditionProgram*>& conditions, int slot,
                    const int64_t* slot_values, int64_t& lo, int64_t& hi) {
  bool exact = true;
  for (const ConditionProgram* c : conditions) {
    const IndexProgram& d = c->difference;
    if (!d.affine() || c->op == CompareOp::NotEqual) {
      exact = false;
      continue;
    }
    const int64_t a = d.coefficient(slot);
    // d = a*v + rest, rest from the other (bound) slots.
    int64_t rest = d.constant();
    for (int s : d.slots_used())
      if (s != slot) rest += d.coefficient(s) * slot_values[s];
    // Bring every comparison to the form a*v <= k (and/or a*v >= k).
    auto upper = [&](int64_t coef, int64_t k) {  // coef*v <= k
      if (coef == 0) {
        if (k < 0) hi = lo - 1;
        return;
      }
      if (coef > 0) hi = std::min(hi, floor_div(k, coef));
      else lo = std::max(lo, -floor_div(k, -coef));
    };
    switch (c->op) {
      case CompareOp::Less: upper(a, -rest - 1); break;
      case CompareOp::LessEqual: upper(a, -rest); break;
      case CompareOp::Greater: upper(-a, rest - 1); break;
      case CompareOp::GreaterEqual: upper(-a, rest); break;
      case CompareOp::Equal:
        upper(a, -rest);
        upper(-a, rest);
        break;
      case CompareOp::NotEqual: break;
    }
  }
  return exact;
}

}  // namespace cascade
