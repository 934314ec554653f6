// libFuzzer target: parse -> print -> parse. Whatever the parser accepts, its printed form
// must parse again and print to the same text (print_cascade round-trips).
#include "mappings/cascade/parser.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  std::string printed;
  bool parsed = false;
  fuzz::expect_only_errors([&] {
    const Cascade c = parse_cascade_text(fuzz::text_of(data, size), "fuzz.yaml");
    printed = print_cascade(c);
    parsed = true;
  });
  if (!parsed) return 0;
  try {
    const Cascade again = parse_cascade_text(printed, "printed.yaml");
    const std::string reprinted = print_cascade(again);
    if (reprinted != printed)
      fuzz::finding("print -> parse -> print changed the text",
                    "first:\n" + printed + "\nsecond:\n" + reprinted);
  } catch (const Error& e) {
    fuzz::finding("the printed cascade does not parse", std::string(e.what()) + "\n" + printed);
  }
  return 0;
}
