// Architecture files, energy and area. Every expected number here is written down from
// the source it comes from (the FuseMax paper / its artifact for the shipped configs) or
// computed by hand in the comment next to it (configs/arch/tiny.yaml) -- never by calling
// the code under test a second way.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/error_of.h"
#include "tests/support/bad_files.h"
#include "arch/arch_spec.h"
#include "arch/energy.h"

namespace cascade {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = CASCADE_SOURCE_DIR;
const std::string kArchDir = kSourceDir + "/configs/arch/";

using testing_support::error_of;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// ---------------------------------------------------------------------------------------
// The shipped configs against the paper's / artifact's numbers.

TEST(FuseMaxConfig, ClockWordsAndArrays) {
  const ArchSpec arch = load_arch(kArchDir + "fusemax.yaml");
  EXPECT_EQ(arch.name, "fusemax");
  EXPECT_DOUBLE_EQ(arch.clock_hz, 940e6);  // 940 MHz
  EXPECT_EQ(arch.word_bits, 16);
  EXPECT_DOUBLE_EQ(arch.word_bytes(), 2.0);
  EXPECT_FALSE(arch.charge_leakage);  // the paper does not charge leakage

  const PeArray& a2 = arch.array("array_2d");
  EXPECT_EQ(a2.rows, 256);
  EXPECT_EQ(a2.cols, 256);
  EXPECT_EQ(a2.pes(), 65536);
  EXPECT_EQ(a2.register_file, "rf_2d");
  EXPECT_EQ(a2.register_file_entries, 16);
  for (const char* op : {"mac", "add", "max", "exp"}) EXPECT_TRUE(a2.supports(op)) << op;
  EXPECT_FALSE(a2.supports("divide"));
  // exp on the 2D PE = 6 MACs + 1 add, 7 issue slots.
  EXPECT_EQ(a2.ops.at("exp"), (std::map<std::string, double>{{"mac", 6}, {"add", 1}}));
  EXPECT_DOUBLE_EQ(a2.cycles_of("exp"), 7);
  EXPECT_DOUBLE_EQ(a2.cycles_of("mac"), 1);
  const std::vector<OpAction>& exp2d = a2.actions_of("exp");
  ASSERT_EQ(exp2d.size(), 2u);
  for (const OpAction& oa : exp2d) {
    if (oa.action == "mac") {
      EXPECT_EQ(oa.component, "mac_2d");
      EXPECT_DOUBLE_EQ(oa.count, 6);
    } else {
      EXPECT_EQ(oa.action, "add");
      EXPECT_EQ(oa.component, "add_2d");
      EXPECT_DOUBLE_EQ(oa.count, 1);
    }
  }
  EXPECT_THROW(a2.cycles_of("divide"), Error);
  EXPECT_THROW(a2.actions_of("divide"), Error);

  const PeArray& a1 = arch.array("array_1d");
  EXPECT_EQ(a1.rows, 1);
  EXPECT_EQ(a1.pes(), 256);
  EXPECT_EQ(a1.register_file_entries, 32);
  for (const char* op : {"max", "add", "mac", "divide", "exp"}) EXPECT_TRUE(a1.supports(op)) << op;
  // exp on the 1D PE's MAC: 6 MACs + 1 add.
  EXPECT_EQ(a1.ops.at("exp"), (std::map<std::string, double>{{"mac", 6}, {"add", 1}}));
  EXPECT_DOUBLE_EQ(a1.cycles_of("exp"), 7);
  EXPECT_DOUBLE_EQ(a1.cycles_of("divide"), 1);
  // The 1D register buffer: 32 words x 256 PEs = 8192 words = 16384 bytes.
  EXPECT_DOUBLE_EQ(arch.component("rf_1d").capacity_bytes * arch.instances_of("rf_1d"), 16384);
  EXPECT_EQ(arch.instances_of("mac_2d"), 65536);
  EXPECT_EQ(arch.component("mac_2d").instances, 65536);
  EXPECT_EQ(arch.instances_of("divide_1d"), 256);
}

TEST(FuseMaxConfig, MemoriesEnergiesAndAreas) {
  const ArchSpec arch = load_arch(kArchDir + "fusemax.yaml");
  const Component* dram = arch.dram();
  ASSERT_NE(dram, nullptr);
  EXPECT_EQ(dram->access_bits, 64);
  EXPECT_DOUBLE_EQ(dram->bandwidth_bytes_per_s, 400.0 * 1024 * 1024 * 1024);  // 400 GiB/s
  EXPECT_DOUBLE_EQ(dram->energy_pj.at("read"), 249.6);                        // per 64-bit access
  EXPECT_DOUBLE_EQ(dram->energy_pj.at("write"), 249.6);

  const Component* glb = arch.global_buffer();
  ASSERT_NE(glb, nullptr);
  EXPECT_EQ(glb->name, "global_buffer");
  EXPECT_DOUBLE_EQ(glb->capacity_bytes, 16.0 * 1024 * 1024);  // 16 MB
  EXPECT_EQ(glb->banks, 32);
  EXPECT_EQ(glb->row_bits, 4096);
  EXPECT_NEAR(glb->energy_pj.at("read"), 484.97, 0.01);
  EXPECT_NEAR(glb->energy_pj.at("write"), 451.30, 0.01);

  // 45 nm energies (pJ) and areas (um^2).
  EXPECT_DOUBLE_EQ(arch.component("mac_2d").energy_pj.at("mac"), 17.1645);
  EXPECT_DOUBLE_EQ(arch.component("add_2d").energy_pj.at("add"), 8.3395);
  EXPECT_NEAR(arch.component("max_2d").energy_pj.at("max"), 0.028, 1e-4);
  EXPECT_NEAR(arch.component("divide_1d").energy_pj.at("divide"), 36.251, 1e-3);
  EXPECT_NEAR(arch.component("rf_2d").energy_pj.at("read"), 2.194, 1e-3);
  EXPECT_NEAR(arch.component("rf_2d").energy_pj.at("write"), 1.906, 1e-3);
  EXPECT_EQ(arch.component("rf_2d").access_bits, 16);
  EXPECT_DOUBLE_EQ(arch.component("mac_2d").area_um2, 1545);
  EXPECT_DOUBLE_EQ(arch.component("add_2d").area_um2, 1030);
  EXPECT_NEAR(arch.component("max_2d").area_um2, 49.29, 0.01);
  EXPECT_NEAR(arch.component("divide_1d").area_um2, 23740.9, 0.1);
  EXPECT_NEAR(arch.component("rf_1d").area_um2, 16849, 1);

  // Area by hand: 2D PE = RF 16849.2142 + MAC 1545 + max 49.28944 = 18443.50364 (the adder
  // is inside the MAC), x 65536 = 1208713454.55; 1D PE = 16849.2142 + 1545 + 49.28944 +
  // divide 23740.9375 = 42184.44114, x 256 = 10799216.93; buffer 47088255.9664;
  // total 1266600927.45 um^2.
  const AreaReport area = compute_area(arch);
  EXPECT_NEAR(area.total_um2, 1266600927.45, 1.0);
  EXPECT_NEAR(area.by_component_um2.at("rf_2d"), 16849.2142 * 65536, 1e-3);
  EXPECT_EQ(area.by_component_um2.count("add_2d"), 0u);
  EXPECT_DOUBLE_EQ(area.by_component_um2.at("dram"), 0);
}

TEST(FlatConfig, ValuesFromThePaper) {
  const ArchSpec arch = load_arch(kArchDir + "flat.yaml");
  EXPECT_DOUBLE_EQ(arch.clock_hz, 940e6);
  EXPECT_DOUBLE_EQ(arch.global_buffer()->capacity_bytes, 32.0 * 1024 * 1024);  // 32 MB L3
  EXPECT_NEAR(arch.global_buffer()->energy_pj.at("read"), 484.97, 0.01);
  EXPECT_EQ(arch.array("array_2d").pes(), 65536);
  EXPECT_EQ(arch.array("array_2d").register_file_entries, 4);  // FLAT's 2D RF depth
  EXPECT_FALSE(arch.array("array_2d").supports("exp"));
  EXPECT_FALSE(arch.array("array_2d").supports("max"));
  const PeArray& a1 = arch.array("array_1d");
  EXPECT_EQ(a1.pes(), 256);
  // FLAT's 1D PE has an exponential unit: exp = {exp: 1}, one issue slot.
  EXPECT_EQ(a1.ops.at("exp"), (std::map<std::string, double>{{"exp", 1}}));
  EXPECT_DOUBLE_EQ(a1.cycles_of("exp"), 1);
  ASSERT_EQ(a1.actions_of("exp").size(), 1u);
  EXPECT_EQ(a1.actions_of("exp")[0].component, "exp_1d");
  EXPECT_NEAR(arch.component("exp_1d").energy_pj.at("exp"), 94.65, 0.01);
  EXPECT_DOUBLE_EQ(arch.component("exp_1d").area_um2, 8240);
  // Area by hand: 2D PE = RF 16849.2142 + MAC 1545 = 18394.2142, x 65536 = 1205483221.81;
  // 1D PE = 16849.2142 + 1545 + max 49.28944 + exp 8240 + divide 23740.9375 = 50424.44114,
  // x 256 = 12908656.93; L3 94176255.9664; total 1312568134.71 um^2.
  EXPECT_NEAR(compute_area(arch).total_um2, 1312568134.71, 1.0);
}

TEST(UnfusedConfig, SameHardwareAsFlat) {
  const ArchSpec flat = load_arch(kArchDir + "flat.yaml");
  const ArchSpec unfused = load_arch(kArchDir + "unfused.yaml");
  EXPECT_EQ(unfused.name, "unfused");
  EXPECT_EQ(unfused.clock_hz, flat.clock_hz);
  EXPECT_EQ(unfused.word_bits, flat.word_bits);
  EXPECT_EQ(unfused.charge_leakage, flat.charge_leakage);
  ASSERT_EQ(unfused.components.size(), flat.components.size());
  for (size_t i = 0; i < flat.components.size(); ++i) {
    const Component& f = flat.components[i];
    const Component& u = unfused.components[i];
    SCOPED_TRACE(f.name);
    EXPECT_EQ(u.name, f.name);
    EXPECT_EQ(u.kind, f.kind);
    EXPECT_EQ(u.instances, f.instances);
    EXPECT_EQ(u.capacity_bytes, f.capacity_bytes);
    EXPECT_EQ(u.access_bits, f.access_bits);
    EXPECT_EQ(u.banks, f.banks);
    EXPECT_EQ(u.row_bits, f.row_bits);
    EXPECT_EQ(u.bandwidth_bytes_per_s, f.bandwidth_bytes_per_s);
    EXPECT_EQ(u.energy_pj, f.energy_pj);
    EXPECT_EQ(u.area_um2, f.area_um2);
    EXPECT_EQ(u.area_included_in, f.area_included_in);
    EXPECT_EQ(u.leakage_pw, f.leakage_pw);
  }
  ASSERT_EQ(unfused.arrays.size(), flat.arrays.size());
  for (size_t i = 0; i < flat.arrays.size(); ++i) {
    const PeArray& f = flat.arrays[i];
    const PeArray& u = unfused.arrays[i];
    SCOPED_TRACE(f.name);
    EXPECT_EQ(u.name, f.name);
    EXPECT_EQ(u.rows, f.rows);
    EXPECT_EQ(u.cols, f.cols);
    EXPECT_EQ(u.register_file, f.register_file);
    EXPECT_EQ(u.register_file_entries, f.register_file_entries);
    EXPECT_EQ(u.ops, f.ops);
    EXPECT_EQ(u.op_cycles, f.op_cycles);
    EXPECT_EQ(u.pe_components, f.pe_components);
  }
}

// Every value a paper gives has a citation next to it: each line that sets energy_pj,
// area_um2, capacity, clock, bandwidth, rows/cols or an RF size carries a comment, or the
// comment block right above it does.
TEST(ShippedConfigs, EveryNumberIsCited) {
  for (const char* file : {"fusemax.yaml", "flat.yaml", "unfused.yaml"}) {
    SCOPED_TRACE(file);
    std::ifstream in(kArchDir + file);
    ASSERT_TRUE(in);
    std::string line;
    bool previous_is_comment = false;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const size_t first = line.find_first_not_of(' ');
      const bool is_comment = first != std::string::npos && line[first] == '#';
      for (const char* key :
           {"energy_pj:", "area_um2:", "capacity_bytes:", "clock_mhz:", "bandwidth_gib_per_s:",
            "rows:", "cols:", "register_file_entries:", "access_bits:", "banks:", "row_bits:"}) {
        if (!is_comment && contains(line, key)) {
          EXPECT_TRUE(contains(line, "#") || previous_is_comment)
              << file << ":" << number << " has no citation: " << line;
        }
      }
      previous_is_comment = is_comment;
    }
  }
}

