// RtlTile::run_program: a program of tile operations (sim/systemc/resident_array.h) through
// the Verilated tile, one step offered per cycle when the tile is ready, on the state the
// previous run left (no reset but before the tile's first run: the register files keep
// their entries).
#include <bit>
#include <chrono>
#include <cmath>
#include <string>

#include "arch/support/error.h"
#include "sim/rtl/operand_bits.h"
#include "sim/rtl/rtl_tile.h"

namespace cascade::rtl {

constexpr const char* kTileUnit = "the Verilated tile";
constexpr int kEntries = 16;  // the PEs' register files (hdl/pe_2d.sv's Entries as built)

TileProgramRun RtlTile::run_program(const std::vector<TileStep>& program) {
  if (running_) throw Error("the Verilated tile runs one program or GEMM at a time");
  const int n = n_;
  // Every step's inputs first: a step the tile cannot take (Error) runs none of them.
  std::vector<TileInputs> inputs;
  std::vector<size_t> column_steps;  // the steps whose column results leave, in order
  for (const TileStep& s : program) {
    check_tile_step(s, n, n, kEntries);
    if (is_column_op(s.op)) column_steps.push_back(inputs.size());
    TileInputs in;
    in.valid = true;
    in.op = static_cast<uint32_t>(s.op);
    in.flag = s.flag;
    in.sel = static_cast<uint8_t>(s.sel);
    in.entry = static_cast<uint8_t>(s.entry);
    for (size_t k = 0; k < static_cast<size_t>(n); ++k) {
      in.a.push_back(s.a.empty() ? 0 : bf16_bits(s.a[k], kTileUnit));
      in.b.push_back(s.b.empty() ? 0 : bf16_bits(s.b[k], kTileUnit));
      in.x.push_back(s.x.empty() ? 0 : fp32_bits(s.x[k], kTileUnit));
    }
    in.psum.assign(static_cast<size_t>(n), 0);
    inputs.push_back(std::move(in));
  }
  const size_t columns = column_steps.size();
  const bool reset = !started_;
  running_ = started_ = true;
  const auto wall = std::chrono::steady_clock::now();
  TileProgramRun out;
  try {
    size_t next = 0;
    int64_t ready_after = -1, last_result = -1;  // the cycle the last hold ended; the last result's
    // A guard against a hang: every step at most an exp's hold, plus the array's depth.
    const int64_t limit = static_cast<int64_t>(program.size()) * 16 + 4 * n + 16;
    const int64_t last = clock_until(limit, [&](int64_t c, const TileOutputs& o, TileInputs& in) {
      if (o.out_valid) {
        if (out.results.size() >= columns)
          throw Error("the Verilated tile left a column result no step asked for (cycle " +
                      std::to_string(c) + ")");
        ColumnResult r{column_steps[out.results.size()], c, std::vector<double>(static_cast<size_t>(n))};
        for (int j = 0; j < n; ++j)
          r.y[static_cast<size_t>(j)] = static_cast<double>(std::bit_cast<float>(o.out_y[static_cast<size_t>(j)]));
        out.results.push_back(std::move(r));
        last_result = c;
      }
      // (in cycle 0 after a reset the outputs may still settle: a reset tile is ready)
      const bool ready = o.in_ready || (reset && c == 0);
      if (next == program.size() && ready_after < 0 && ready) ready_after = c;
      if (next == program.size() && out.results.size() == columns && ready_after >= 0 && c > last_result)
        return true;
      in.valid = false;
      if (next < program.size() && ready) {
        in = inputs[next];
        out.accepted.push_back(c);
        ++next;
      }
      return false;
    }, reset);
    out.cycles = last;
  } catch (...) {
    running_ = false;
    throw;
  }
  running_ = false;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  return out;
}

}  // namespace cascade::rtl
