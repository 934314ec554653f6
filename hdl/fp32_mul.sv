// fp32 multiplier with an exponent offset: r = round(a * b * 2^scale), combinational;
// fp32_pkg::mul_round says how it rounds (nearest, ties to even, subnormals, overflow to
// inf, IEEE special values). The offset is the exp datapath's final ldexp; elsewhere 0.
module fp32_mul
  import fp32_pkg::*;
(
  input  logic [31:0]        a_i,
  input  logic [31:0]        b_i,
  input  logic signed [12:0] scale_i,
  output logic [31:0]        r_o
);
  assign r_o = mul_round(a_i, b_i, scale_i);
endmodule