// ---------------------------------------------------------------------------------------
// configs/arch/tiny.yaml: parsing, energy, area, leakage -- by hand.

TEST(TinyArch, Parsed) {
  const ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  EXPECT_DOUBLE_EQ(arch.clock_hz, 1e9);
  EXPECT_DOUBLE_EQ(arch.component("glb").capacity_bytes, 1024);  // 512 words x 2 bytes
  EXPECT_EQ(arch.component("glb").banks, 2);
  EXPECT_EQ(arch.component("glb").row_bits, 128);
  EXPECT_DOUBLE_EQ(arch.component("dram").bandwidth_bytes_per_s, 8e9);
  EXPECT_DOUBLE_EQ(arch.component("rf_2d").capacity_bytes, 8);   // 4 entries x 2 bytes
  EXPECT_DOUBLE_EQ(arch.component("rf_1d").capacity_bytes, 16);  // 8 entries x 2 bytes
  EXPECT_EQ(arch.component("rf_2d").access_bits, 16);            // default: one word
  EXPECT_EQ(arch.component("rf_2d").kind, ComponentKind::RegisterFile);
  EXPECT_EQ(arch.component("glb").kind, ComponentKind::Buffer);
  EXPECT_EQ(arch.component("dram").kind, ComponentKind::Dram);
  EXPECT_EQ(arch.instances_of("rf_2d"), 8);   // 2 x 4 PEs
  EXPECT_EQ(arch.instances_of("exp_1d"), 4);  // 4 PEs
  EXPECT_EQ(arch.instances_of("glb"), 1);
  EXPECT_EQ(arch.array_of("mac_2d")->name, "array_2d");
  EXPECT_EQ(arch.array_of("glb"), nullptr);
  EXPECT_DOUBLE_EQ(arch.array("array_1d").cycles_of("exp"), 4);  // op_cycles
  EXPECT_DOUBLE_EQ(arch.array("array_2d").cycles_of("exp"), 7);  // 6 + 1
  ASSERT_EQ(arch.array("array_1d").actions_of("exp").size(), 1u);
  EXPECT_EQ(arch.array("array_1d").actions_of("exp")[0].component, "exp_1d");
  EXPECT_EQ(arch.array("array_1d").ops.at("exp"), (std::map<std::string, double>{{"exp", 1}}));
  EXPECT_EQ(arch.component("mac_2d").loc.line, 31);
  EXPECT_EQ(arch.component("mac_2d").loc.column, 11);
}

