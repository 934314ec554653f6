// One PE of a bf16 MAC array: acc <= round(a * b + acc) per valid input, fp32 accumulator,
// one MAC per cycle, result registered (valid_o follows valid_i by one cycle). clear_i
// starts a new sum from +0 (acc <= round(a * b + 0)).
module bf16_mac_pe (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        valid_i,
  input  logic        clear_i,
  input  logic [15:0] a_i,
  input  logic [15:0] b_i,
  output logic        valid_o,
  output logic [31:0] acc_o
);
  logic [31:0] acc_d, acc_q;
  logic        valid_q;

  bf16_fma u_fma (
    .a_i(a_i),
    .b_i(b_i),
    .c_i(clear_i ? 32'h0000_0000 : acc_q),
    .r_o(acc_d)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '0;
      valid_q <= 1'b0;
    end else begin
      valid_q <= valid_i;
      if (valid_i) acc_q <= acc_d;
    end
  end

  assign acc_o   = acc_q;
  assign valid_o = valid_q;
endmodule
