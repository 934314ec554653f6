// The hardware exp of the functional executor (sim/functional/number_format.h,
// hardware_exp_as<FP32>), sequenced over a host's one multiplier and one adder:
//
//   [S]  s = round(x - z)                    only for exp(x - z) (sub_i)
//   T    t = round(s * log2e)                log2e rounded to fp32
//   F    f = round(t - i), i = floor(t)      i from exponent/shift logic
//   H1   p = round(round(c5 * f) + c4)       degree-5 Horner polynomial,
//   H2.. p = round(round(p * f) + c_k)       k = 3, 2, 1, 0 (fp32 coefficients)
//   SC   r = round(p * 2^i)                  the multiplier's exponent offset
//
// One step per cycle, each one pass through the host's chain
// chain = round(round(mul_a * mul_b * 2^mul_scale) + add_b) (a pure multiply adds -0, a
// pure add multiplies by 1.0; both are exact identities). exp: 8 cycles, exp(x - z): 9.
// Special values as the executor: NaN -> NaN, |t| >= 2048 (also t = +-inf) -> +inf for
// t > 0, +0 for t < 0.
//
// The first step runs in the start cycle on x_i / z_i; the result is on result_o in the
// last cycle (done_o), for the host to register. The steps are fp32_exp_pkg's functions.
module fp32_exp_seq
  import fp32_pkg::*;
  import fp32_exp_pkg::*;
#(
  parameter bit Fast = 1'b0  // the fast exp (fp32_exp_pwl_seq.sv): one line for H1..H5
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               en_i,         // clock enable: every register holds while low
  input  logic               start_i,      // begin a sequence (ignored while busy_o)
  input  logic               sub_i,        // compute exp(x - z) instead of exp(x)
  input  logic [31:0]        x_i,          // read in the start cycle only
  input  logic [31:0]        z_i,          // read in the start cycle only
  output logic               active_o,     // the sequence drives the chain this cycle
  output logic [31:0]        mul_a_o,
  output logic [31:0]        mul_b_o,
  output logic signed [12:0] mul_scale_o,
  output logic [31:0]        add_b_o,
  input  logic [31:0]        chain_i,      // the host's chain result for these operands
  output logic               busy_o,       // a sequence runs (cycles after its start cycle)
  output logic               done_o,       // the last cycle: result_o holds the exp
  output logic [31:0]        result_o
);
  exp_step_e          state_q, state_d, step;
  logic [31:0]        tmp_q, tmp_d, f_q, f_d;
  logic signed [12:0] i_q, i_d;
  logic               nan_q, nan_d, big_q, big_d, neg_q, neg_d;

  assign busy_o   = state_q != StIdle;
  assign active_o = busy_o || start_i;
  assign step     = exp_step(state_q, sub_i);

  always_comb begin
    exp_operands(step, Fast, state_q, tmp_q, f_q, i_q, x_i, z_i, mul_a_o, mul_b_o, mul_scale_o,
                 add_b_o);
    exp_next(step, Fast, tmp_q, f_q, i_q, nan_q, big_q, neg_q, chain_i, state_d, tmp_d, f_d, i_d,
             nan_d, big_d, neg_d, done_o, result_o);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      tmp_q   <= '0;
      f_q     <= '0;
      i_q     <= '0;
      nan_q   <= 1'b0;
      big_q   <= 1'b0;
      neg_q   <= 1'b0;
    end else if (en_i && active_o) begin
      state_q <= state_d;
      tmp_q   <= tmp_d;
      f_q     <= f_d;
      i_q     <= i_d;
      nan_q   <= nan_d;
      big_q   <= big_d;
      neg_q   <= neg_d;
    end
  end
endmodule