// What a model counts (sim/model/stats.h has the full Stats; energy needs only these).
struct Counts {
  ActionCounts actions;
  double cycles = 0;
  void add(const std::string& component, const std::string& action, double count) {
    actions[component][action] += count;
  }
};

EnergyReport compute_energy(const ArchSpec& arch, const Counts& counts) {
  return cascade::compute_energy(arch, counts.actions, counts.cycles);
}

Counts tiny_stats() {
  Counts s;
  s.add("dram", "read", 10);    // 10 x 100  = 1000
  s.add("dram", "write", 5);    //  5 x 120  =  600
  s.add("glb", "read", 20);     // 20 x 10   =  200
  s.add("glb", "write", 10);    // 10 x 12   =  120
  s.add("rf_2d", "read", 100);  // 100 x 1   =  100
  s.add("rf_2d", "write", 50);  // 50 x 2    =  100
  s.add("mac_2d", "mac", 64);   // 64 x 3    =  192
  s.add("add_2d", "add", 8);    //  8 x 1.5  =   12
  s.add("exp_1d", "exp", 4);    //  4 x 40   =  160
  s.cycles = 1000;              // 1 us at 1 GHz
  return s;                     // total 2484 pJ
}

TEST(TinyArch, EnergyByHand) {
  const ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  const EnergyReport e = compute_energy(arch, tiny_stats());
  EXPECT_DOUBLE_EQ(e.total_pj, 2484);
  EXPECT_DOUBLE_EQ(e.leakage_pj, 0);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("dram"), 1600);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("glb"), 320);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("rf_2d"), 200);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("mac_2d"), 192);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("add_2d"), 12);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("exp_1d"), 160);
  EXPECT_EQ(e.by_component_pj.count("mac_1d"), 0u);  // no actions, no leakage charged
  // By level: DRAM, the buffer, the register files, compute (192 + 12 + 160).
  EXPECT_DOUBLE_EQ(e.by_level_pj.at("dram"), 1600);
  EXPECT_DOUBLE_EQ(e.by_level_pj.at("buffer"), 320);
  EXPECT_DOUBLE_EQ(e.by_level_pj.at("register_file"), 200);
  EXPECT_DOUBLE_EQ(e.by_level_pj.at("compute"), 364);
}

