#include "mappings/analysis/passes.h"

#include <algorithm>
#include <map>
#include <set>

#include "arch/support/names.h"
#include "mappings/analysis/evaluation_order.h"

namespace cascade {

// ---------------------------------------------------------------------------------------
// Pass analysis

int PassReport::max_passes() const {
  int m = 0;
  for (const RankPasses& r : ranks) m = std::max(m, r.passes);
  return m;
}

const RankPasses* PassReport::find(const std::string& rank) const {
  for (const RankPasses& r : ranks)
    if (r.rank == rank) return &r;
  return nullptr;
}

namespace {

std::string root_rank(const Cascade& cascade, const std::string& rank) {
  for (const Partition& p : cascade.partitions)
    if (contains(p.parts, rank)) return p.rank;
  return rank;
}

struct PassState {
  int avail = 1;    // first pass in which the tensor can be read
  int origin = -1;  // Einsum whose full reduction over the rank set `avail`
};

RankPasses passes_over(const Cascade& cascade, const std::string& rank,
                       const std::vector<EinsumGroup>& order) {
  RankPasses result;
  result.rank = rank;
  auto in_family = [&](const std::string& var) {
    return root_rank(cascade, rank_of_variable(var)) == rank;
  };
  auto tensor_has_rank = [&](const std::string& tensor) {
    const TensorInfo* t = cascade.find_tensor(tensor);
    if (!t) return false;
    return std::any_of(t->ranks.begin(), t->ranks.end(),
                       [&](const std::string& r) { return root_rank(cascade, r) == rank; });
  };
  auto indexed_by_family = [&](const Expr& read, size_t d) {
    std::vector<std::string> used;
    index_variables(read.indices[d], used);
    return std::any_of(used.begin(), used.end(), in_family);
  };
  // Does this read index the tensor's `rank` dimensions with a variable of the family? A
  // partition's inner part read at a constant (the last step of a per-tile recurrence,
  // RM[m1, M0, p]) while its outer part is indexed by the family streams too: tile m1 is
  // complete when the traversal reaches it, as it is for max(m0: X[m1, m0, p]). Passes
  // depend on the dependencies, not on which of the two spellings a cascade uses.
  auto streamed_read = [&](const Expr& read) {
    const TensorInfo* t = cascade.find_tensor(read.name);
    if (!t) return false;
    const size_t dims = std::min(t->ranks.size(), read.indices.size());
    for (size_t d = 0; d < dims; ++d) {
      if (root_rank(cascade, t->ranks[d]) != rank || indexed_by_family(read, d)) continue;
      const std::string* outer = nullptr;
      for (const Partition& p : cascade.partitions)
        if (p.parts.size() == 2 && p.parts[1] == t->ranks[d]) outer = &p.parts[0];
      bool outer_streamed = false;
      for (size_t o = 0; outer != nullptr && o < dims; ++o)
        outer_streamed = outer_streamed || (t->ranks[o] == *outer && indexed_by_family(read, o));
      if (!outer_streamed) return false;
    }
    return true;
  };

  std::map<std::string, PassState> state;
  for (const TensorDecl& in : cascade.inputs) state[in.name] = PassState{};
  std::vector<int> flat;
  for (const EinsumGroup& g : order)
    for (int e : g.einsums) flat.push_back(e);

  std::map<int, PassCause> cause_of;  // einsum -> what delays it
  bool changed = true;
  for (int round = 0; changed && round < 64; ++round) {
    changed = false;
    for (int i : flat) {
      const Einsum& einsum = cascade.einsums[i];
      const std::vector<std::string> vars = einsum_variables(einsum).all();
      const bool iterates = std::any_of(vars.begin(), vars.end(), in_family);
      std::vector<const Expr*> reads;
      collect_reads(einsum.value, reads);
      int need = 1;
      PassCause cause;
      for (const Expr* r : reads) {
        if (r->name == einsum.output) continue;  // carried state of a recurrence
        const PassState s = state.count(r->name) ? state[r->name] : PassState{};
        int avail = s.avail;
        int origin = s.origin;
        if (tensor_has_rank(r->name) && (!iterates || !streamed_read(*r))) {
          // Reads a completed traversal (RNV[M1, f, p]) rather than streaming it.
          const TensorInfo* t = cascade.find_tensor(r->name);
          avail = s.avail + 1;
          origin = t ? t->producer : -1;
        }
        if (avail > need) {
          need = avail;
          cause = PassCause{avail, i, r->name, origin};
        }
      }
      PassState out;
      if (iterates) {
        result.einsum_pass[i] = need;
        const bool keeps_rank = tensor_has_rank(einsum.output);
        out.avail = keeps_rank ? need : need + 1;
        out.origin = keeps_rank ? cause.reducer : i;
        if (need > 1)
          cause_of[i] = cause;
        else
          cause_of.erase(i);
      } else {
        out.avail = need;
        out.origin = cause.reducer;
      }
      PassState& slot = state[einsum.output];
      if (slot.avail != out.avail || slot.origin != out.origin) {
        slot = out;
        changed = true;
      }
    }
  }
  for (const auto& [e, p] : result.einsum_pass) result.passes = std::max(result.passes, p);
  // One cause per pass: the first Einsum (in evaluation order) that opens it.
  std::set<int> opened;
  for (int i : flat) {
    auto it = cause_of.find(i);
    if (it == cause_of.end() || opened.count(it->second.pass)) continue;
    opened.insert(it->second.pass);
    result.causes.push_back(it->second);
  }
  std::sort(result.causes.begin(), result.causes.end(),
            [](const PassCause& a, const PassCause& b) { return a.pass < b.pass; });
  return result;
}

}  // namespace

PassReport analyze_passes(const Cascade& cascade) {
  const std::vector<EinsumGroup> order = evaluation_order(cascade);
  std::vector<std::string> roots;
  auto add_rank = [&](const std::string& r) { push_unique(roots, root_rank(cascade, r)); };
  for (const TensorDecl& in : cascade.inputs)
    for (const std::string& r : in.ranks) add_rank(r);
  for (const TensorInfo& t : cascade.tensors)
    for (const std::string& r : t.ranks) add_rank(r);
  PassReport report;
  for (const std::string& r : roots) report.ranks.push_back(passes_over(cascade, r, order));
  return report;
}

}  // namespace cascade
