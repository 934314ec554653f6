// The mapper registry: the shipped mappers (mapper_list.h) and any registered at run time
// (tests, extensions). Register before mapping from several threads; lookups are read-only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mappings/mappers/mapper.h"

namespace cascade {

std::vector<std::string> mapper_names();
const Mapper* find_mapper(const std::string& name);
// Throws Error listing the mappers (and that a mapping file is accepted too).
const Mapper& mapper_named(const std::string& name);
// The mapper used when none is named: the first whose is_default_for(cascade) holds.
const Mapper& default_mapper(const Cascade& cascade);
// Adds a mapper after the shipped ones; an existing name is an Error.
void register_mapper(std::unique_ptr<Mapper> mapper);

// The shipped mappers' factories (one per file).
#define CASCADE_MAPPER(name) std::unique_ptr<Mapper> make_##name##_mapper();
#include "mappings/mappers/mapper_list.h"
#undef CASCADE_MAPPER

}  // namespace cascade