TEST(TinyArch, RegisterFilesChargedForOnePe) {
  ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  EXPECT_EQ(arch.register_file_energy, ArchSpec::RegisterFileEnergy::AllInstances);
  arch.register_file_energy = ArchSpec::RegisterFileEnergy::OneInstance;
  // rf_2d is per PE of the 2x4 array: (100 x 1 + 50 x 2) / 8 = 25 pJ instead of 200;
  // everything else as in EnergyByHand. Total 2484 - 200 + 25 = 2309 pJ.
  const EnergyReport e = compute_energy(arch, tiny_stats());
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("rf_2d"), 25);
  EXPECT_DOUBLE_EQ(e.by_component_pj.at("glb"), 320);  // a buffer is not a register file
  EXPECT_DOUBLE_EQ(e.total_pj, 2309);
  EXPECT_EQ(register_file_energy_name(parse_register_file_energy("one_instance")), "one_instance");
  EXPECT_EQ(register_file_energy_name(parse_register_file_energy("all_instances")),
            "all_instances");
  EXPECT_THROW(parse_register_file_energy("per_pe"), Error);
}

TEST(TinyArch, LeakageOnlyWhenCharged) {
  ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  arch.charge_leakage = true;
  // 1000 cycles at 1 GHz = 1e-6 s. pW x s = pJ:
  //   glb    1 x 2e6 pW x 1e-6 s = 2.0 pJ
  //   rf_2d  8 x 1e5 pW x 1e-6 s = 0.8 pJ
  //   mac_2d 8 x 5e4 pW x 1e-6 s = 0.4 pJ
  // leakage 3.2 pJ; total 2484 + 3.2 = 2487.2 pJ.
  const EnergyReport e = compute_energy(arch, tiny_stats());
  EXPECT_NEAR(e.leakage_pj, 3.2, 1e-9);
  EXPECT_NEAR(e.total_pj, 2487.2, 1e-9);
  EXPECT_NEAR(e.by_component_pj.at("glb"), 322, 1e-9);
  EXPECT_NEAR(e.by_component_pj.at("rf_2d"), 200.8, 1e-9);
  EXPECT_NEAR(e.by_component_pj.at("mac_2d"), 192.4, 1e-9);

  // Twice the cycles, twice the leakage.
  Counts longer = tiny_stats();
  longer.cycles = 2000;
  EXPECT_NEAR(compute_energy(arch, longer).leakage_pj, 6.4, 1e-9);

  arch.charge_leakage = false;
  EXPECT_DOUBLE_EQ(compute_energy(arch, longer).leakage_pj, 0);
  EXPECT_DOUBLE_EQ(compute_energy(arch, longer).total_pj, 2484);

  arch.charge_leakage = true;
  Counts no_cycles = tiny_stats();
  no_cycles.cycles = std::nan("");
  EXPECT_THROW(compute_energy(arch, no_cycles), Error);
}

