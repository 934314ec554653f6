// A cheaper exp for the 2D PE (pe_2d_fastexp): the executor's "fast" exp
// (sim/functional/number_format.h, fast_exp_as<FP32>), 2^f piecewise linear on 8 segments
// instead of fp32_exp_seq's degree-5 polynomial, sequenced over the host's one multiplier
// and one adder:
//
//   [S]  s = round(x - z)                    only for exp(x - z) (sub_i)
//   T    t = round(s * log2e)                log2e rounded to fp32
//   F    f = round(t - i), i = floor(t)      i from exponent/shift logic
//   L    p = round(round(b_k * f) + a_k)     k = min(floor(8 f), 7), from f's exponent and
//                                            top two fraction bits; a_k, b_k fp32
//   SC   r = round(p * 2^i)                  the multiplier's exponent offset
//
// Segment k's line is the chord of 2^f on [k/8, (k+1)/8] scaled by 1 / (1 + e_k / 2), e_k
// the chord's largest relative error, so the error alternates +-4.69e-4 (then rounded to
// fp32: max |p(f)/2^f - 1| = 4.692e-4). One step per cycle as in fp32_exp_seq; exp: 4
// cycles, exp(x - z): 5. Special values as fp32_exp_seq: NaN -> NaN, |t| >= 2048 (also
// t = +-inf) -> +inf for t > 0, +0 for t < 0.
//
// The first step runs in the start cycle on x_i / z_i; the result is on result_o in the
// last cycle (done_o), for the host to register. It is fp32_exp_seq with Fast set (the
// steps are fp32_exp_pkg's: the same S, T, F and SC, the line L in place of H1..H5).
module fp32_exp_pwl_seq (
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
  fp32_exp_seq #(
    .Fast(1'b1)
  ) u_seq (
    .clk_i,
    .rst_ni,
    .en_i,
    .start_i,
    .sub_i,
    .x_i,
    .z_i,
    .active_o,
    .mul_a_o,
    .mul_b_o,
    .mul_scale_o,
    .add_b_o,
    .chain_i,
    .busy_o,
    .done_o,
    .result_o
  );
endmodule
