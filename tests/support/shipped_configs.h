// Shipped configurations (configs/) by name, a design point of them through the analytical
// model, and the hand-checkable tiny design of configs/arch/tiny.yaml, for tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "tests/support/design_run.h"

namespace cascade::testing_support {

inline const std::string kRoot = CASCADE_SOURCE_DIR;

inline ArchSpec arch(const std::string& name) {
  return load_arch(kRoot + "/configs/arch/" + name + ".yaml");
}
inline Cascade cascade_file(const std::string& name) {
  return parse_cascade_file(kRoot + "/configs/cascades/" + name + ".yaml");
}
inline Workload workload(const std::string& name) {
  return load_workload(kRoot + "/configs/workloads/" + name + ".yaml");
}

// The shipped architecture, workload and cascade at sequence length `seq`, mapped by `mapper`.
inline DesignRun run(const std::string& arch_name, const std::string& workload_name,
                     const std::string& cascade_name, const std::string& mapper, int64_t seq) {
  return run_design_point(arch(arch_name), workload(workload_name), cascade_file(cascade_name),
                          seq, mapper);
}

// The message of the Error `f` throws; empty when it throws none.
inline std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// QK then exp on 4 queries x 2 keys x 3 features: small enough to count every action by hand.
inline const char* kTinyCascade = R"(name: tiny-qk-exp
inputs: {Q: [E, P], K: [E, M]}
shapes: {P: 4, M: 2, E: 3}
einsums: |
  QK[m, p] = Q[e, p] * K[e, m]
  SN[m, p] = exp(QK[m, p])
outputs: [SN]
)";

inline const char* kTinyMapping = R"(name: tiny by hand
schedule: sequential
tensors:
  Q: {home: dram, staged: true}
  K: {home: dram, staged: true}
  QK: {home: global_buffer}
  SN: {home: dram, staged: false}
groups:
  - name: all
    dram_loops: [batch: 1, head: 1]
    einsums:
      - einsum: QK
        unit: array_2d
        buffer_loops: [E: 3]
        spatial: {cols: [P: 4], rows: [M: 2]}
      - einsum: SN
        unit: array_1d
        buffer_loops: [M: 2]
        spatial: {cols: [P: 4]}
)";

inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace cascade::testing_support