TEST(TinyArch, AreaByHand) {
  ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  // glb 1 x 5000 = 5000; rf_2d 8 x 100 = 800; mac_2d 8 x 50 = 400; add_2d is inside
  // mac_2d (skipped); rf_1d 4 x 60 = 240; mac_1d 4 x 50 = 200; exp_1d 4 x 400 = 1600;
  // dram 0. Total 8240 um^2.
  const AreaReport a = compute_area(arch);
  EXPECT_DOUBLE_EQ(a.total_um2, 8240);
  EXPECT_DOUBLE_EQ(a.by_component_um2.at("glb"), 5000);
  EXPECT_DOUBLE_EQ(a.by_component_um2.at("rf_2d"), 800);
  EXPECT_DOUBLE_EQ(a.by_component_um2.at("exp_1d"), 1600);
  EXPECT_EQ(a.by_component_um2.count("add_2d"), 0u);

  // A sweep that doubles the 2D rows adds 8 PEs x (rf 100 + mac 50) = 1200 um^2.
  arch.arrays[0].rows = 4;
  EXPECT_EQ(arch.instances_of("mac_2d"), 16);
  EXPECT_DOUBLE_EQ(compute_area(arch).total_um2, 9440);
  validate_arch(arch);
}

TEST(TinyArch, MissingEnergyIsAnError) {
  const ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  Counts s;
  s.add("mac_2d", "exp", 3);
  const Error missing = error_of([&] { compute_energy(arch, s); });
  EXPECT_TRUE(contains(missing.message(), "component 'mac_2d'")) << missing.what();
  EXPECT_TRUE(contains(missing.message(), "action 'exp'")) << missing.what();
  EXPECT_EQ(missing.where().file, kArchDir + "tiny.yaml");
  EXPECT_EQ(missing.where().line, 31);  // where mac_2d is defined

  Counts unknown;
  unknown.add("mac2d", "mac", 1);
  const Error unknown_error = error_of([&] { compute_energy(arch, unknown); });
  EXPECT_TRUE(contains(unknown_error.message(), "component 'mac2d'")) << unknown_error.what();
  EXPECT_TRUE(contains(unknown_error.message(), "did you mean 'mac_2d'")) << unknown_error.what();

  // A zero count of an action without energy is still an error: never a silent 0.
  Counts zero;
  zero.add("glb", "update", 0);
  EXPECT_THROW(compute_energy(arch, zero), Error);

  Counts negative;
  negative.add("mac_2d", "mac", -1);
  EXPECT_THROW(compute_energy(arch, negative), Error);
  Counts not_a_number;
  not_a_number.add("mac_2d", "mac", std::nan(""));
  EXPECT_THROW(compute_energy(arch, not_a_number), Error);
}

