// print_mapping writes YAML that parses back to the same mapping, whatever the names hold
// (the fuzzer's finding: a unit name with newlines and ': ' printed plain did not parse).
#include <gtest/gtest.h>

#include "arch/support/files.h"
#include "mappings/mapping/mapping_file.h"

namespace cascade {
namespace {

TEST(MappingPrint, NamesThatAreNotPlainYamlAreQuoted) {
  const std::string file = std::string(CASCADE_SOURCE_DIR) + "/tests/data/reliability/mapping-print-roundtrip.yaml";
  const std::string printed = print_mapping(parse_mapping_text(read_input_file(file, "mapping file"), file));
  std::string again;
  ASSERT_NO_THROW(again = print_mapping(parse_mapping_text(printed, "printed.yaml"))) << printed;
  EXPECT_EQ(again, printed);
}

}  // namespace
}  // namespace cascade
