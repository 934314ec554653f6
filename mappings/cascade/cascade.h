// The Einsum cascade IR: what a cascade file (configs/cascades/*.yaml) parses into.
//
// Naming convention (checked by validate()):
//   - a rank is an upper-case name (M, M1, P, E, W); its index variable is the same name
//     in lower case (m, m1, p, e, w);
//   - tensors are upper-case names and are always written with brackets (QK[m, p]);
//   - shapes are upper-case symbols usable in index expressions: every rank is a shape,
//     and a cascade may declare further integer shapes (a dilation D, a block size B);
//   - parameters are lower-case real-valued names (scale, eps, lambda) with defaults.
//
// Source locations never take part in IR equality (operator== ignores them), so
// print -> parse gives an IR equal to the original.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/support/error.h"

namespace cascade {

// Locations are metadata: two IR nodes that differ only in where they were read from are
// the same node.
struct Located {
  SourceLocation loc;
  bool operator==(const Located&) const { return true; }
};

// ---------------------------------------------------------------------------------------
// Integer index expressions: K[e, m1*M0 + m0], K[e, start(p) + w*D], RM[m1+1, p].
// Division is floor division, % is the non-negative remainder (divisor > 0).
enum class IndexOp { Constant, Variable, Symbol, Add, Sub, Mul, Div, Mod, Neg, Call };

struct IndexExpr {
  IndexOp op = IndexOp::Constant;
  int64_t value = 0;             // Constant
  std::string name;              // Variable (m1), Symbol (M0), Call (clamp, start)
  std::vector<IndexExpr> args;   // operands / call arguments
  SourceLocation loc;

  bool operator==(const IndexExpr& o) const {
    return op == o.op && value == o.value && name == o.name && args == o.args;
  }
};

// Built-in index functions: min(a, b), max(a, b), clamp(x, lo, hi).
// A cascade may define more in `index_functions:` (e.g. the neighborhood window start).
struct IndexFunction {
  std::string name;
  std::vector<std::string> params;  // lower-case names, local to the body
  IndexExpr body;
  SourceLocation loc;
  bool operator==(const IndexFunction& o) const {
    return name == o.name && params == o.params && body == o.body;
  }
};

enum class CompareOp { Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };

// One term of a `where` clause: m <= p, w*D + start(p) < M.
struct Condition {
  IndexExpr lhs;
  CompareOp op = CompareOp::Less;
  IndexExpr rhs;
  SourceLocation loc;
  bool operator==(const Condition& o) const {
    return lhs == o.lhs && op == o.op && rhs == o.rhs;
  }
};

// ---------------------------------------------------------------------------------------
// Real-valued expressions (the right-hand side of an Einsum).
enum class ExprOp {
  Number,     // a literal; `inf` is +infinity
  Parameter,  // a declared parameter (scale, eps, lambda)
  Index,      // an index expression used as a value (p - m, E): index[0]
  Read,       // a tensor element: name[indices]
  Neg,
  Add,
  Sub,
  Mul,
  Div,
  Call,    // exp, sqrt, max(a, b), min(a, b), pow(a, b), elu1, relu, abs
  Reduce,  // name in {sum, max, min} over reduce_vars: max(m0: BQK[m1, m0, p])
  // concat(j: A[d, p], B[d, p]) over a concatenated rank J (`concat: {J: [D, D]}`):
  // indices[0] is the variable j; args[k] is part k, evaluated where j lies in part k's
  // range with part k's variable (d) bound to j minus the sizes of the parts before it.
  Concat,
};

struct Expr {
  ExprOp op = ExprOp::Number;
  double number = 0.0;                   // Number
  std::string name;                      // Parameter, Read (tensor), Call, Reduce (kind)
  std::vector<IndexExpr> indices;        // Read: one per tensor rank; Index, Concat: one
  std::vector<std::string> reduce_vars;  // Reduce: variables reduced, outermost first;
                                         // Concat: the variable each part binds (d, d),
                                         // from the `concat` declaration when read
  std::vector<Expr> args;                // operands
  SourceLocation loc;

