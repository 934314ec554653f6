// libFuzzer target: the architecture reader (YAML -> ArchSpec with every check), then the
// area table, which reads every component.
#include "arch/arch_spec.h"
#include "arch/energy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cascade::fuzz::expect_only_errors([&] {
    const cascade::ArchSpec arch =
        cascade::parse_arch_text(cascade::fuzz::text_of(data, size), "fuzz.yaml");
    cascade::compute_area(arch);
  });
  return 0;
}
