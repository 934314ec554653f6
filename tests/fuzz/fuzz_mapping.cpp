// libFuzzer target: the mapping reader, and print -> parse of what it accepts.
#include "mappings/mapping/mapping_file.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  std::string printed;
  bool parsed = false;
  fuzz::expect_only_errors([&] {
    printed = print_mapping(parse_mapping_text(fuzz::text_of(data, size), "fuzz.yaml"));
    parsed = true;
  });
  if (!parsed) return 0;
  try {
    const std::string again = print_mapping(parse_mapping_text(printed, "printed.yaml"));
    if (again != printed)
      fuzz::finding("mapping print -> parse -> print changed the text", printed + "\n" + again);
  } catch (const Error& e) {
    fuzz::finding("the printed mapping does not parse", std::string(e.what()) + "\n" + printed);
  }
  return 0;
}
