// fp32 adder: r = round(a + b), one rounding (nearest, ties to even), subnormals in and
// out, overflow to inf, IEEE special values (inf - inf and NaN operands give the canonical
// quiet NaN). An exact zero sum is +0 unless both operands are -0. Combinational.
//
// The larger magnitude x sits in a 64-bit window with its hidden bit at bit 62 (39 bits
// below its LSB); the smaller y is shifted right by the exponent difference, the bits that
// fall out jammed into bit 0. Bits are lost only when the difference exceeds 39, where the
// sum keeps its leading bit within one place of x's, so the jam stays below the rounding
// position.
module fp32_add
  import fp32_pkg::*;
(
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] r_o
);
  logic               swap, sub, jam;
  logic [31:0]        x, y;
  logic signed [15:0] diff, exp;
  logic [63:0]        wx, wy, ys, sum, norm;
  logic [5:0]         lz;

  always_comb begin
    swap = b_i[30:0] > a_i[30:0];
    x    = swap ? b_i : a_i;
    y    = swap ? a_i : b_i;
    diff = exp_of(x) - exp_of(y);
    wx   = {1'b0, sig_of(x), 39'd0};
    wy   = {1'b0, sig_of(y), 39'd0};
    if (diff >= 16'sd64) begin
      ys  = 64'd0;
      jam = sig_of(y) != 24'd0;
    end else begin
      ys  = wy >> diff;
      jam = (wy & ((64'd1 << diff) - 64'd1)) != 64'd0;
    end
    ys[0] = ys[0] | jam;
    sub  = x[31] ^ y[31];
    sum  = sub ? wx - ys : wx + ys;
    norm = normalize(sum, lz);
    exp  = exp_of(x) + 16'sd1 - $signed({10'd0, lz});  // bit 63 of sum is 2^(exp_of(x) + 1)
    if (is_nan(a_i) || is_nan(b_i) || (is_inf(a_i) && is_inf(b_i) && (a_i[31] != b_i[31])))
      r_o = Fp32QNaN;
    else if (is_inf(a_i))
      r_o = a_i;
    else if (is_inf(b_i))
      r_o = b_i;
    else if (sum == 64'd0)
      r_o = {x[31] & y[31], 31'd0};
    else
      r_o = round_pack(x[31], exp, norm, 1'b0, 8, 23);
  end
endmodule