TEST(TinyArch, LookupErrorsSuggest) {
  const ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  const Error c = error_of([&] { arch.component("glbb"); });
  EXPECT_TRUE(contains(c.message(), "did you mean 'glb'")) << c.what();
  const Error a = error_of([&] { arch.array("array_3d"); });
  EXPECT_TRUE(contains(a.message(), "array_3d")) << a.what();
  EXPECT_EQ(arch.find_component("nothing"), nullptr);
  EXPECT_EQ(arch.find_array("nothing"), nullptr);
  EXPECT_THROW(arch.instances_of("nothing"), Error);
}

// ---------------------------------------------------------------------------------------
// Format details through parse_arch_text.

const char* kMapForm = R"(name: m
clock_mhz: 500
components:
  rf: {kind: register_file, energy_pj: {read: 1, write: 2}, area_um2: 10}
  mac: {kind: compute, energy_pj: {mac: 3}, area_um2: 5}
arrays:
  pe: {rows: 2, cols: 3, register_file: rf, register_file_entries: 2, pe_components: [mac], ops: {mac: {mac: 1}}}
)";

const char* kListForm = R"(name: l
clock_hz: 5.0e8
components:
  - {name: rf, kind: register_file, energy_pj: {read: 1, write: 2}, area_um2: 10}
  - {name: mac, kind: compute, energy_pj: {mac: 3}, area_um2: 5}
arrays:
  - {name: pe, rows: 2, cols: 3, register_file: rf, register_file_entries: 2, pe_components: [mac], ops: {mac: {mac.mac: 1}}}
)";

