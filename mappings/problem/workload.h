// Workloads (configs/workloads/*.yaml): the attention layer of a model, with the shapes of
// its tensors, the batch, the number of heads and the cascade that computes it.
//
//   name: bert-base
//   description: BERT-base attention
//   cascade: ../cascades/softmax-1pass.yaml   # relative to the workload file
//   batch: 64
//   heads: 12
//   shapes: {E: 64, F: 64, P: 1024, M: 1024}   # shapes of the cascade's ranks
//   sequence_lengths: [1024, 4096, ...]        # the lengths a sweep visits (P = M = length)
//   citations: ["..."]
//
// Shapes the cascade does not have are ignored (a 2D neighborhood cascade has no P), so one
// workload serves every cascade.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/support/error.h"
#include "mappings/cascade/cascade.h"

namespace cascade {

struct Workload {
  std::string name;
  std::string description;
  std::string file;
  std::string cascade;  // resolved path of the cascade file ("" if none named)
  int64_t batch = 1;
  int64_t heads = 1;
  std::map<std::string, int64_t> shapes;
  std::vector<int64_t> sequence_lengths;
  std::vector<std::string> citations;
  SourceLocation loc;
};

Workload load_workload(const std::string& path);
Workload parse_workload_text(const std::string& yaml_text, const std::string& file);

// The shape settings for a cascade: the workload's shapes that the cascade knows, then
// `sequence_length` (> 0) as P and M, then `overrides` (NAME=value, --set) on top. An
// override the cascade does not know is an error (from resolve_bindings).
std::map<std::string, std::string> workload_settings(
    const Workload& workload, const Cascade& cascade, int64_t sequence_length,
    const std::map<std::string, std::string>& overrides);

// Names every shape a cascade can be given (ranks of inputs, partitions and their parts,
// declared shapes).
std::vector<std::string> cascade_shape_names(const Cascade& cascade);

}  // namespace cascade
