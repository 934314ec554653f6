// An architecture from a YAML tree already parsed, with every check parse_arch_text makes
// (errors at the tree's marks in `file`). For callers that edit a parsed file many times
// (sweeps with arch.PATH axes) instead of emitting and re-parsing its text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "arch/arch_spec.h"

namespace cascade {

ArchSpec parse_arch_yaml(const YAML::Node& root, const std::string& file);

}  // namespace cascade
