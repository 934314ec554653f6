// fp32 multiplier with an exponent offset: r = round(a * b * 2^scale), one rounding
// (nearest, ties to even), subnormals in and out, overflow to inf, IEEE special values
// (inf * 0 and NaN operands give the canonical quiet NaN). Combinational. The offset is
// the exp datapath's final ldexp (p * 1.0 * 2^i); everywhere else it is 0.
module fp32_mul
  import fp32_pkg::*;
(
  input  logic [31:0]        a_i,
  input  logic [31:0]        b_i,
  input  logic signed [12:0] scale_i,
  output logic [31:0]        r_o
);
  logic [47:0]        prod;
  logic [63:0]        norm;
  logic [5:0]         lz;
  logic signed [15:0] exp;
  logic               sign;

  always_comb begin
    sign = a_i[31] ^ b_i[31];
    prod = 48'(sig_of(a_i)) * 48'(sig_of(b_i));  // exact: prod * 2^(exp_a + exp_b - 46)
    norm = normalize({prod, 16'd0}, lz);
    exp  = exp_of(a_i) + exp_of(b_i) + 16'sd1 - $signed({10'd0, lz})
           + $signed({{3{scale_i[12]}}, scale_i});
    if (is_nan(a_i) || is_nan(b_i) || (is_inf(a_i) && is_zero(b_i))
        || (is_zero(a_i) && is_inf(b_i)))
      r_o = Fp32QNaN;
    else if (is_inf(a_i) || is_inf(b_i))
      r_o = {sign, 31'h7F80_0000};
    else if (prod == 48'd0)
      r_o = {sign, 31'd0};
    else
      r_o = round_pack(sign, exp, norm, 1'b0, 8, 23);
  end
endmodule
