// The search mapper (mappings/mappers/mapper.h, mappings/mappers/search/search.h): explores
// the mappings of any cascade under the constraints of a mapping file, pricing them with the
// installed evaluator (the analytical model in the cascade binary). Its candidates are the
// Pareto front (latency, energy) it found, fastest first; their notes are the search's report.
#include <fmt/core.h>

#include <memory>

#include "mappings/mappers/mapper_support.h"
#include "mappings/mappers/registry.h"
#include "mappings/mappers/search/search.h"

namespace cascade {

namespace {

class SearchMapper : public Mapper {
 public:
  std::string name() const override { return "search"; }
  std::string description() const override {
    return "searches fusion, tiling, binding, spatial ranks, loop order and placement under "
           "the constraints of --search-constraints (--search-budget, --seed)";
  }
  MapperFit fit(const Cascade&) const override { return {}; }
  // The key rank's tile (M0 of M: [M1, M0]) is a shape, fixed before the problem exists:
  // the matrix array's rows, where the search can put it (as FuseMax does).
  std::map<std::string, std::string> shape_settings(const Cascade& cascade,
                                                    const ArchSpec& arch) const override {
    const Partition* p = cascade.find_partition_of("M");
    const PeArray* a2 = arch.find_array_with_role(ArrayRole::Matrix);
    if (!p || p->parts.size() != 2 || !a2) return {};
    return {{p->parts[1], std::to_string(a2->rows)}};
  }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch) const override {
    return candidates(problem, arch, MapperOptions{});
  }
  std::vector<Mapping> candidates(const Problem& problem, const ArchSpec& arch,
                                  const MapperOptions& options) const override {
    const SearchResult r = search_mappings(problem, arch, search_options(options));
    std::vector<Mapping> out;
    const std::vector<std::string> summary = r.summary();
    for (size_t i = 0; i < r.pareto.size(); ++i) {
      Mapping m = r.pareto[i].mapping;
      m.name = r.pareto.size() == 1 ? "search" : fmt::format("search #{}", i + 1);
      for (const auto& [rank, value] : shape_settings(problem.cascade, arch))
        m.shapes[rank] = std::to_string(problem.bindings.shape(rank));
      m.notes = summary;
      out.push_back(std::move(m));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Mapper> make_search_mapper() { return std::make_unique<SearchMapper>(); }

}  // namespace cascade
