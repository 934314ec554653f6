// libFuzzer target: the .npy and .npz readers (`cascade eval --input`); an input starting
// with "PK" goes to the .npz reader, everything else to the .npy reader.
#include "sim/functional/tensor_file.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = cascade::fuzz::text_of(data, size);
  cascade::fuzz::expect_only_errors([&] {
    if (bytes.rfind("PK", 0) == 0)
      cascade::parse_npz(bytes, "fuzz.npz");
    else
      cascade::parse_npy(bytes, "fuzz.npy");
  });
  return 0;
}
