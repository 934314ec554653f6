// fp32 adder: r = round(a + b), combinational; fp32_pkg::add_round says how it rounds
// (nearest, ties to even, subnormals, overflow to inf, IEEE special values).
module fp32_add
  import fp32_pkg::*;
(
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] r_o
);
  assign r_o = add_round(a_i, b_i);
endmodule