  bool operator==(const Expr& o) const;
};

// Functions allowed in value expressions, with their arity.
struct ValueFunction {
  const char* name;
  int arity;
};
const std::vector<ValueFunction>& value_functions();
const ValueFunction* find_value_function(const std::string& name);

// ---------------------------------------------------------------------------------------
// Einsums and cascades.

// `init RM[0, p] = -inf`: the starting value of an iterative tensor.
struct Init {
  std::vector<IndexExpr> indices;
  Expr value;
  SourceLocation loc;
  bool operator==(const Init& o) const { return indices == o.indices && value == o.value; }
};

// OUT[indices] = value  [where cond and cond ...]  [init OUT[...] = value]
//
// Iteration space: the output variables, every variable that appears only on the right
// outside explicit reductions (implicitly summed), and the variables of explicit
// reductions. A `where` condition restricts that space; it is tested at the innermost
// scope where all its variables are bound. Output elements whose point fails a
// condition on output variables alone are 0. An empty sum is 0, an empty max is -inf.
struct Einsum {
  std::string output;
  std::vector<IndexExpr> output_indices;  // each `v` or `v + c` (c > 0: iterative rank)
  Expr value;
  std::vector<Condition> where;
  std::optional<Init> init;
  SourceLocation loc;  // start of the Einsum's text
  bool operator==(const Einsum& o) const {
    return output == o.output && output_indices == o.output_indices && value == o.value &&
           where == o.where && init == o.init;
  }
};

struct TensorDecl {
  std::string name;
  std::vector<std::string> ranks;  // upper-case rank names, outermost first
  SourceLocation loc;
  bool operator==(const TensorDecl& o) const { return name == o.name && ranks == o.ranks; }
};

// `M: [M1, M0]`: m = m1 * M0 + m0, M1 = ceil(M / M0). The last M1 tile may be partial;
// every Einsum that binds both m1 and m0 iterates only over m1*M0 + m0 < M.
struct Partition {
  std::string rank;                // M
  std::vector<std::string> parts;  // [M1, M0], outermost first (exactly two)
  SourceLocation loc;
  bool operator==(const Partition& o) const { return rank == o.rank && parts == o.parts; }
};

// `concat: {J: [D, D]}`: rank J is its parts laid end to end, J = D + D (derived):
// j in [0, D) is the first part's d, j in [D, 2D) the second's. concat(j: ...) in an
// Einsum gives one value expression per part.
struct Concatenation {
  std::string rank;                // J
  std::vector<std::string> parts;  // [D, D], in order (at least two)
  SourceLocation loc;
  bool operator==(const Concatenation& o) const { return rank == o.rank && parts == o.parts; }
};

// A named real parameter and its default (an expression over shapes and numbers, such
// as 1/sqrt(E)).
struct Parameter {
  std::string name;
  Expr default_value;
  SourceLocation loc;
  bool operator==(const Parameter& o) const {
    return name == o.name && default_value == o.default_value;
  }
};

// A named integer shape with a default value (M0: 256, W: 7, D: 1). Shapes of ranks that
// the workload must give (P, M, E, F) need no default.
struct ShapeDefault {
  std::string name;
  IndexExpr value;
  SourceLocation loc;
  bool operator==(const ShapeDefault& o) const { return name == o.name && value == o.value; }
};

// A comparison of real values over parameters, shapes and numbers (`lambda <= 1`).
struct ValueCondition {
  Expr lhs;
  CompareOp op = CompareOp::Less;
  Expr rhs;
  SourceLocation loc;
  bool operator==(const ValueCondition& o) const {
    return lhs == o.lhs && op == o.op && rhs == o.rhs;
  }
};

// A check that must hold for the workload to be valid, with the message shown when it
// does not: an integer condition on shapes (`W % 2 == 1`), or, when the check names a
// parameter, a comparison of real values (`lambda <= 1`, `eps >= 0`) held in
// `value_condition` (`condition` is then unused).
struct ShapeRequirement {
  Condition condition;
  std::optional<ValueCondition> value_condition;
  std::string message;
  SourceLocation loc;
  bool operator==(const ShapeRequirement& o) const {
    return condition == o.condition && value_condition == o.value_condition &&
           message == o.message;
  }
};

// Derived by validate(): everything known about one tensor.
struct TensorInfo {
  std::string name;
  std::vector<std::string> ranks;   // rank per dimension
  std::vector<int64_t> extra;       // extent = shape(rank) + extra (1 for RM[m1+1, p])
  int producer = -1;                // index into Cascade::einsums, -1 for inputs
  std::vector<int> consumers;       // Einsums that read it
  std::string format;               // per-tensor storage format override, "" = default
  SourceLocation loc;
};

struct Cascade {
  std::string name;
  std::string description;
  std::string file;  // where it was read from ("" if built in code)

