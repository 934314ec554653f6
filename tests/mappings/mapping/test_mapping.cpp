// Mapping files: bad mappings refused with their file:line:col and message, and
// print -> parse round trips of every mapper's mapping.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mappings/mapping/mapping_file.h"
#include "mappings/mapping/resolve.h"
#include "tests/support/shipped_configs.h"

namespace cascade {
namespace {

using testing_support::DesignRun;
using testing_support::arch;
using testing_support::error_message;
using testing_support::kRoot;
using testing_support::kTinyCascade;
using testing_support::kTinyMapping;
using testing_support::replace;
using testing_support::run;
using testing_support::run_design_point;
using testing_support::workload;

// ---------------------------------------------------------------------------------------
// Bad mappings.

std::string tiny_error(const std::string& mapping_text, const std::string& arch_name = "tiny") {
  const ArchSpec a = arch(arch_name);
  const Cascade c = parse_cascade_text(kTinyCascade, "tiny.yaml");
  const Problem p = make_problem(c, resolve_bindings(c, {{"P", "4"}}), 1, 1, a.word_bytes());
  return error_message([&] { resolve_mapping(p, a, parse_mapping_text(mapping_text, "bad.yaml")); });
}

TEST(BadMapping, TileDoesNotFitTheBuffer) {
  // Q staged in glb (1024 B) with E = 300: Q 2400 B.
  const ArchSpec a = arch("tiny");
  const Cascade c = parse_cascade_text(kTinyCascade, "tiny.yaml");
  const Problem p = make_problem(c, resolve_bindings(c, {{"E", "300"}}), 1, 1, a.word_bytes());
  const std::string e = error_message([&] {
    resolve_mapping(p, a,
                    parse_mapping_text(replace(kTinyMapping, "[E: 3]", "[E: 300]"), "bad.yaml"));
  });
  EXPECT_NE(e.find("einsum QK"), std::string::npos) << e;
  EXPECT_NE(e.find("do not fit the global buffer"), std::string::npos) << e;
  EXPECT_NE(e.find("needed"), std::string::npos) << e;
  EXPECT_NE(e.find("1.0 KiB available in glb"), std::string::npos) << e;
  EXPECT_NE(e.find("Q 2.3 KiB"), std::string::npos) << e;
}

TEST(BadMapping, OperationNotSupported) {
  // The 1D array of tiny has no add; exp on FLAT's 2D array is not supported.
  std::string m = replace(kTinyMapping, "unit: array_1d", "unit: array_2d");
  EXPECT_EQ(tiny_error(m), "");  // tiny's 2D array has exp
  const std::string e = tiny_error(m, "flat");
  EXPECT_NE(e.find("bad.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("einsum SN: operation 'exp' is not supported by array_2d"), std::string::npos)
      << e;
  EXPECT_NE(e.find("it supports: add, mac, multiply"), std::string::npos) << e;
}

TEST(BadMapping, SpatialFactorLargerThanTheArray) {
  const std::string e = tiny_error(replace(kTinyMapping, "rows: [M: 2]", "rows: [M: 4]"));
  EXPECT_NE(e.find("einsum QK: spatial factor 4 across the rows exceeds the 2 rows of array_2d"),
            std::string::npos)
      << e;
  const std::string f =
      tiny_error(replace(kTinyMapping, "spatial: {cols: [P: 4]}", "spatial: {cols: [P: 8]}"));
  EXPECT_NE(
      f.find("einsum SN: spatial factor 8 across the columns exceeds the 4 columns of array_1d"),
      std::string::npos)
      << f;
}

TEST(BadMapping, OtherChecks) {
  EXPECT_NE(tiny_error(replace(kTinyMapping, "buffer_loops: [E: 3]", "buffer_loops: [E: 2]"))
                .find("einsum QK: the loops over rank E multiply to 2, less than its size 3"),
            std::string::npos);
  EXPECT_NE(
      tiny_error(replace(kTinyMapping, "buffer_loops: [E: 3]", "buffer_loops: [E: 6]"))
          .find("einsum QK: the loops over rank E multiply to 6, more than a whole tile above its "
                "size 3"),
      std::string::npos);
  // Padding the last tile is fine (E = 3 as 2 x 2).
  EXPECT_EQ(
      tiny_error(replace(replace(kTinyMapping, "buffer_loops: [E: 3]", "buffer_loops: [E: 2]"),
                         "[batch: 1, head: 1]", "[batch: 1, head: 1, E: 2]")),
      "");
  // Register loops keep operands in the PE: Q, K tiles of 2 and the accumulator = 5 words.
  EXPECT_NE(
      tiny_error(replace(kTinyMapping, "buffer_loops: [E: 3]",
                         "buffer_loops: [E: 2]\n        register_loops: [E: 2]"))
          .find("einsum QK: its register tiles do not fit the register file of array_2d: 10 B "
                "needed, 8 B available per PE"),
      std::string::npos);
  EXPECT_NE(tiny_error(replace(kTinyMapping, "buffer_loops: [M: 2]", "buffer_loops: [M: 2, E: 3]"))
                .find("einsum SN: buffer loop over rank E, which is not in its iteration space"),
            std::string::npos);
  EXPECT_NE(
      tiny_error(replace(kTinyMapping, "einsum: SN", "einsum: SM")).find("unknown einsum 'SM'"),
      std::string::npos);
  EXPECT_NE(
      tiny_error(replace(kTinyMapping, "QK: {home: global_buffer}", "QK: {home: register_file}"))
          .find(""),
      std::string::npos);
  EXPECT_NE(tiny_error(replace(kTinyMapping, "SN: {home: dram, staged: false}",
                               "SN: {home: global_buffer}"))
                .find("tensor SN is a cascade output: it lives in dram"),
            std::string::npos);
  EXPECT_NE(tiny_error(replace(kTinyMapping, "unit: array_1d", "unit: array_3d"))
                .find("unknown unit 'array_3d' (arrays of tiny: array_2d, array_1d)"),
            std::string::npos);
  // A Mapping (from any mapper) is held to the rule files are: serialized units need the
  // sequential schedule (under `overlapped` the model would charge such a group no fill).
  {
    Mapping m = parse_mapping_text(kTinyMapping, "ok.yaml");
    m.schedule = GroupSchedule::Overlapped;
    m.groups.front().serialized_units = true;
    const ArchSpec a = arch("tiny");
    const Cascade c = parse_cascade_text(kTinyCascade, "tiny.yaml");
    const Problem p = make_problem(c, resolve_bindings(c, {{"P", "4"}}), 1, 1, a.word_bytes());
    EXPECT_NE(error_message([&] { resolve_mapping(p, a, m); })
                  .find("'units: serialized' needs 'schedule: sequential'"),
              std::string::npos);
  }
  // YAML problems carry file:line:col.
  const std::string y =
      tiny_error(replace(kTinyMapping, "buffer_loops: [M: 2]", "bufer_loops: [M: 2]"));
  EXPECT_NE(y.find("bad.yaml:18:9"), std::string::npos) << y;
  EXPECT_NE(y.find("did you mean 'buffer_loops'"), std::string::npos) << y;
  EXPECT_NE(tiny_error(replace(kTinyMapping, "[E: 3]", "[E: -3]")).find("positive integer"),
            std::string::npos);
}

TEST(BadMapping, Files) {
  // tests/data/bad-mapping/expected.txt: file | arch | workload | fragment.
  const std::string dir = kRoot + "/tests/data/bad-mapping/";
  std::ifstream in(dir + "expected.txt");
  ASSERT_TRUE(in.good());
  int cases = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    for (size_t start = 0;;) {
      const size_t bar = line.find(" | ", start);
      f.push_back(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 3;
    }
    ASSERT_EQ(f.size(), 4u) << line;
    const Workload w = load_workload(dir + f[2]);
    const Cascade c = parse_cascade_file(w.cascade);
    const std::string e = error_message([&] {
      run_design_point(arch(f[1]), w, c, 0, dir + f[0]);
    });
    EXPECT_NE(e.find(f[3]), std::string::npos) << f[0] << ": got\n" << e;
    ++cases;
  }
  EXPECT_EQ(cases, 4);
  // The unchanged mapping is valid.
  const Workload w = load_workload(dir + "workload.yaml");
  const Cascade c = parse_cascade_file(w.cascade);
  EXPECT_EQ(error_message([&] {
              run_design_point(arch("tiny"), w, c, 0, dir + "good.yaml", 1, 1);
            }),
            "");
}

TEST(BadMapping, MapperRefusesACascadeItCannotMap) {
  const std::string e =
      error_message([] { run("fusemax", "bert-base", "softmax-3pass", "fusemax", 1024); });
  EXPECT_NE(e.find("the fusemax mapper needs a 1-pass cascade"), std::string::npos) << e;
  const std::string g =
      error_message([] { run("fusemax", "bert-base", "softmax-2pass", "fusemax", 1024); });
  EXPECT_NE(g.find("makes 2 passes over M"), std::string::npos) << g;
  const std::string f =
      error_message([] { run("fusemax", "bert-base", "softmax-1pass", "fusemix", 1024); });
  EXPECT_NE(f.find("neither a mapper"), std::string::npos) << f;
}

// ---------------------------------------------------------------------------------------
// Mapping files round-trip; mappers on every cascade.

TEST(MappingFile, PrintParseRoundTrip) {
  for (const char* mapper : {"fusemax", "flat", "unfused", "generic"}) {
    const DesignRun r =
        run(std::string(mapper) == "fusemax" ? "fusemax" : "flat", "bert-base",
            std::string(mapper) == "fusemax" ? "softmax-1pass" : "softmax-3pass", mapper, 4096);
    const Mapping back = parse_mapping_text(print_mapping(r.result.mapping), "printed.yaml");
    EXPECT_EQ(back, r.result.mapping) << mapper << "\n" << print_mapping(r.result.mapping);
  }
}

}  // namespace
}  // namespace cascade
