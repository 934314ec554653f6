// Tensors in NumPy's files: `.npy` (one array) and `.npz` (a zip of NAME.npy entries), the
// format users' own data comes in (`cascade eval`).
//
// Reading accepts every float dtype NumPy writes (float16, float32, float64; little- or
// big-endian), C or Fortran order, any rank; values become doubles exactly. Anything else
// (integers, complex, bfloat16 as the void type 'V2', object arrays, a truncated file) is an
// Error naming the file and what was found. `.npz` archives may be stored or deflated
// (np.savez, np.savez_compressed), read through libzip.
//
// Writing produces what np.save writes for a float64 C-order array, byte for byte (format
// 1.0, header padded to 64 bytes), so every value of every number format is kept exactly.
// `.npz` output stores its entries uncompressed with a fixed timestamp: the same tensors
// give the same bytes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/functional/executor.h"

namespace cascade {

// Parses a .npy file's bytes; `path` is for messages.
Tensor parse_npy(const std::string& bytes, const std::string& path);
// The .npy bytes of a tensor (float64, C order).
std::string npy_bytes(const Tensor& tensor);

// The arrays of a .npz file's bytes, by entry name without ".npy", in archive order.
std::vector<std::pair<std::string, Tensor>> parse_npz(const std::string& bytes,
                                                      const std::string& path);
// The .npz bytes of named tensors (entries NAME.npy, stored, in the given order).
std::string npz_bytes(const std::vector<std::pair<std::string, Tensor>>& tensors);

// Shape as NumPy prints it: (64, 1024), (5,), ().
std::string shape_text(const std::vector<int64_t>& extents);

}  // namespace cascade
