// Internals of the sweep engine shared by its files (not part of the API).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/cascade/parser.h"
#include "mappings/cascade/cascade.h"
#include "mappings/problem/workload.h"
#include "sim/sweep/sweep.h"

namespace cascade::sweep_detail {

bool starts_with(const std::string& s, const std::string& prefix);
std::string read_text(const std::string& path);
uint64_t fnv1a(const std::string& text, uint64_t h = 1469598103934665603ull);

// Files shared by the points, read and parsed once (thread-safe).
class FileCache {
 public:
  explicit FileCache(const ConfigFinder& find) : find_(find) {}

  std::string path(const std::string& what, const std::string& folder, const std::string& given) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key = folder + "\n" + given;
    auto it = paths_.find(key);
    if (it != paths_.end()) return it->second;
    return paths_[key] = find_(what, folder, given);
  }
  std::string text(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = texts_.find(file);
    if (it != texts_.end()) return it->second;
    return texts_[file] = read_text(file);
  }
  std::shared_ptr<const ArchSpec> arch(const std::string& file) {
    return parsed(archs_, file, parse_arch_text);
  }
  std::shared_ptr<const Workload> workload(const std::string& file) {
    return parsed(workloads_, file, parse_workload_text);
  }
  std::shared_ptr<const Cascade> cascade(const std::string& file) {
    return parsed(cascades_, file, parse_cascade_text);
  }
  // The architecture of `file` with arch.PATH values (`edits`: key, YAML text) written into
  // its parsed tree and read with every check of an architecture file; remembered per
  // distinct set of edits (a sweep's arch axes repeat across its other axes). The file is
  // parsed as YAML once, never emitted and re-parsed per point. Thread-safe.
  std::shared_ptr<const ArchSpec> edited_arch(
      const std::string& file, const std::vector<std::pair<std::string, std::string>>& edits);

 private:
  // A file parsed once (parsing runs outside the lock; a race parses twice, keeps one).
  template <typename T, typename Parse>
  std::shared_ptr<const T> parsed(std::map<std::string, std::shared_ptr<const T>>& cache,
                                  const std::string& file, Parse parse) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = cache.find(file);
      if (it != cache.end()) return it->second;
    }
    auto value = std::make_shared<const T>(parse(text(file), file));
    std::lock_guard<std::mutex> lock(mutex_);
    return cache.emplace(file, value).first->second;
  }

  ConfigFinder find_;
  std::mutex mutex_;
  std::map<std::string, std::string> paths_, texts_;
  std::map<std::string, std::shared_ptr<const ArchSpec>> archs_;
  std::map<std::string, std::shared_ptr<const Workload>> workloads_;
  std::map<std::string, std::shared_ptr<const Cascade>> cascades_;
  struct EditedArch {
    std::shared_ptr<const ArchSpec> arch;
    std::string error;  // the Error's text when the edited file is refused
  };
  static constexpr size_t kEditedArchCacheSize = 4096;  // entries; emptied when full
  std::map<std::string, YAML::Node> trees_;              // parsed architecture files
  std::map<std::string, EditedArch> edited_;
};


// The files a point reads ("" = none).
struct PointFiles {
  std::string arch, workload, cascade, mapping;
};
PointFiles files_of(const SweepPoint& point, FileCache& cache);
// A hash of the point's settings and of the contents of the files it reads.
std::string point_key(const SweepPoint& point, const PointFiles& files, FileCache& cache);
// The node of an architecture file at a dotted path (map keys; in a list, the item whose
// `name` is the segment), or an Error naming where the path leaves the file.
YAML::Node node_at(const YAML::Node& root, const std::string& path, const std::string& arch_name);
// Evaluates one point; `key`: the point's key when the caller has computed it, else "".
SweepResult evaluate_point(const SweepPoint& point, FileCache& cache, const std::string& key);

}  // namespace cascade::sweep_detail
