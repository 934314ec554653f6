// Depth registers in a row (Depth = 0: a wire), with a clock enable and an asynchronous
// reset to zero: q_o is d_i of Depth enabled cycles ago.
module delay_line #(
  parameter int unsigned Width = 32,
  parameter int unsigned Depth = 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             en_i,
  input  logic [Width-1:0] d_i,
  output logic [Width-1:0] q_o
);
  if (Depth == 0) begin : g_wire
    assign q_o = d_i;
    logic unused_clk;
    assign unused_clk = ^{clk_i, rst_ni, en_i};
  end else begin : g_regs
    logic [Depth-1:0][Width-1:0] stage_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        stage_q <= '0;
      end else if (en_i) begin
        stage_q[0] <= d_i;
        for (int k = 1; k < Depth; k++) stage_q[k] <= stage_q[k-1];
      end
    end
    assign q_o = stage_q[Depth-1];
  end
endmodule
