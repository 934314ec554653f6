// libFuzzer target: the cascade reader (YAML, Einsum parser, validation).
#include "mappings/cascade/parser.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cascade::fuzz::expect_only_errors(
      [&] { cascade::parse_cascade_text(cascade::fuzz::text_of(data, size), "fuzz.yaml"); });
  return 0;
}
