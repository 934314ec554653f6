// The analytical model as the mapping search's evaluator (mappings/mappers/search/search.h):
// the search sees only the SearchEvaluator interface, so the mappers never depend on sim/.
#pragma once

#include <memory>

#include "mappings/mappers/search/search.h"

namespace cascade {

std::unique_ptr<SearchEvaluator> make_analytical_search_evaluator(const Problem& problem,
                                                                  const ArchSpec& arch);
// Installs it for `--mapper search` (the cascade binary's main, tests, the Python module).
void install_analytical_search_evaluator();

}  // namespace cascade