TEST(ArchFormat, MapAndListFormsAgree) {
  const ArchSpec m = parse_arch_text(kMapForm, "m.yaml");
  const ArchSpec l = parse_arch_text(kListForm, "l.yaml");
  EXPECT_DOUBLE_EQ(m.clock_hz, 5e8);
  EXPECT_DOUBLE_EQ(l.clock_hz, 5e8);
  // 6 PEs x (10 + 5) = 90 um^2.
  EXPECT_DOUBLE_EQ(compute_area(m).total_um2, 90);
  EXPECT_DOUBLE_EQ(compute_area(l).total_um2, 90);
  EXPECT_EQ(m.array("pe").ops, l.array("pe").ops);
  EXPECT_EQ(l.array("pe").actions_of("mac")[0].component, "mac");
  EXPECT_EQ(m.component("rf").capacity_bytes, 4);  // 2 entries x 16 bits
  EXPECT_EQ(m.file, "m.yaml");
}

TEST(ArchFormat, ClockGivenTwice) {
  const std::string text = std::string(kMapForm) + "clock_hz: 5.0e8\n";
  const Error e = error_of([&] { parse_arch_text(text, "twice.yaml"); });
  EXPECT_EQ(e.where().line, 8);
  EXPECT_TRUE(contains(e.message(), "either 'clock_hz' or 'clock_mhz'")) << e.what();
}

TEST(ArchFormat, AmbiguousBareActionNeedsAComponent) {
  const char* text = R"(name: a
clock_mhz: 1
components:
  mac_a: {kind: compute, energy_pj: {mac: 1}, area_um2: 1}
  mac_b: {kind: compute, energy_pj: {mac: 2}, area_um2: 1}
arrays:
  pe: {cols: 1, pe_components: [mac_a, mac_b], ops: {mac: {mac: 1}}}
)";
  const Error e = error_of([&] { parse_arch_text(text, "a.yaml"); });
  EXPECT_EQ(e.where().line, 7);
  EXPECT_TRUE(contains(e.message(), "ambiguous")) << e.what();
  EXPECT_TRUE(contains(e.message(), "mac_a.mac")) << e.what();
}

TEST(ArchFormat, RegisterFileCapacityMustAgreeWithEntries) {
  const char* text = R"(name: r
clock_mhz: 1
components:
  rf: {kind: register_file, capacity_words: 8, energy_pj: {read: 1, write: 1}, area_um2: 1}
  mac: {kind: compute, energy_pj: {mac: 1}, area_um2: 1}
arrays:
  pe: {cols: 1, register_file: rf, register_file_entries: 4, pe_components: [mac], ops: {mac: {mac: 1}}}
)";
  const Error e = error_of([&] { parse_arch_text(text, "r.yaml"); });
  EXPECT_EQ(e.where().line, 4);
  EXPECT_TRUE(contains(e.message(), "register_file_entries: 4")) << e.what();
}

TEST(ArchFormat, ValidateCatchesEditedSpecs) {
  ArchSpec arch = load_arch(kArchDir + "tiny.yaml");
  validate_arch(arch);
  ArchSpec zero = arch;
  zero.arrays[1].cols = 0;
  EXPECT_THROW(validate_arch(zero), Error);
  ArchSpec no_energy = arch;
  no_energy.arrays[0].op_actions["mac"][0].action = "fma";
  no_energy.arrays[0].ops["mac"] = {{"fma", 1}};
  const Error e = error_of([&] { validate_arch(no_energy); });
  EXPECT_TRUE(contains(e.message(), "needs action 'fma' of component 'mac_2d'")) << e.what();
  ArchSpec out_of_step = arch;
  out_of_step.arrays[0].ops["mac"] = {{"mac", 2}};
  EXPECT_THROW(validate_arch(out_of_step), Error);
  ArchSpec bad_rf = arch;
  bad_rf.arrays[0].register_file = "mac_2d";
  EXPECT_THROW(validate_arch(bad_rf), Error);
}

// ---------------------------------------------------------------------------------------
// Malformed files: tests/data/bad-arch/expected.txt gives each file's error location and a
// fragment of its message.

TEST(BadArch, EachFailsAtTheExpectedLocation) {
  testing_support::check_bad_files(
      kSourceDir + "/tests/data/bad-arch", [](const std::string& path) { load_arch(path); }, 10u);
}

TEST(BadArch, MissingFile) {
  const Error err = error_of([] { load_arch("/nonexistent/arch.yaml"); });
  EXPECT_EQ(err.where().file, "/nonexistent/arch.yaml");
  EXPECT_TRUE(contains(err.message(), "cannot open"));
}

}  // namespace
}  // namespace cascade
