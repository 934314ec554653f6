// The peer of issue 12's speed target ("a Verilated 16 x 16 integer MAC tile runs ~0.75 M
// cycles/s"): a bare N x N output-stationary systolic tile of MAC PEs with 32-bit
// accumulators, N x N instances in generate blocks, no input skew, no drain (every
// accumulator is an output, so that Verilator keeps all of them). Arith picks the PE's
// arithmetic: 0 the peer itself (16-bit integer operands, acc + a * b); 1 the fp32 adder
// alone (acc + widen(a), fp32_pkg::add_round); 2 a bf16 MAC (round(round(a * b) + acc),
// fp32_pkg's mul_round and add_round, as tile_2d's OpMac). A benchmark for peer_probe.sh,
// not a kernel of cascade's: it measures what this host gives a Verilated tile of the
// simplest PEs, and what the fp32 arithmetic alone costs in such a tile.
/* verilator lint_off DECLFILENAME */
module int_mac_pe
  import fp32_pkg::*;
#(
  parameter int unsigned Arith = 0
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [15:0] a_i,
  input  logic [15:0] b_i,
  input  logic        valid_i,  // b_i carries an operand
  input  logic        clear_i,  // start the accumulator from the product
  output logic [15:0] a_o,
  output logic [15:0] b_o,
  output logic        valid_o,
  output logic        clear_o,
  output logic [31:0] acc_o
);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_o     <= '0;
      b_o     <= '0;
      valid_o <= 1'b0;
      clear_o <= 1'b0;
      acc_o   <= '0;
    end else begin
      a_o     <= a_i;
      b_o     <= b_i;
      valid_o <= valid_i;
      clear_o <= clear_i;
      if (valid_i) begin
        unique case (Arith)
          1:       acc_o <= add_round(widen(a_i, StorageBf16), clear_i ? Fp32PosZero : acc_o);
          2:       acc_o <= add_round(mul_round(widen(a_i, StorageBf16), widen(b_i, StorageBf16),
                                                13'sd0), clear_i ? Fp32PosZero : acc_o);
          default: acc_o <= (clear_i ? 32'd0 : acc_o) + 32'(a_i) * 32'(b_i);
        endcase
      end
    end
  end
endmodule
/* verilator lint_on DECLFILENAME */

module int_mac_tile #(
  parameter int unsigned N     = 16,
  parameter int unsigned Arith = 0
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   in_valid_i,
  input  logic                   in_clear_i,
  input  logic [N-1:0][15:0]     in_a_i,  // row i's west operand
  input  logic [N-1:0][15:0]     in_b_i,  // column j's north operand
  output logic [31:0]            acc_o [N*N]  // PE (i, j)'s accumulator at i * N + j
);
  logic [15:0] a   [N][N+1];  // a[i][j]: entering PE (i, j) from the west
  logic [15:0] b   [N+1][N];  // b[i][j]: entering PE (i, j) from the north
  logic        v   [N+1][N];
  logic        clr [N+1][N];
  for (genvar i = 0; i < N; i++) begin : g_west
    assign a[i][0] = in_a_i[i];
  end
  for (genvar j = 0; j < N; j++) begin : g_north
    assign b[0][j]   = in_b_i[j];
    assign v[0][j]   = in_valid_i;
    assign clr[0][j] = in_clear_i;
  end
  for (genvar i = 0; i < N; i++) begin : g_row
    for (genvar j = 0; j < N; j++) begin : g_col
      int_mac_pe #(.Arith(Arith)) u_pe (
        .clk_i, .rst_ni,
        .a_i    (a[i][j]),
        .b_i    (b[i][j]),
        .valid_i(v[i][j]),
        .clear_i(clr[i][j]),
        .a_o    (a[i][j+1]),
        .b_o    (b[i+1][j]),
        .valid_o(v[i+1][j]),
        .clear_o(clr[i+1][j]),
        .acc_o  (acc_o[i*N+j])
      );
    end
  end
  // the east and south edges' outputs are not read
  logic unused;
  always_comb begin
    unused = 1'b0;
    for (int i = 0; i < N; i++) unused ^= ^a[i][N];
    for (int j = 0; j < N; j++) unused ^= ^b[N][j] ^ v[N][j] ^ clr[N][j];
  end
endmodule
