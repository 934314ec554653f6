// Sweeps at scale: `where:` constraints and ranges against points counted by brute force,
// their errors at file:line:col, mapper names, and the Pareto report of a handmade database
// against an O(n^2) dominance check written here.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_database.h"
#include "sim/sweep/sweep_report.h"

namespace cascade {
namespace {

const std::string kRoot = CASCADE_SOURCE_DIR;

std::string find(const std::string&, const std::string& folder, const std::string& given) {
  if (std::filesystem::exists(given)) return given;
  const std::string path = kRoot + "/configs/" + folder + "/" + given + ".yaml";
  if (!std::filesystem::exists(path)) throw Error("no " + folder + " '" + given + "'");
  return path;
}

std::string temp_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("cascade-test-sweep-scale-" + name + "-" +
                                     std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                     "-" + std::to_string(::getpid()));
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

const char* kHead = "name: t\nbase: {arch: fusemax, workload: bert-base, seq: 1024}\n";

TEST(SweepRange, GeometricAndLinear) {
  const SweepSpec s = parse_sweep_text(std::string(kHead) +
                                           "axes:\n"
                                           "  - arch.arrays.array_2d.rows: {from: 16, to: 512, times: 2}\n"
                                           "  - batch: {from: 1, to: 10, step: 3}\n",
                                       "s.yaml");
  ASSERT_EQ(s.axes.size(), 2u);
  std::vector<std::string> rows, batch;
  for (const auto& v : s.axes[0].values) rows.push_back(v[0]);
  for (const auto& v : s.axes[1].values) batch.push_back(v[0]);
  EXPECT_EQ(rows, (std::vector<std::string>{"16", "32", "64", "128", "256", "512"}));
  EXPECT_EQ(batch, (std::vector<std::string>{"1", "4", "7", "10"}));
}

TEST(SweepRange, Errors) {
  EXPECT_EQ(error_of(std::string(kHead) + "axes:\n  - batch: {from: 4, to: 1, step: 1}\n"),
            "s.yaml:4:12: error: a range from 4 down to 1: 'to' must be >= 'from'");
  EXPECT_EQ(error_of(std::string(kHead) + "axes:\n  - batch: {from: 1, to: 8, times: 1}\n"),
            "s.yaml:4:36: error: 'times' must be greater than 1");
  EXPECT_EQ(error_of(std::string(kHead) + "axes:\n  - batch: {from: 1, to: 8}\n"),
            "s.yaml:4:12: error: a range is {from: A, to: B, step: S} or {from: A, to: B, times: F}");
}

// rows and cols 16..512 (powers of two); where rows * cols <= 65536: the points kept are
// those of the brute-force count, and only they are computed and written.
TEST(SweepWhere, KeepsExactlyThePointsThatSatisfyIt) {
  const SweepSpec s = parse_sweep_text(
      std::string(kHead) +
          "where: arch.arrays.array_2d.rows * arch.arrays.array_2d.cols <= 65536\n"
          "axes:\n"
          "  - arch.arrays.array_2d.rows: {from: 16, to: 512, times: 2}\n"
          "  - arch.arrays.array_2d.cols: {from: 16, to: 512, times: 2}\n",
      "s.yaml");
  size_t expected = 0;
  for (int r = 16; r <= 512; r *= 2)
    for (int c = 16; c <= 512; c *= 2) expected += r * c <= 65536 ? 1 : 0;
  ASSERT_EQ(expected, 33u);  // 2^a * 2^b <= 2^16 for a, b in 4..9: 36 pairs less 3
  SweepOptions o;
  o.db = temp_dir("where") + "/db.sqlite";
  o.csv = o.db + ".csv";
  o.progress = false;
  const SweepSummary sum = run_sweep(s, o, find);
  EXPECT_EQ(sum.points, 36u);
  EXPECT_EQ(sum.excluded, 36u - expected);
  EXPECT_EQ(sum.computed, expected);
  EXPECT_EQ(sum.written, expected);
  SweepDatabase db(o.db);
  EXPECT_EQ(db.ok_points("t").size() + sum.failed, expected);
}

TEST(SweepWhere, LogicStringsAndFunctions) {
  const std::set<std::string> names = {"seq", "mapper", "arch.clock_mhz"};
  const SourceLocation at{"s.yaml", 3, 8};
  const std::map<std::string, std::string> p = {{"seq", "4096"}, {"mapper", "fusemax"},
                                                {"arch.clock_mhz", "1000"}};
  auto holds = [&](const std::string& e) { return SweepExpression(e, at, names).holds(p); };
  EXPECT_TRUE(holds("seq >= 4096 and mapper == \"fusemax\""));
  EXPECT_FALSE(holds("not (seq >= 4096) or mapper != 'fusemax'"));
  EXPECT_TRUE(holds("max(seq, 2 * arch.clock_mhz) == 4096 and min(seq, 3) == 3"));
  EXPECT_TRUE(holds("seq % 1000 == 96 and -seq + 4097 == 1 and seq / 4 - 1 * 2 == 1022"));
  auto error = [&](const std::string& e) {
    try {
      SweepExpression(e, at, names).holds(p);
    } catch (const Error& err) {
      return std::string(err.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("seq <= 4096 and sqe > 1"),
            "s.yaml:3:24: error: in 'where: seq <= 4096 and sqe > 1': 'sqe' is not a setting of "
            "this sweep (did you mean 'seq'?)");
  EXPECT_EQ(error("seq <= (4096"), "s.yaml:3:20: error: in 'where: seq <= (4096': expected ')'");
  EXPECT_EQ(error("mapper < 3"),
            "s.yaml:3:8: error: in 'where: mapper < 3': 'fusemax' is not a number");
  EXPECT_EQ(error("mapper == 3"),
            "s.yaml:3:15: error: in 'where: mapper == 3': compares a number with a string");
}

TEST(SweepWhere, ErrorInFileAtItsColumn) {
  EXPECT_EQ(error_of(std::string(kHead) + "where: seq <= 4096 and rows > 1\naxes: []\n"),
            "s.yaml:3:24: error: in 'where: seq <= 4096 and rows > 1': 'rows' is not a setting "
            "of this sweep (settings: arch, seq, workload)");
}

TEST(SweepSettings, FidelityAndMapperNames) {
  // Both fidelities are accepted (tests/cli/sweep_fidelity.sh runs cycle points).
  EXPECT_EQ(parse_sweep_text(std::string(kHead) + "axes:\n  - fidelity: [analytical, cycle]\n",
                             "s.yaml").points(),
            2u);
  EXPECT_EQ(error_of(std::string(kHead) + "axes:\n  - fidelity: [fast]\n"),
            "s.yaml:4:16: error: 'fidelity' must be analytical or cycle, got 'fast'");
  // An unknown mapper name is neither a registered mapper nor a mapping file.
  const std::string unknown = error_of(std::string(kHead) + "axes:\n  - mapper: [fusemax, no-such-mapper]\n");
  EXPECT_NE(unknown.find("s.yaml:4:23: error:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("mapper 'no-such-mapper' is not a registered mapper (fusemax"),
            std::string::npos) << unknown;
  // Registered names pass through to the design point.
  EXPECT_EQ(error_of(std::string(kHead) + "axes:\n  - mapper: [fusemax, generic]\n  - fidelity: [analytical]\n"), "");
}

// A handmade database: random figures on a small grid (so ties and duplicates occur), a
// failed row; the front against the definition, checked pair by pair.
TEST(SweepReport, ParetoFrontIsTheBruteForceOne) {
  const std::string db_file = temp_dir("pareto") + "/db.sqlite";
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> grid(1, 6);
  std::vector<SweepResult> made;
  {
    SweepDatabase db(db_file);
    db.begin();
    for (size_t i = 0; i < 300; ++i) {
      SweepResult r;
      r.index = i;
      r.key = "k" + std::to_string(i);
      r.values_json = "{\"i\":" + std::to_string(i) + "}";
      r.ok = i % 37 != 5;
      r.error = r.ok ? "" : "failed";
      // Latency and energy trade against area (a front of many points), with duplicates.
      const int a = grid(rng), b = grid(rng);
      r.latency_s = a * 1e-3;
      r.energy_j = b * 0.5;
      r.area_mm2 = (13 - a - b + grid(rng) % 2) * 10.0;
      if (r.ok) made.push_back(r);
      db.put("t", r);
    }
    db.commit();
  }
  const SweepReport report = sweep_report(db_file, "t");
  ASSERT_EQ(report.points.size(), made.size());
  std::vector<size_t> brute;
  for (size_t i = 0; i < made.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < made.size() && !dominated; ++j) {
      const SweepResult &a = made[j], &b = made[i];
      dominated = a.latency_s <= b.latency_s && a.energy_j <= b.energy_j &&
                  a.area_mm2 <= b.area_mm2 &&
                  (a.latency_s < b.latency_s || a.energy_j < b.energy_j || a.area_mm2 < b.area_mm2);
    }
    if (!dominated) brute.push_back(made[i].index);
  }
  std::vector<size_t> front;
  for (size_t i : report.front) front.push_back(report.points[i].index);
  EXPECT_EQ(front, brute);
  EXPECT_GT(brute.size(), 1u);
  double best_latency = 1e9;
  for (const SweepResult& r : made) best_latency = std::min(best_latency, r.latency_s);
  EXPECT_EQ(report.points[report.best_latency].latency_s, best_latency);
  EXPECT_THROW(sweep_report(db_file + ".missing", ""), Error);
  EXPECT_THROW(sweep_report(db_file, "other-sweep"), Error);
}

}  // namespace
}  // namespace cascade
