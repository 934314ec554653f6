// What the shipped mappers share: finding arrays by role, building an Einsum's loop nest,
// placing tensors, checking that tiles fit. Internal to mappings/mappers (a new mapper may
// use it; nothing outside this folder does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "mappings/mapping/mapping.h"
#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"

namespace cascade::mapper_support {

struct SpatialChoice {
  std::string rank;
  int64_t factor = 1;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return b <= 0 ? a : a / b + (a % b != 0); }

// The array with `role` in the architecture file; Error naming the mapper and the arrays
// when there is none.
const PeArray& array_with_role(const ArchSpec& arch, ArrayRole role, const std::string& mapper);
void require_query_rank(const Problem& problem, const std::string& mapper);

// An Einsum's loop nest: spatial ranks as given, every other rank's remaining factor at the
// global-buffer level in the order batch, head, `first`, the other output ranks, the reduced
// ranks (innermost).
EinsumMapping build_einsum(const Problem& problem, const ProblemEinsum& pe, const std::string& unit,
                           const std::vector<Loop>& dram, const std::vector<SpatialChoice>& cols,
                           const std::vector<SpatialChoice>& rows,
                           const std::vector<std::string>& first);

// The largest output (or, with `reduced`, reduced) rank of an Einsum other than `skip`;
// `tiled` split into `tiles` at the DRAM level counts with its extent per tile.
std::string largest_rank(const ProblemEinsum& pe, bool reduced,
                         const std::vector<std::string>& skip, const std::string& tiled = "",
                         int64_t tiles = 1);

// Whether every group's tiles fit the global buffer (`needed`: the largest group's bytes, or
// under `schedule: overlapped` all groups' together).
bool buffer_fits(const Problem& problem, const ArchSpec& arch, const Mapping& mapping,
                 double* needed = nullptr);
ResolvedMapping resolve_without_capacity(const Problem& problem, const ArchSpec& arch,
                                         const Mapping& mapping);

// Sets (or adds) the placement of `tensor`.
void place(Mapping& m, const Problem& problem, const std::string& tensor, TensorHome home,
           bool staged, bool spill);
std::vector<Loop> batch_head_loops(const Problem& problem);
std::string gb_name(const ArchSpec& arch);
double gb_capacity(const ArchSpec& arch);

// Whether `array`'s PEs can run every operation of an Einsum.
bool supports_all(const PeArray& array, const ProblemEinsum& pe);
// The array for an Einsum off the 2D array: the 1D array, or another array (not the 2D
// one) whose PEs run what the 1D array's cannot (a GPU's FP32 lanes next to its
// special-function units). The 1D array when none can: resolving then names the operation.
const PeArray& row_unit(const ArchSpec& arch, const PeArray& a2, const PeArray& a1,
                        const ProblemEinsum& pe);

// Kernels of an unfused schedule: each contraction alone, each run of other Einsums
// (evaluation order) together.
std::vector<std::vector<int>> kernels(const Problem& problem);
std::string kernel_name(const Problem& problem, const std::vector<int>& k);
// A row-by-row nest on the vector array: the widest output (or reduced) rank across it.
EinsumMapping row_nest(const Problem& problem, const ProblemEinsum& pe, const PeArray& a1,
                       const std::vector<Loop>& dram);

}  // namespace cascade::mapper_support