  std::vector<TensorDecl> inputs;
  std::vector<Partition> partitions;
  std::vector<Concatenation> concatenations;
  std::vector<ShapeDefault> shapes;
  std::vector<ShapeRequirement> requirements;
  std::vector<Parameter> parameters;
  std::vector<IndexFunction> index_functions;
  std::map<std::string, std::string> formats;  // tensor -> storage format override
  std::vector<Einsum> einsums;
  std::vector<std::string> outputs;
  std::vector<std::string> citations;  // free text: where the cascade comes from
  // Which independent fp64 reference `cascade check` compares with, and its options:
  // function = softmax | linear | lightning | neighborhood-1d | neighborhood-2d, plus
  // causal = true|false, feature_map = elu1|identity|relu. Empty: no reference.
  std::map<std::string, std::string> reference;
  // `workload_ranks: {heads: H, batch: N}`: ranks of the cascade that are the workload's head
  // and batch ranks. The workload's heads (batch) then set that rank's shape and no longer
  // multiply the cascade (sim/model/design_point.h); without the key they multiply it.
  std::map<std::string, std::string> workload_ranks;

  // Filled by validate(); not part of equality.
  std::vector<TensorInfo> tensors;
  std::vector<std::string> warnings;

  bool operator==(const Cascade& o) const {
    return name == o.name && description == o.description && inputs == o.inputs &&
           partitions == o.partitions && concatenations == o.concatenations &&
           shapes == o.shapes &&
           requirements == o.requirements && parameters == o.parameters &&
           index_functions == o.index_functions && formats == o.formats &&
           einsums == o.einsums && outputs == o.outputs && citations == o.citations &&
           reference == o.reference && workload_ranks == o.workload_ranks;
  }

  const TensorInfo* find_tensor(const std::string& name) const;
  const Partition* find_partition_of(const std::string& rank) const;  // by parent rank
  const Concatenation* find_concatenation(const std::string& rank) const;  // by J
  const Parameter* find_parameter(const std::string& name) const;
  const IndexFunction* find_index_function(const std::string& name) const;
};

// An iterative Einsum's init as an Einsum of its own (`init RM[0, p] = -inf` ->
// `RM[0, p] = -inf`): what evaluates the first slice. `einsum` must have an init.
Einsum init_einsum(const Einsum& einsum);

// IR walkers.
// Variables of an index expression, in order of first use (each once).
void index_variables(const IndexExpr& e, std::vector<std::string>& out);
// Every tensor read in an expression, in order.
void collect_reads(const Expr& e, std::vector<const Expr*>& reads);

// Rank <-> variable naming.
std::string variable_of_rank(const std::string& rank);  // "M1" -> "m1"
std::string rank_of_variable(const std::string& var);   // "m1" -> "M1"

// ---------------------------------------------------------------------------------------
// Concrete shapes and parameters of one workload.
struct Bindings {
  std::map<std::string, int64_t> shapes;     // every rank and shape symbol, resolved
  std::map<std::string, double> parameters;  // every parameter, resolved

  int64_t shape(const std::string& name) const;  // throws Error if unknown
};

// Resolves shapes and parameters: `given` holds NAME=value overrides (shape names
// upper-case, parameter names lower-case); defaults fill the rest; partition sub-ranks
// are derived (M1 = ceil(M / M0)); requirements are checked. Throws Error naming what
// is missing or violated.
Bindings resolve_bindings(const Cascade& cascade, const std::map<std::string, std::string>& given);

// Evaluates an index expression with the given variable values (and shapes/functions of
// the cascade). Throws Error on unknown names or division by zero.
int64_t evaluate_index(const IndexExpr& expr, const Cascade& cascade, const Bindings& bindings,
                       const std::map<std::string, int64_t>& variables);
bool evaluate_condition(const Condition& cond, const Cascade& cascade, const Bindings& bindings,
                        const std::map<std::string, int64_t>& variables);

}  // namespace cascade
