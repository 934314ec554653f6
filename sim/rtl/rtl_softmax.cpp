#include "sim/rtl/rtl_softmax.h"

#include <bit>
#include <cmath>

#include "Vsoftmax_1d_sc_l16.h"
#include "Vsoftmax_1d_sc_l4.h"
#include "Vsoftmax_1d_sc_l8.h"
#include "arch/support/error.h"
#include "sim/rtl/operand_bits.h"

namespace cascade::rtl {

namespace {

constexpr const char* kSoftmaxUnit = "the Verilated 1D unit";

double value_of(uint32_t bits) { return static_cast<double>(std::bit_cast<float>(bits)); }

}  // namespace

RtlSoftmax::RtlSoftmax(sc_core::sc_module_name name, int lanes)
    : sc_core::sc_module(name), clk_("clk", false), rst_n_("rst_n", true), lanes_(lanes) {}

RtlSoftmax::~RtlSoftmax() = default;

LaneRun RtlSoftmax::run(const std::vector<LaneBatch>& commands) {
  // Clocked in the caller's thread: its waits are the run's simulated time.
  if (running_) throw Error("the Verilated 1D unit runs one batch of commands at a time");
  running_ = true;
  try {
    LaneRun out = execute(commands);
    running_ = false;
    return out;
  } catch (...) {
    running_ = false;
    throw;
  }
}

// One cycle c spans [t0 + c, t0 + c + 1) ns: its inputs are written at its start, the
// outputs (and cmd_ready_o, combinational) read half a cycle later, then the rising edge.
LaneRun RtlSoftmax::execute(const std::vector<LaneBatch>& commands) {
  LaneRun out;
  if (commands.empty()) return out;
  const size_t lanes = static_cast<size_t>(lanes_);
  std::vector<Inputs> in(commands.size());
  int64_t limit = 64;  // a guard against a hang: far more than the latencies
  for (size_t i = 0; i < commands.size(); ++i) {
    const LaneBatch& b = commands[i];
    if (b.x.size() != lanes || b.y.size() != lanes || b.z.size() != lanes)
      throw Error("the Verilated 1D unit has " + std::to_string(lanes_) +
                  " lanes; a command came with operands for " + std::to_string(b.x.size()));
    in[i].valid = true;
    in[i].command = static_cast<uint8_t>(b.command);
    for (size_t l = 0; l < lanes; ++l) {
      in[i].x.push_back(fp32_bits(b.x[l], kSoftmaxUnit));
      in[i].y.push_back(fp32_bits(b.y[l], kSoftmaxUnit));
      in[i].z.push_back(fp32_bits(b.z[l], kSoftmaxUnit));
    }
    limit += 2 * lane_latency(b.command);
  }
  const sc_core::sc_time half(0.5, sc_core::SC_NS);
  // From a reset unit (asynchronous, zero time), as the tile starts every run.
  rst_n_.write(false);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  rst_n_.write(true);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  Outputs o;
  size_t next = 0;
  int64_t first = -1, last = -1, c = 0;
  for (; out.r0.size() < commands.size(); ++c) {
    if (c > limit) throw Error("the Verilated 1D unit hung (no result after " + std::to_string(c) + " cycles)");
    const bool offer = next < commands.size();
    write_inputs(offer ? in[next] : Inputs{});
    sc_core::wait(half);
    read_outputs(o);
    if (o.res_valid) {
      if (out.r0.size() >= next) throw Error("the Verilated 1D unit offered a result before its command");
      std::vector<double> r0(lanes), r1(lanes);
      for (size_t l = 0; l < lanes; ++l) {
        r0[l] = value_of(o.r0[l]);
        r1[l] = commands[out.r0.size()].command == LaneCommand::MaxExp ? value_of(o.r1[l]) : 0.0;
      }
      out.r0.push_back(std::move(r0));
      out.r1.push_back(std::move(r1));
      last = c;
    }
    if (offer && o.cmd_ready) {
      if (first < 0) first = c;
      ++next;
    }
    clk_.write(true);
    sc_core::wait(half);
    clk_.write(false);
  }
  write_inputs(Inputs{});
  clocked_ += c;
  out.cycles = last - first + 1;
  return out;
}

namespace {

// The wrapper of one Verilated lane count: signals bound to the model's ports (every port
// wider than a bit an sc_bv, --pins-bv 2).
template <int L, class V>
class Unit final : public RtlSoftmax {
 public:
  explicit Unit(sc_core::sc_module_name name)
      : RtlSoftmax(name, L), model_("softmax_1d"), res_ready_("res_ready", true) {
    model_.clk_i(clk_);
    model_.rst_ni(rst_n_);
    model_.cmd_valid_i(cmd_valid_);
    model_.cmd_ready_o(cmd_ready_);
    model_.cmd_i(cmd_);
    model_.x_i(x_);
    model_.y_i(y_);
    model_.z_i(z_);
    model_.res_valid_o(res_valid_);
    model_.res_ready_i(res_ready_);
    model_.r0_o(r0_);
    model_.r1_o(r1_);
  }

 protected:
  void write_inputs(const Inputs& in) override {
    cmd_valid_.write(in.valid);
    if (!in.valid) return;
    cmd_.write(sc_dt::sc_bv<2>(in.command));
    sc_dt::sc_bv<32 * L> x, y, z;
    for (int l = 0; l < L; ++l) {
      x.set_word(l, in.x[static_cast<size_t>(l)]);
      y.set_word(l, in.y[static_cast<size_t>(l)]);
      z.set_word(l, in.z[static_cast<size_t>(l)]);
    }
    x_.write(x);
    y_.write(y);
    z_.write(z);
  }
  void read_outputs(Outputs& out) override {
    out.cmd_ready = cmd_ready_.read();
    out.res_valid = res_valid_.read();
    out.r0.resize(L);
    out.r1.resize(L);
    const sc_dt::sc_bv<32 * L>& r0 = r0_.read();
    const sc_dt::sc_bv<32 * L>& r1 = r1_.read();
    for (int l = 0; l < L; ++l) {
      out.r0[static_cast<size_t>(l)] = static_cast<uint32_t>(r0.get_word(l));
      out.r1[static_cast<size_t>(l)] = static_cast<uint32_t>(r1.get_word(l));
    }
  }

 private:
  V model_;
  sc_core::sc_signal<bool> cmd_valid_{"cmd_valid"}, cmd_ready_{"cmd_ready"}, res_valid_{"res_valid"};
  sc_core::sc_signal<bool> res_ready_;
  sc_core::sc_signal<sc_dt::sc_bv<2>> cmd_{"cmd"};
  sc_core::sc_signal<sc_dt::sc_bv<32 * L>> x_{"x"}, y_{"y"}, z_{"z"}, r0_{"r0"}, r1_{"r1"};
};

}  // namespace

std::vector<int> softmax_lane_counts() { return {4, 8, 16}; }

std::string softmax_lane_counts_text() { return "4, 8, 16"; }

std::unique_ptr<RtlSoftmax> make_softmax_unit(const std::string& name, int lanes) {
  if (lanes == 4) return std::make_unique<Unit<4, Vsoftmax_1d_sc_l4>>(name.c_str());
  if (lanes == 8) return std::make_unique<Unit<8, Vsoftmax_1d_sc_l8>>(name.c_str());
  if (lanes == 16) return std::make_unique<Unit<16, Vsoftmax_1d_sc_l16>>(name.c_str());
  throw Error("no Verilated 1D softmax unit of " + std::to_string(lanes) +
              " lanes in this build (built: " + softmax_lane_counts_text() + ")");
}

}  // namespace cascade::rtl
