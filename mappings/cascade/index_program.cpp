// IndexProgram: compilation (folding, inlining, errors kept in evaluation order), the checked
// sweep, the affine form and the extent rules; conditions and ranges built on them.
#include "mappings/cascade/index_program.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "mappings/cascade/parser.h"

namespace cascade {

// What error messages need, kept out of the hot fields: copies of the expressions a program
// was compiled from (the root and the bodies of the index functions it inlines) at stable
// addresses, so a program outlives the IndexExpr and Cascade it came from; per node the
// expression it came from; the errors found while compiling; the root's location.
struct IndexSources {
  std::deque<IndexExpr> exprs;
  std::vector<const IndexExpr*> node_source;
  std::vector<Error> failures;
  SourceLocation loc;
};

namespace {

// Index functions may call each other this deep; beyond it a call fails (recursion).
constexpr int kMaxCallDepth = 64;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// a*b + x into x; false on overflow.
bool add_product(int64_t& x, int64_t a, int64_t b) {
  int64_t p = 0;
  return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(x, p, &x);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Arithmetic: one definition for folding, checked evaluation and its error messages.

namespace {

// The value of one operation on its operands' values; false where the result is not
// defined (overflow, division or modulo by zero, clamp with lo > hi).
template <typename NodeKind>
bool apply(NodeKind kind, int64_t a, int64_t b, int64_t c, int64_t& out) {
  switch (kind) {
    case NodeKind::Add: return !__builtin_add_overflow(a, b, &out);
    case NodeKind::Sub: return !__builtin_sub_overflow(a, b, &out);
    case NodeKind::Mul: return !__builtin_mul_overflow(a, b, &out);
    case NodeKind::Neg: return !__builtin_sub_overflow(int64_t{0}, a, &out);
    case NodeKind::Div:  // floor division
      if (b == 0) return false;
      if (b == -1) return !__builtin_sub_overflow(int64_t{0}, a, &out);
      out = floor_div(a, b);
      return true;
    case NodeKind::Mod: {  // the non-negative remainder
      if (b == 0) return false;
      if (b == -1 || b == 1) {
        out = 0;
        return true;
      }
      int64_t r = a % b;
      if (r < 0) r += b < 0 ? -b : b;
      out = r;
      return true;
    }
    case NodeKind::Min: out = std::min(a, b); return true;
    case NodeKind::Max: out = std::max(a, b); return true;
    case NodeKind::Clamp:
      if (b > c) return false;
      out = std::clamp(a, b, c);
      return true;
    default: return false;
  }
}

}  // namespace

void IndexProgram::fail_at(int node, int64_t b, int64_t c) const {
  const Node& n = nodes_[node];
  const IndexExpr& e = *sources_->node_source[node];
  if (n.kind == Kind::Div && b == 0)
    throw Error(e.loc, "division by zero in '" + print_index(e) + "'");
  if (n.kind == Kind::Mod && b == 0)
    throw Error(e.loc, "modulo by zero in '" + print_index(e) + "'");
  if (n.kind == Kind::Clamp)
    throw Error(e.loc, "clamp(x, lo, hi) with lo = " + std::to_string(b) +
                           " > hi = " + std::to_string(c));
  throw Error(e.loc, "integer overflow in index expression '" + print_index(e) + "'");
}

// ---------------------------------------------------------------------------------------
// Compilation.

class IndexCompiler {
 public:
  using Kind = IndexProgram::Kind;
  using Node = IndexProgram::Node;

  IndexCompiler(IndexProgram& program, const Cascade& cascade, const ShapeLookup& shapes,
                const std::map<std::string, int>& slots)
      : p_(program), cascade_(cascade), shapes_(shapes), slots_(slots) {}

  void compile(const IndexExpr& expr) {
    auto sources = std::make_shared<IndexSources>();
    sources_ = sources.get();
    const IndexExpr& root = sources->exprs.emplace_back(expr);
    sources->loc = expr.loc;
    p_.root_ = build(root, nullptr, 0);
    p_.sources_ = std::move(sources);
    p_.finish();
  }

 private:
  // A user function's parameters -> the nodes of its arguments. Inside a body only the
  // parameters are variables; outside (nullptr) the slots are.
  using Locals = std::map<std::string, int>;

  int push(Kind kind, const IndexExpr& source, int64_t value = 0, int a = -1, int b = -1,
           int c = -1) {
    Node n;
    n.kind = kind;
    n.value = value;
    n.a = a;
    n.b = b;
    n.c = c;
    p_.nodes_.push_back(n);
    sources_->node_source.push_back(&source);
    return static_cast<int>(p_.nodes_.size()) - 1;
  }

  // A problem found while compiling, raised when evaluation gets there.
  int fail(const IndexExpr& source, const std::string& message) {
    return fail(source, Error(source.loc, message));
  }
  int fail(const IndexExpr& source, Error error) {
    sources_->failures.push_back(std::move(error));
    return push(Kind::Fail, source, static_cast<int64_t>(sources_->failures.size()) - 1);
  }

  bool constant(int node) const { return p_.nodes_[node].kind == Kind::Constant; }

  // An operation; folded to a constant when its operands are and its value is defined.
  int operation(Kind kind, const IndexExpr& source, int a, int b = -1, int c = -1) {
    int64_t value = 0;
    auto known = [&](int n) { return n < 0 || constant(n); };
    auto of = [&](int n) { return n < 0 ? int64_t{0} : p_.nodes_[n].value; };
    if (known(a) && known(b) && known(c) && apply(kind, of(a), of(b), of(c), value))
      return push(Kind::Constant, source, value);
    return push(kind, source, 0, a, b, c);
  }

  // A subtree that came out constant keeps one node: drops the constants it built from
  // `start` on (nothing else refers to them) and pushes its value.
  int settle(size_t start, int result, const IndexExpr& source) {
    if (!constant(result)) return result;
    for (size_t i = start; i < p_.nodes_.size(); ++i)
      if (p_.nodes_[i].kind != Kind::Constant) return result;
    const int64_t value = p_.nodes_[result].value;
    p_.nodes_.resize(start);
    sources_->node_source.resize(start);
    return push(Kind::Constant, source, value);
  }

  int build(const IndexExpr& e, const Locals* locals, int depth) {
    const size_t start = p_.nodes_.size();
    return settle(start, build_node(e, locals, depth), e);
  }

  int build_node(const IndexExpr& e, const Locals* locals, int depth) {
    auto operand = [&](size_t i) {
      if (i >= e.args.size()) return fail(e, "malformed index expression: operand missing");
      return build(e.args[i], locals, depth);
    };
    switch (e.op) {
      case IndexOp::Constant:
        return push(Kind::Constant, e, e.value);
      case IndexOp::Variable: {
        if (locals != nullptr) {
          if (const auto it = locals->find(e.name); it != locals->end()) return it->second;
        } else if (const auto it = slots_.find(e.name); it != slots_.end()) {
          return push(Kind::Slot, e, it->second);
        }
        return fail(e, "variable '" + e.name + "' has no value here");
      }
      case IndexOp::Symbol:
        try {
          return push(Kind::Constant, e, shapes_(e.name, e.loc));
        } catch (const Error& error) {
          return fail(e, error);
        }
      case IndexOp::Add:
      case IndexOp::Sub:
      case IndexOp::Mul:
      case IndexOp::Div:
      case IndexOp::Mod: {
        const int a = operand(0);
        const int b = operand(1);
        const Kind kind = e.op == IndexOp::Add   ? Kind::Add
                          : e.op == IndexOp::Sub ? Kind::Sub
                          : e.op == IndexOp::Mul ? Kind::Mul
                          : e.op == IndexOp::Div ? Kind::Div
                                                 : Kind::Mod;
        return operation(kind, e, a, b);
      }
      case IndexOp::Neg:
        return operation(Kind::Neg, e, operand(0));
      case IndexOp::Call:
        return call(e, locals, depth);
    }
    return fail(e, "malformed index expression");
  }

  int call(const IndexExpr& e, const Locals* locals, int depth) {
    std::vector<int> args;
    for (const IndexExpr& a : e.args) args.push_back(build(a, locals, depth));
    auto arity_error = [&](size_t n) {
      return fail(e, e.name + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                         ", got " + std::to_string(args.size()));
    };
    if (e.name == "min" || e.name == "max") {
      if (args.size() != 2) return arity_error(2);
      return operation(e.name == "min" ? Kind::Min : Kind::Max, e, args[0], args[1]);
    }
    if (e.name == "clamp") {
      if (args.size() != 3) return arity_error(3);
      return operation(Kind::Clamp, e, args[0], args[1], args[2]);
    }
    const IndexFunction* f = cascade_.find_index_function(e.name);
    if (f == nullptr) return fail(e, "unknown index function '" + e.name + "'");
    if (args.size() != f->params.size()) return arity_error(f->params.size());
    if (depth >= kMaxCallDepth)
      return fail(e, "index functions call each other too deeply (recursion?)");
    Locals inner;
    for (size_t i = 0; i < args.size(); ++i) inner[f->params[i]] = args[i];
    return build(body_of(*f), &inner, depth + 1);
  }

  const IndexExpr& body_of(const IndexFunction& f) {
    auto [it, added] = bodies_.emplace(&f, nullptr);
    if (added) it->second = &sources_->exprs.emplace_back(f.body);
    return *it->second;
  }

  IndexProgram& p_;
  const Cascade& cascade_;
  const ShapeLookup& shapes_;
  const std::map<std::string, int>& slots_;
  IndexSources* sources_ = nullptr;
  std::map<const IndexFunction*, const IndexExpr*> bodies_;
};

IndexProgram::IndexProgram(const IndexExpr& expr, const Cascade& cascade,
                           const ShapeLookup& shapes, const std::map<std::string, int>& slots) {
  IndexCompiler(*this, cascade, shapes, slots).compile(expr);
}

IndexProgram::IndexProgram(const IndexExpr& expr, const Cascade& cascade,
                           const Bindings& bindings, const std::map<std::string, int>& slots)
    : IndexProgram(expr, cascade,
                   ShapeLookup([&bindings](const std::string& name, const SourceLocation& use) {
                     const auto it = bindings.shapes.find(name);
                     if (it == bindings.shapes.end())
                       throw Error(use, "unknown shape '" + name + "'");
                     return it->second;
                   }),
                   slots) {}

// The affine form, when every node takes part in the value and none fails; the slots read.
void IndexProgram::finish() {
  const int n = static_cast<int>(nodes_.size());
  std::vector<bool> reached(nodes_.size(), false);
  if (root_ >= 0) reached[root_] = true;
  bool clean = root_ >= 0;
  for (int i = n - 1; i >= 0; --i) {  // operands come before their users
    const Node& node = nodes_[i];
    if (!reached[i] || node.kind == Kind::Fail) clean = false;
    if (!reached[i]) continue;
    for (int operand : {node.a, node.b, node.c})
      if (operand >= 0) reached[operand] = true;
  }
  std::map<int, int64_t> terms;
  int64_t constant = 0;
  affine_ = clean && linearize(root_, terms, constant, 1);
  if (affine_) {
    for (const auto& [slot, coef] : terms)
      if (coef != 0) terms_.emplace_back(slot, coef);
    constant_ = constant;
  }
  for (const Node& node : nodes_)
    if (node.kind == Kind::Slot &&
        std::find(slots_used_.begin(), slots_used_.end(), node.value) == slots_used_.end())
      slots_used_.push_back(static_cast<int>(node.value));
  std::sort(slots_used_.begin(), slots_used_.end());
}

const SourceLocation& IndexProgram::loc() const {
  static const SourceLocation unknown;
  return sources_ ? sources_->loc : unknown;
}

int64_t IndexProgram::coefficient(int slot) const {
  for (const auto& [s, c] : terms_)
    if (s == slot) return c;
  return 0;
}

// Collects factor * node as slot coefficients + a constant; false if not affine (or if a
// coefficient overflows: the checked sweep then reports it).
bool IndexProgram::linearize(int index, std::map<int, int64_t>& terms, int64_t& constant,
                             int64_t factor) const {
  const Node& n = nodes_[index];
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  switch (n.kind) {
    case Kind::Constant: return add_product(constant, factor, n.value);
    case Kind::Slot: return add_product(terms[static_cast<int>(n.value)], factor, 1);
    case Kind::Add:
      return linearize(n.a, terms, constant, factor) && linearize(n.b, terms, constant, factor);
    case Kind::Sub:
      return factor != kMin && linearize(n.a, terms, constant, factor) &&
             linearize(n.b, terms, constant, -factor);
    case Kind::Neg: return factor != kMin && linearize(n.a, terms, constant, -factor);
    case Kind::Mul: {  // affine only when one side is constant
      std::map<int, int64_t> lt, rt;
      int64_t lc = 0, rc = 0;
      if (!linearize(n.a, lt, lc, 1) || !linearize(n.b, rt, rc, 1)) return false;
      auto nonzero = [](const std::map<int, int64_t>& t) {
        return std::any_of(t.begin(), t.end(), [](const auto& kv) { return kv.second != 0; });
      };
      if (nonzero(lt) && nonzero(rt)) return false;
      const auto& vars = nonzero(lt) ? lt : rt;
      const int64_t scale = nonzero(lt) ? rc : lc;
      int64_t scaled = 0;
      if (!add_product(scaled, factor, scale)) return false;
      for (const auto& [slot, coef] : vars)
        if (!add_product(terms[slot], scaled, coef)) return false;
      int64_t product = 0;
      return add_product(product, lc, rc) && add_product(constant, factor, product);
    }
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------
// Evaluation: one sweep over the nodes, each value computed once, in tree-walk order.

int64_t IndexProgram::evaluate_checked(const int64_t* slot_values) const {
  if (root_ < 0) return 0;
  constexpr size_t kSmall = 64;
  int64_t small[kSmall];
  std::vector<int64_t> large;
  if (nodes_.size() > kSmall) large.resize(nodes_.size());
  int64_t* v = nodes_.size() > kSmall ? large.data() : small;
  const size_t count = nodes_.size();
  for (size_t i = 0; i < count; ++i) {
    const Node& n = nodes_[i];
    switch (n.kind) {
      case Kind::Constant: v[i] = n.value; break;
      case Kind::Slot: v[i] = slot_values[n.value]; break;
      case Kind::Fail: throw sources_->failures[n.value];
      default: {
        const int64_t b = n.b >= 0 ? v[n.b] : 0;
        const int64_t c = n.c >= 0 ? v[n.c] : 0;
        if (!apply(n.kind, v[n.a], b, c, v[i])) fail_at(static_cast<int>(i), b, c);
      }
    }
  }
  return v[root_];
}

namespace {

struct Span {  // trivial: extent()'s stack stays uninitialised
  double length;
  bool constant;
  double value;
};

}  // namespace

double IndexProgram::extent(const double* slot_extents) const {
  if (root_ < 0) return 1;
  if (nodes_.size() == 1) {  // a plain variable or a constant: most indices
    const Node& only = nodes_[0];
    if (only.kind == Kind::Slot) return slot_extents[only.value];
    if (only.kind == Kind::Constant) return 1;
  }
  constexpr size_t kSmall = 96;
  Span small[kSmall];
  std::vector<Span> large;
  if (nodes_.size() > kSmall) large.resize(nodes_.size());
  Span* stack = nodes_.size() > kSmall ? large.data() : small;
  const size_t count = nodes_.size();
  for (size_t i = 0; i < count; ++i) {
    const Node& node = nodes_[i];
    Span& s = stack[i];
    if (node.kind == Kind::Slot) {
      s = {slot_extents[node.value], false, 0};
      continue;
    }
    if (node.kind == Kind::Constant) {
      s = {1, true, static_cast<double>(node.value)};
      continue;
    }
    if (node.kind == Kind::Fail) throw sources_->failures[node.value];
    // Operations (one on constants is left unfolded only where its value is undefined).
    const Span& a = stack[node.a];
    const Span& b = stack[node.b >= 0 ? node.b : node.a];
    switch (node.kind) {
      case Kind::Constant:
      case Kind::Slot:
      case Kind::Fail: break;
      case Kind::Add:
      case Kind::Sub:
        if (a.constant && b.constant)
          s = {1, true, node.kind == Kind::Add ? a.value + b.value : a.value - b.value};
        else
          s = {a.length + b.length - 1, false, 0};
        break;
      case Kind::Neg: s = a.constant ? Span{1, true, -a.value} : Span{a.length, false, 0}; break;
      case Kind::Mul:
        if (a.constant && b.constant)
          s = {1, true, a.value * b.value};
        else if (a.constant)
          s = {(b.length - 1) * std::fabs(a.value) + 1, false, 0};
        else if (b.constant)
          s = {(a.length - 1) * std::fabs(b.value) + 1, false, 0};
        else
          s = {a.length * b.length, false, 0};
        break;
      case Kind::Div:
        if (a.constant && b.constant)
          s = {1, true, b.value != 0 ? std::floor(a.value / b.value) : 0};
        else if (b.constant && b.value > 0)
          s = {std::floor((a.length - 1) / b.value) + 1, false, 0};
        else
          s = {a.length, false, 0};
        break;
      case Kind::Mod:
        if (a.constant && b.constant)
          s = {1, true, 0};
        else if (b.constant && b.value > 0)
          s = {std::min(a.length, b.value), false, 0};
        else
          s = {a.length, false, 0};
        break;
      case Kind::Min:
      case Kind::Max:
      case Kind::Clamp: {  // spans at most the widest argument
        double widest = std::max(a.length, b.length);
        if (node.c >= 0) widest = std::max(widest, stack[node.c].length);
        s = {widest, false, 0};
        break;
      }
    }
  }
  return stack[root_].length;
}

// ---------------------------------------------------------------------------------------
// Conditions and ranges.

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
