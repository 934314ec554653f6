// Design-space sweeps: the file format and its errors, the order of the points, that a point
// with architecture values gives what the hand-edited architecture gives, and that results
// are reused from the database (also across shards merged together).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "arch/arch_spec.h"
#include "mappings/cascade/parser.h"
#include "mappings/problem/workload.h"
#include "sim/analytical/analytical_model.h"
#include "sim/sweep/sweep.h"
#include "tests/support/design_run.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

std::string find(const std::string&, const std::string& folder, const std::string& given) {
  if (std::filesystem::exists(given)) return given;
  const std::string path = kRoot + "/configs/" + folder + "/" + given + ".yaml";
  if (!std::filesystem::exists(path)) throw Error("no " + folder + " '" + given + "'");
  return path;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh temporary directory per test.
std::string temp_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("cascade-test-sweep-" + name + "-" +
       std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string error_of(const std::string& text) {
  try {
    SweepSpec s = parse_sweep_text(text, "s.yaml");
    SweepOptions o;
    o.db = temp_dir("errors") + "/db.sqlite";
    o.progress = false;
    run_sweep(s, o, find);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kSmall = R"(name: small
base:
  arch: fusemax
  workload: bert-base
  cascade: softmax-1pass
axes:
  - arch.arrays.array_2d.rows: [64, 128]
    arch.arrays.array_2d.cols: [64, 128]
  - seq: [1024, 2048, 4096]
)";

TEST(SweepFile, ShippedExampleLoads) {
  const SweepSpec s = load_sweep(kRoot + "/configs/sweeps/fusemax-array-size.yaml");
  EXPECT_EQ(s.name, "fusemax-array-size");
  EXPECT_EQ(s.points(), 12u);
}

TEST(SweepFile, FirstAxisVariesSlowestAndZippedKeysMoveTogether) {
  const SweepSpec s = parse_sweep_text(kSmall, "small.yaml");
  ASSERT_EQ(s.points(), 6u);
  const SweepPoint p4 = sweep_point(s, 4);  // second array size, second length
  ASSERT_EQ(p4.values.size(), 3u);
  EXPECT_EQ(p4.values[0].first, "arch.arrays.array_2d.rows");
  EXPECT_EQ(p4.values[0].second, "128");
  EXPECT_EQ(p4.values[1].second, "128");
  EXPECT_EQ(p4.values[2].second, "2048");
  EXPECT_EQ(p4.settings.at("arch"), "fusemax");
  EXPECT_EQ(sweep_point(s, 2).values[2].second, "4096");
  EXPECT_EQ(sweep_point(s, 2).values[0].second, "64");
}

TEST(SweepFile, ErrorsNameTheLineAndColumn) {
  struct Case {
    const char* text;
    const char* where_and_what;
  };
  const Case cases[] = {
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes: []\nbogus: 1\n",
       "s.yaml:4:1: error: unknown key 'bogus'"},
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n  - sqe: [1024]\n",
       "s.yaml:4:5: error: unknown setting 'sqe' (did you mean 'seq'?)"},
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n  - seq: []\n",
       "s.yaml:4:10: error: the values of 'seq' must be a non-empty list"},
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n"
       "  - {arch.clock_mhz: [1, 2], seq: [1024]}\n",
       "s.yaml:4:35: error: 'seq' has 1 values but 'arch.clock_mhz' in the same axis has 2"},
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n  - seq: [1]\n  - seq: [2]\n",
       "s.yaml:5:5: error: 'seq' is swept twice"},
      {"name: x\nbase: {workload: bert-base}\naxes: []\n",
       "s.yaml:1:1: error: the sweep needs 'arch' in 'base' or on an axis"},
      {"name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n"
       "  - arch.arrays.array_2d.rowz: [64]\n",
       "s.yaml:4:5: error: arch.arrays.array_2d.rowz: architecture fusemax"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.where_and_what), std::string::npos) << c.text << "\ngot: " << e;
  }
  EXPECT_NE(error_of("name: x\nbase: {arch: fusemax, workload: bert-base}\naxes:\n"
                     "  - arch.arrays.array_2d.rowz: [64]\n")
                .find("did you mean 'rows'?"),
            std::string::npos);
}

TEST(SweepPoint, ArchitectureValuesGiveWhatTheEditedFileGives) {
  // The 128 x 128 point against the architecture file edited by hand (text replacement).
  const SweepSpec s = parse_sweep_text(kSmall, "small.yaml");
  const SweepResult r = evaluate_sweep_point(sweep_point(s, 4), find);
  ASSERT_TRUE(r.ok) << r.error;
  std::string text = read(kRoot + "/configs/arch/fusemax.yaml");
  const std::string rows = "    rows: 256", cols = "    cols: 256";
  ASSERT_NE(text.find(rows), std::string::npos);
  text.replace(text.find(rows), rows.size(), "    rows: 128");
  text.replace(text.find(cols), cols.size(), "    cols: 128");
  const ArchSpec arch = parse_arch_text(text, "fusemax-128.yaml");
  const Workload w = load_workload(kRoot + "/configs/workloads/bert-base.yaml");
  const Cascade c = parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml");
  const testing_support::DesignRun direct =
      testing_support::run_design_point(arch, w, c, 2048, "");
  EXPECT_EQ(r.latency_s, direct.result.latency_s);
  EXPECT_EQ(r.energy_j, direct.result.energy.total_pj * 1e-12);
  EXPECT_EQ(r.area_mm2, direct.result.area.total_um2 * 1e-6);
  EXPECT_EQ(r.P, 2048);
  EXPECT_EQ(r.mapping, direct.result.mapping.name);
}

