#include "mappings/problem/index_extent.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace cascade {

namespace {

class IndexCompiler {
 public:
  IndexCompiler(const Cascade& cascade, const Bindings& bindings,
                const std::vector<std::string>& variables)
      : cascade_(cascade), bindings_(bindings), variables_(variables) {}

  std::vector<IndexExtentNode> compile(const IndexExpr& e) {
    std::vector<IndexExtentNode> nodes;
    std::map<std::string, int> no_params;
    emit(e, nodes, no_params, 0);
    return nodes;
  }

 private:
  int push(std::vector<IndexExtentNode>& nodes, IndexExtentNode n) {
    nodes.push_back(n);
    return static_cast<int>(nodes.size()) - 1;
  }

  int emit(const IndexExpr& e, std::vector<IndexExtentNode>& nodes,
           const std::map<std::string, int>& params, int depth) {
    if (depth > 32) return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
    switch (e.op) {
      case IndexOp::Constant:
        return push(nodes, {IndexExtentNode::Constant, e.value, -1, -1});
      case IndexOp::Symbol: {
        auto s = bindings_.shapes.find(e.name);
        return push(nodes, {IndexExtentNode::Constant, s == bindings_.shapes.end() ? 0 : s->second,
                            -1, -1});
      }
      case IndexOp::Variable: {
        if (auto p = params.find(e.name); p != params.end()) return p->second;
        for (size_t i = 0; i < variables_.size(); ++i)
          if (variables_[i] == e.name)
            return push(nodes, {IndexExtentNode::Variable, static_cast<int64_t>(i), -1, -1});
        return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
      }
      case IndexOp::Neg:
        return emit(e.args[0], nodes, params, depth + 1);
      case IndexOp::Add:
      case IndexOp::Sub:
      case IndexOp::Mul:
      case IndexOp::Div:
      case IndexOp::Mod: {
        const int a = emit(e.args[0], nodes, params, depth + 1);
        const int b = emit(e.args[1], nodes, params, depth + 1);
        IndexExtentNode::Op op = e.op == IndexOp::Mul   ? IndexExtentNode::Mul
                                 : e.op == IndexOp::Div ? IndexExtentNode::Div
                                 : e.op == IndexOp::Mod ? IndexExtentNode::Mod
                                                        : IndexExtentNode::Add;
        return push(nodes, {op, e.op == IndexOp::Sub ? -1 : 1, a, b});
      }
      case IndexOp::Call: {
        std::vector<int> args;
        for (const IndexExpr& a : e.args) args.push_back(emit(a, nodes, params, depth + 1));
        if (const IndexFunction* f = cascade_.find_index_function(e.name)) {
          std::map<std::string, int> inner;
          for (size_t i = 0; i < f->params.size() && i < args.size(); ++i)
            inner[f->params[i]] = args[i];
          return emit(f->body, nodes, inner, depth + 1);
        }
        // min, max, clamp: spans at most the widest argument.
        int acc = args.empty() ? push(nodes, {IndexExtentNode::Constant, 0, -1, -1}) : args[0];
        for (size_t i = 1; i < args.size(); ++i)
          acc = push(nodes, {IndexExtentNode::MaxOf, 0, acc, args[i]});
        return acc;
      }
    }
    return push(nodes, {IndexExtentNode::Constant, 0, -1, -1});
  }

  const Cascade& cascade_;
  const Bindings& bindings_;
  const std::vector<std::string>& variables_;
};


struct Span {  // trivial: index_extent's stack stays uninitialised
  double length;
  bool constant;
  double value;
};

// The number of distinct values an index takes over a tile with the given extents per slot.

}  // namespace

std::vector<IndexExtentNode> compile_index_extent(const IndexExpr& expr, const Cascade& cascade,
                                                  const Bindings& bindings,
                                                  const std::vector<std::string>& variables) {
  return IndexCompiler(cascade, bindings, variables).compile(expr);
}

double index_extent(const std::vector<IndexExtentNode>& nodes, const double* extents) {
  Span small[96];
  std::vector<Span> large;
  if (nodes.size() > 96) large.resize(nodes.size());
  Span* stack = nodes.size() > 96 ? large.data() : small;
  const size_t n = nodes.size();
  for (size_t i = 0; i < n; ++i) {
    const IndexExtentNode& node = nodes[i];
    Span& s = stack[i];
    switch (node.op) {
      case IndexExtentNode::Constant:
        s = {1, true, static_cast<double>(node.value)};
        break;
      case IndexExtentNode::Variable:
        s = {extents[node.value], false, 0};
        break;
      case IndexExtentNode::Add: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, a.value + node.value * b.value};
        else
          s = {a.length + b.length - 1, false, 0};
        break;
      }
      case IndexExtentNode::Mul: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, a.value * b.value};
        else if (a.constant)
          s = {(b.length - 1) * std::fabs(a.value) + 1, false, 0};
        else if (b.constant)
          s = {(a.length - 1) * std::fabs(b.value) + 1, false, 0};
        else
          s = {a.length * b.length, false, 0};
        break;
      }
      case IndexExtentNode::Div: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, b.value != 0 ? std::floor(a.value / b.value) : 0};
        else if (b.constant && b.value > 0)
          s = {std::floor((a.length - 1) / b.value) + 1, false, 0};
        else
          s = {a.length, false, 0};
        break;
      }
      case IndexExtentNode::Mod: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, 0};
        else if (b.constant && b.value > 0)
          s = {std::min(a.length, b.value), false, 0};
        else
          s = {a.length, false, 0};
        break;
      }
      case IndexExtentNode::MaxOf: {
        const Span& a = stack[node.lhs];
        const Span& b = stack[node.rhs];
        if (a.constant && b.constant)
          s = {1, true, std::max(a.value, b.value)};
        else
          s = {std::max(a.constant ? 1.0 : a.length, b.constant ? 1.0 : b.length), false, 0};
        break;
      }
    }
  }
  return n == 0 ? 1 : stack[n - 1].length;
}

void index_variable_slots(const std::vector<IndexExtentNode>& nodes, uint64_t& mask) {
  for (const IndexExtentNode& n : nodes)
    if (n.op == IndexExtentNode::Variable && n.value < 64) mask |= uint64_t{1} << n.value;
}


}  // namespace cascade
