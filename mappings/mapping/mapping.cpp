#include "mappings/mapping/mapping.h"

namespace cascade {

std::string to_string(TensorHome home) {
  switch (home) {
    case TensorHome::Dram:
      return "dram";
    case TensorHome::GlobalBuffer:
      return "global_buffer";
    case TensorHome::RegisterFile:
      return "register_file";
  }
  return "?";
}

std::string to_string(GroupSchedule schedule) {
  return schedule == GroupSchedule::Sequential ? "sequential" : "overlapped";
}

const TensorPlacement* Mapping::find_tensor(const std::string& name) const {
  for (const TensorPlacement& t : tensors)
    if (t.tensor == name) return &t;
  return nullptr;
}

}  // namespace cascade
