// Mapping files (configs/mappings/*.yaml; format in configs/mappings/README.md).
#pragma once

#include <string>

#include "mappings/mapping/mapping.h"

namespace cascade {

// Reads a mapping file (configs/mappings/*.yaml). Errors carry file:line:col.
Mapping load_mapping(const std::string& path);
Mapping parse_mapping_text(const std::string& yaml_text, const std::string& file);
// Writes a mapping as YAML; parse_mapping_text(print_mapping(m)) == m.
std::string print_mapping(const Mapping& mapping);

}  // namespace cascade