TEST(SweepPoint, APointThatDoesNotFitIsARowWithItsError) {
  const SweepSpec s = parse_sweep_text(R"(name: tiny-buffer
base: {arch: fusemax, workload: bert-base, cascade: softmax-1pass, seq: 4096}
axes:
  - arch.components.global_buffer.capacity_bytes: [1024, 16777216]
)",
                                       "tiny-buffer.yaml");
  const SweepResult small = evaluate_sweep_point(sweep_point(s, 0), find);
  EXPECT_FALSE(small.ok);
  EXPECT_NE(small.error.find("global"), std::string::npos) << small.error;
  EXPECT_TRUE(evaluate_sweep_point(sweep_point(s, 1), find).ok);
}

TEST(SweepRun, RerunsReuseTheDatabaseAndShardsMergeToTheWholeSweep) {
  const std::string dir = temp_dir("run");
  const SweepSpec s = parse_sweep_text(kSmall, "small.yaml");
  SweepOptions whole;
  whole.db = dir + "/whole.sqlite";
  whole.csv = dir + "/whole.csv";
  whole.jobs = 2;
  whole.progress = false;
  const SweepSummary first = run_sweep(s, whole, find);
  EXPECT_EQ(first.computed, 6u);
  EXPECT_EQ(first.written, 6u);
  const std::string csv = read(whole.csv);
  const SweepSummary again = run_sweep(s, whole, find);
  EXPECT_EQ(again.computed, 0u);
  EXPECT_EQ(again.reused, 6u);
  EXPECT_EQ(read(whole.csv), csv);

  SweepOptions shard = whole;
  shard.shards = 2;
  for (int k = 0; k < 2; ++k) {
    shard.shard = k;
    shard.db = dir + "/shard" + std::to_string(k) + ".sqlite";
    shard.csv = dir + "/shard" + std::to_string(k) + ".csv";
    EXPECT_EQ(run_sweep(s, shard, find).computed, 3u);
  }
  SweepOptions merged = whole;
  merged.db = dir + "/merged.sqlite";
  merged.csv = dir + "/merged.csv";
  merged.merge = {dir + "/shard0.sqlite", dir + "/shard1.sqlite"};
  const SweepSummary m = run_sweep(s, merged, find);
  EXPECT_EQ(m.computed, 0u);
  EXPECT_EQ(m.reused, 6u);
  EXPECT_EQ(read(merged.csv), csv);  // bit for bit, whatever the threads and shards
  std::filesystem::remove_all(dir);
}

// The sweep CSV has `cascade run --csv`'s columns (one schema): a point's row carries the
// summary of the same design point evaluated directly; a setting that is an axis and a
// summary column (workload) appears once.
TEST(SweepRun, CsvRowsAreTheRunSummaryAndNoColumnRepeats) {
  const std::string dir = temp_dir("schema");
  const SweepSpec s = parse_sweep_text(R"(name: schema
base: {arch: fusemax, cascade: softmax-1pass, seq: 1024}
axes:
  - workload: [bert-base, xlm]
)",
                                       "schema.yaml");
  SweepOptions o;
  o.db = dir + "/schema.sqlite";
  o.csv = dir + "/schema.csv";
  o.progress = false;
  run_sweep(s, o, find);
  std::istringstream csv(read(o.csv));
  std::string header_line, row_line;
  std::getline(csv, header_line);
  std::getline(csv, row_line);
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  };
  const std::vector<std::string> header = split(header_line), row = split(row_line);
  ASSERT_EQ(header.size(), row.size());
  EXPECT_EQ(std::count(header.begin(), header.end(), "workload"), 1) << header_line;
  const testing_support::DesignRun direct = testing_support::run_design_point(
      load_arch(kRoot + "/configs/arch/fusemax.yaml"),
      load_workload(kRoot + "/configs/workloads/bert-base.yaml"),
      parse_cascade_file(kRoot + "/configs/cascades/softmax-1pass.yaml"), 1024, "");
  const SummaryRow summary = summary_row(direct.point, direct.result);
  for (const auto& [column, value] : summary) {
    const auto at = std::find(header.begin(), header.end(), column);
    ASSERT_NE(at, header.end()) << column;
    EXPECT_EQ(row[at - header.begin()], value) << column;
  }
  EXPECT_EQ(header[0], "index");
  EXPECT_EQ(header[1], "status");  // the workload axis is the summary's workload column
  std::filesystem::remove_all(dir);
}

TEST(SweepDatabase, AnotherSchemaIsRefusedNotReused) {
  const std::string dir = temp_dir("old-schema");
  const std::string file = dir + "/old.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE points (key TEXT PRIMARY KEY, util_2d REAL)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const SweepSpec s = parse_sweep_text(kSmall, "small.yaml");
  SweepOptions o;
  o.db = file;
  o.csv = dir + "/x.csv";
  o.progress = false;
  try {
    run_sweep(s, o, find);
    ADD_FAILURE() << "an old database was used";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 0"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(o.csv));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cascade
