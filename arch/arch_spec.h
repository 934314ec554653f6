// The hardware description (configs/arch/*.yaml; format in configs/arch/README.md).
//
// An architecture is a list of components, each with a kind, an instance count and an
// energy-per-action / area table (Accelergy-style), and the PE arrays built from them.
// Energy is always sum over components and actions of count x energy-per-action
// (arch/energy.h); fidelities differ only in how they count. Units: energy in pJ per action, area in um^2 per instance, capacity in
// bytes, bandwidth in bytes/s, clock in Hz.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/support/error.h"

namespace cascade {

enum class ComponentKind { Dram, Buffer, RegisterFile, Compute };
std::string to_string(ComponentKind kind);  // dram, buffer, register_file, compute

// What a mapper uses an array for (`role:` in the architecture file). Mappers find arrays by
// role, never by name: `matrix` runs contractions and tile-shaped Einsums (FuseMax's 2D
// array), `vector` runs row-shaped Einsums and running state (its 1D array). An array
// without a role is used only where a mapping names it or a mapper looks for PEs that
// support an operation (a GPU's FP32 lanes).
enum class ArrayRole { None, Matrix, Vector };

// How a 2D array's systolic fill and drain cost time (`fill_drain:` in the architecture
// file). none: not at all (the FuseMax paper's model); per_fold: every fold fills and drains
// before the next (SCALE-Sim's count, 2R + C + T - 2 per fold); overlapped: the next fold's
// load or this fold's drain runs under the streaming (a fold every max(T, R) cycles).
enum class FillDrain { None, PerFold, Overlapped };
std::string to_string(FillDrain policy);
std::string to_string(ArrayRole role);  // none, matrix, vector
// What an array of the role is for, in words (for messages).
std::string role_purpose(ArrayRole role);

// One component type, e.g. the 2D array's MAC units (instances = 65536), the global
// buffer (instances = 1), the 2D array's register files (one per PE).
struct Component {
  std::string name;  // unique: "dram", "global_buffer", "rf_2d", "mac_2d", "exp_1d", ...
  ComponentKind kind = ComponentKind::Compute;
  int64_t instances = 1;
  // Memories: capacity and access width. A "read"/"write" action moves access_bits.
  double capacity_bytes = 0;
  int access_bits = 0;
  int banks = 1;
  int row_bits = 0;
  int ports = 1;  // accesses one bank serves per cycle (the cycle-level model's bank timing)
  double bandwidth_bytes_per_s = 0;  // DRAM (and optionally buffers); 0 = unconstrained
  double latency_cycles = 0;         // memories: cycles from request to data (pipelined)
  int burst_bytes = 0;               // DRAM: transfers round up to bursts (0: access_bits / 8)
  // pJ per action (actions: read, write for memories; the op name for compute units).
  std::map<std::string, double> energy_pj;
  double area_um2 = 0;  // per instance
  // When set, this component's area is already part of the named component's area_um2
  // (the FuseMax artifact's adders live inside the MACs); compute_area skips it.
  std::string area_included_in;
  double leakage_pw = 0;  // per instance, charged only when ArchSpec::charge_leakage
  std::vector<std::string> citations;
  SourceLocation loc;
};

// One action an array operation performs: `count` x action `action` of component
// `component` (e.g. 6 x "mac" of "mac_2d" for FuseMax's exp on the 2D array).
struct OpAction {
  std::string component;
  std::string action;
  double count = 0;
};

// A processing-element array: which compute components each PE holds, which operations
// it executes and what each operation costs in issue slots of which unit.
struct PeArray {
  std::string name;  // "array_2d", "array_1d"
  ArrayRole role = ArrayRole::None;
  FillDrain fill_drain = FillDrain::None;
  int64_t rows = 1;  // a 1D array has rows = 1
  int64_t cols = 1;
  std::string register_file;  // component name of the per-PE register file
  int64_t register_file_entries = 0;
  // Operations the array supports, each realised as actions on its compute components:
  // on FuseMax's 2D PE, exp = {mac: 6, add: 1}; on FLAT's 1D PE, exp = {exp: 1}.
  std::map<std::string, std::map<std::string, double>> ops;
  // The same operations resolved to components (filled by load_arch; keep it in step with
  // `ops` when building an ArchSpec by hand): executing op N times adds N x count of each
  // OpAction to Stats::actions[component][action].
  std::map<std::string, std::vector<OpAction>> op_actions;
  // Issue slots (cycles per PE) of each operation; defaults to the sum of its actions.
  std::map<std::string, double> op_cycles;
  // Components (names) instanced once per PE: they contribute area rows*cols times.
  std::vector<std::string> pe_components;
  SourceLocation loc;

  int64_t pes() const { return rows * cols; }
  bool supports(const std::string& op) const { return ops.count(op) > 0; }
  double cycles_of(const std::string& op) const;  // throws Error if unsupported
  const std::vector<OpAction>& actions_of(const std::string& op) const;  // throws Error
};

struct ArchSpec {
  std::string name;
  std::string description;
  std::string file;
  std::vector<std::string> citations;
  double clock_hz = 0;
  int word_bits = 16;
  bool charge_leakage = false;  // the FuseMax paper does not charge leakage
  // How register-file actions are charged. AllInstances: every access of every PE's
  // register file (the physical count). OneInstance: the accesses of one PE per array
  // (counts / PEs), which is how the FuseMax artifact charges them (it hands Accelergy
  // Timeloop's per-instance counts for `reg_file[1]`); use it to reproduce the paper.
  enum class RegisterFileEnergy { AllInstances, OneInstance };
  RegisterFileEnergy register_file_energy = RegisterFileEnergy::AllInstances;
  std::vector<Component> components;
  std::vector<PeArray> arrays;  // usually array_2d and array_1d

  const Component& component(const std::string& name) const;  // throws Error
  const Component* find_component(const std::string& name) const;
  const PeArray& array(const std::string& name) const;  // throws Error
  const PeArray* find_array(const std::string& name) const;
  const PeArray* find_array_with_role(ArrayRole role) const;  // the first, if any
  const Component* dram() const;           // the Dram component, if any
  const Component* global_buffer() const;  // the (first) Buffer component, if any
  // Instances of a component: rows*cols of the array whose pe_components (or
  // register_file) list it, else Component::instances. Derived from the arrays, so an
  // edited rows/cols (a sweep) needs no other change. Throws Error for an unknown name.
  int64_t instances_of(const std::string& component) const;
  const PeArray* array_of(const std::string& component) const;  // owning array, if any
  double word_bytes() const { return word_bits / 8.0; }
  // Where an error about the whole architecture points: its file, no line.
  SourceLocation file_location() const { return SourceLocation{file, 0, 0}; }
};

// Parses and validates an architecture file; errors carry file:line:col (unknown key,
// negative size, an array op whose actions name a component without that action's
// energy, ...).
ArchSpec load_arch(const std::string& path);
// "all_instances" / "one_instance" <-> ArchSpec::RegisterFileEnergy; parsing an unknown
// name throws Error listing the known ones.
ArchSpec::RegisterFileEnergy parse_register_file_energy(const std::string& name);
std::string register_file_energy_name(ArchSpec::RegisterFileEnergy accounting);
ArchSpec parse_arch_text(const std::string& yaml_text, const std::string& file);
// The cross-reference and range checks of load_arch for an ArchSpec built or edited in
// code (a sweep point); errors point at the component's or array's definition.
void validate_arch(const ArchSpec& arch);

}  // namespace cascade
