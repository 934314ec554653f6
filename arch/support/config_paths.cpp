#include "arch/support/config_paths.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "arch/support/error.h"

namespace cascade {

std::vector<std::string> config_roots() {
  std::vector<std::string> roots = {"."};
  if (const char* home = std::getenv("CASCADE_HOME")) roots.push_back(home);
  roots.push_back(CASCADE_SOURCE_DIR);
  return roots;
}

std::string config_names(const std::string& folder) {
  for (const std::string& root : config_roots()) {
    const std::string dir = root + "/configs/" + folder;
    if (!std::filesystem::is_directory(dir)) continue;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }
  return "";
}

std::string find_config(const std::string& what, const std::string& folder,
                        const std::string& given) {
  if (std::filesystem::exists(given)) return given;
  for (const std::string& root : config_roots()) {
    const std::string candidate = root + "/configs/" + folder + "/" + given + ".yaml";
    if (std::filesystem::exists(candidate)) return candidate;
  }
  const std::string known = config_names(folder);
  throw Error(what + " '" + given + "' is neither a file nor a name in configs/" + folder + "/" +
              (known.empty() ? "" : " (known: " + known + ")"));
}

}  // namespace cascade
