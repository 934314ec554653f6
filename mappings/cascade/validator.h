// The Validator behind validate() (internal to the language): one pass over a cascade
// that checks it and fills Cascade::tensors and Cascade::warnings. Its checks live in three
// files by what they look at:
//   validate.cpp               names and declarations: inputs, partitions, shapes, index
//                              functions, parameters, defaults, requirements, outputs,
//                              formats; the results (tensors, warnings)
//   validate_expressions.cpp   index and value expressions, Einsum outputs and bodies, inits
//   validate_dependencies.cpp  the dependency structure: cycles and what carries them
//   validate_concat.cpp        concatenated ranks (`concat:`) and concat(j: ...) values
// Rules: mappings/README.md, "Validation".
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "arch/support/names.h"
#include "mappings/cascade/cascade.h"

namespace cascade::detail {

// The iterative dimension of a produced tensor: OUT[..., v + extra, ...].
struct Iterative {
  int dim = -1;
  std::string variable;
  int64_t extra = 0;
};

// How to point at `loc` from a message about `from`: "column 11" on the same line,
// "line 8" in the same file, else the full location.
std::string position_of(const SourceLocation& loc, const SourceLocation& from);

class Validator {
 public:
  Validator(Cascade& cascade, const std::map<std::string, SourceLocation>& locations)
      : c_(cascade), locations_(locations) {}

  void run();

 private:
  // ---- helpers (validate.cpp) ----
  SourceLocation location(const std::string& key) const;
  void add_rank(const std::string& rank);
  std::string rank_list() const { return join(rank_order_, ", "); }
  bool is_rank_variable(const std::string& var) const;
  std::string family(const std::string& rank) const;  // a partition part's whole rank
  static std::string suggestion(const std::string& name, const std::vector<std::string>& names);
  std::vector<std::string> tensor_names() const;
  std::vector<std::string> parameter_names() const;
  bool is_tensor(const std::string& name) const;

  // ---- declarations (validate.cpp) ----
  void check_inputs();
  void check_partitions();
  void check_shapes();
  void check_tensor_names();
  void check_index_functions();
  void check_parameters();
  void check_shape_defaults();
  void check_requirements();
  void check_outputs();
  void check_formats();
  void check_workload_ranks();
  void check_concatenations();  // validate_concat.cpp
  void fill_tensors();
  void add_warnings();

  // ---- index expressions (validate_expressions.cpp) ----
  enum class Scope { Einsum, Shapes, Function };
  struct IndexScope {
    Scope kind = Scope::Einsum;
    const IndexFunction* function = nullptr;  // Function: the function being defined
    size_t function_index = 0;                // Function: may call only earlier ones
    std::string what;                         // Shapes: "the default of shape W"
  };
  void check_index(const IndexExpr& e, const IndexScope& scope);
  void check_index_variable(const IndexExpr& e, const IndexScope& scope);
  void check_index_call(const IndexExpr& e, const IndexScope& scope);

  // ---- value expressions and Einsums (validate_expressions.cpp) ----
  struct ValueScope {
    enum Mode { Einsum, Init } mode = Einsum;
    int einsum = -1;
    std::vector<std::string> bound;                 // reduction variables in scope
    std::set<std::string> free;                     // used outside explicit reductions
    std::map<std::string, SourceLocation> reduced;  // reduction variable -> its reduction
    std::map<std::string, SourceLocation> free_at;  // first use outside reductions
    std::map<std::string, SourceLocation> part_of;  // concat part variable -> its concat
    std::set<std::string> concatenated;             // variables of concat(j: ...) here
  };
  static void check_arity(const Expr& e);
  void check_constant_value(const std::string& what, const Expr& e, std::set<std::string>& uses);
  void check_einsum_outputs();
  const std::vector<std::string>& dims_of(const std::string& tensor) const;
  void note_variables(const IndexExpr& index, ValueScope& scope);
  void check_value_call(const Expr& e);
  void check_value(const Expr& e, ValueScope& scope);
  void check_concat_value(const Expr& e, ValueScope& scope);  // validate_concat.cpp
  void check_concat_scope(const Einsum& e, const ValueScope& scope);
  static std::string print_index_list(const std::vector<IndexExpr>& indices);
  void check_einsum(int i);
  void check_implicit_sum_terms(const Einsum& e, const std::vector<std::string>& outs,
                                const std::set<std::string>& free);

  // ---- dependency structure (validate_dependencies.cpp) ----
  struct Edge {
    int from;  // producer
    int to;    // reader
    bool carried;
    std::string variable;  // carried: the iterative variable
  };
  std::vector<Edge> edges() const;
  void check_cycles();
  static std::vector<int> components(const std::vector<std::vector<int>>& next);

  Cascade& c_;
  const std::map<std::string, SourceLocation>& locations_;

  std::set<std::string> ranks_;  // every rank / shape name
  std::vector<std::string> rank_order_;
  std::map<std::string, const TensorDecl*> inputs_;
  std::map<std::string, std::string> input_rank_owner_;  // rank -> first input using it
  std::map<std::string, const Partition*> partitions_;   // by partitioned rank
  std::map<std::string, const Partition*> part_owner_;   // part -> its partition
  std::map<std::string, const ShapeDefault*> defaults_;
  std::map<std::string, const Concatenation*> concat_of_;  // by concatenated rank

  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<std::string>> ranks_of_;
  std::map<std::string, std::vector<int64_t>> extra_of_;
  std::vector<std::vector<std::string>> output_variables_;
  std::vector<Iterative> iterative_;
  std::map<std::string, Iterative> iterative_of_;
  std::map<std::string, std::set<int>> consumers_;
};

}  // namespace cascade::detail
