// Where configuration files are found by name: `softmax-1pass` means
// configs/cascades/softmax-1pass.yaml under the first root that has it. The CLI, the
// design point and the Python module share this lookup.
#pragma once

#include <string>
#include <vector>

namespace cascade {

// Where `configs/` is looked up: the current directory first, then $CASCADE_HOME, then the
// source tree this library was built from.
std::vector<std::string> config_roots();
// The names in configs/<folder>/ (for --help and errors), from the first root that has
// the folder; "" if none has.
std::string config_names(const std::string& folder);
// A name (configs/<folder>/<name>.yaml) or a path; `what` names it in the Error when it is
// neither.
std::string find_config(const std::string& what, const std::string& folder,
                        const std::string& given);

}  // namespace cascade
