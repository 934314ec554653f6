// An N x N output-stationary systolic tile of pe_2d: row i's west operand a enters at the
// west edge and moves one PE east per cycle; column j's operation, with its north operand
// b, enters at the north edge and moves one PE south per cycle. The tile skews its inputs
// itself (row i and column j delayed by i and j cycles; no input register), so the caller
// hands it one vector per cycle: an operation accepted in cycle t executes in PE (i, j) in
// cycle t + i + j, every PE sees the operations in issue order, and the result of a column
// operation (OpColSum, OpColMax, OpColDot, OpReadRow) leaves at the south edge, deskewed,
// as one vector out_y_o in cycle t + 2N - 1 (with no stall). No output depends
// combinationally on an input except in_ready_o on out_ready_i.
//
// Input (one operation per handshake in_valid_i && in_ready_o):
//   in_op_i, in_flag_i, in_sel_i   the operation (tile_pkg::pe_op_e) and its fields
//   in_entry_i                     the PEs' register-file entry it reads (flag) or writes
//                                  (OpNarrow with flag): Entries words per PE (pe_2d.sv)
//   in_a_i[i]  storage format      west operand of row i (OpMac, OpColDot), widened
//   in_b_i[j]  storage format      north operand of column j for OpMac, widened
//   in_x_i[j]  fp32                north operand of column j for OpAdd, OpMax, OpSubExp,
//                                  OpLoad (e.g. the column's running max for exp(acc - m))
//   in_wload_i, in_wlast_i         in_b_i is a row of stationary weights for the columns'
//                                  weight chains; wlast: the fold's last (below)
//   in_psum_i[j]  fp32             the partial sum an OpWsDot with flag starts from, read
//                                  when the operation reaches column j (cycle t + j)
// in_ready_o is PE (0, 0)'s ready_o (with no stall): after an OpExp (OpSubExp) it stays
// low for 7 (8) cycles with pe_2d, so that no operation reaches a PE while its exp runs
// (every PE sees the operations in the same order and spacing, one cycle later per hop).
// The PEs are pe_array_2d (pe_2d's logic, every PE evaluated in one loop: the fast model)
// unless the macro CASCADE_PE_MODULE names a PE module with pe_2d's ports and operations,
// instantiated N x N times (pe_2d itself, or hdl/README.md's "Bring your own kernel";
// pe_2d_fastexp: 3 (4)).
// Output (handshake out_valid_o && out_ready_i): out_y_o[j] of column j, with the
// operation and sel that produced it; the drain's values (drain_valid_o[j]) are taken with
// the same out_ready_i. While out_ready_i is low in a cycle with out_valid_o or any
// drain_valid_o high, the whole tile stalls (every register holds, so do the outputs;
// in_ready_o is low): each stall cycle delays everything after it by one cycle.
//
// A GEMM C = A B (K long): OpMac with flag (start from +0) for k = 0, then OpMac for
// k = 1..K-1 in cycles 0..K-1 (in_a_i[i] = A[i][k], in_b_i[j] = B[k][j]), then OpReadRow
// sel = r in cycles K + r (r = 0..N-1); row r of C leaves in cycle K + 2N - 1 + r, the
// last in cycle K + 3N - 2: K + 3N - 1 cycles from the first input to the last output.
// Or with the output-stationary drain (below): OpMac with sel = {1, R - 1} at k = K - 1 and
// no row reads; C[r][j] leaves on drain_y_o[j] in cycle K + 2R - 2 + j - r: 2R + C + K - 2
// cycles for R rows and C columns used, as the per-PE model (sim/systemc/systolic.h).
// Or weight stationary (below): the stationary rows load through the columns' weight chains
// (in_wload_i, in_wlast_i, the weights on in_b_i), OpWsDot streams the other operand, and
// each result leaves raw on drain_y_o[j] from the fold's last row.

module tile_2d
  import fp32_pkg::*;
  import tile_pkg::*;
#(
  parameter int unsigned N = 4,
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned Entries       = 16,
  // the PE loops' bands of N / Bands rows each (one per Verilator thread); unused with
  // CASCADE_PE_MODULE
  /* verilator lint_off UNUSEDPARAM */
  parameter int unsigned Bands         = 1
  /* verilator lint_on UNUSEDPARAM */
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic                 in_valid_i,
  output logic                 in_ready_o,
  input  pe_op_e               in_op_i,
  input  logic                 in_flag_i,
  input  logic [7:0]           in_sel_i,
  input  logic [3:0]           in_entry_i,
  input  logic [N-1:0][15:0]   in_a_i,
  input  logic [N-1:0][15:0]   in_b_i,
  input  logic [N-1:0][31:0]   in_x_i,
  input  logic                 in_wload_i,
  input  logic                 in_wlast_i,
  input  logic [N-1:0][31:0]   in_psum_i,
  output logic                 out_valid_o,
  input  logic                 out_ready_i,
  output pe_op_e               out_op_o,
  output logic [7:0]           out_sel_o,
  output logic [N-1:0][31:0]   out_y_o,
  output logic [N-1:0]         drain_valid_o,
  output logic [N-1:0][7:0]    drain_row_o,
  output logic [N-1:0][31:0]   drain_y_o
);
  localparam int unsigned CtrlW = 1 + 4 + 1 + 8 + 4;  // valid, op, flag, sel, entry
  localparam int unsigned LoadW = 2 + 16;          // wload, wlast, weight (storage format)

  logic       en, fire, pe00_ready;

  // One ready for every output: a cycle with the column result or any drain value valid and
  // out_ready_i low stalls the whole tile (every register holds, the outputs with it).
  assign en         = !((out_valid_o || |drain_valid_o) && !out_ready_i);
  assign in_ready_o = en && pe00_ready;
  assign fire       = in_valid_i && in_ready_o;

  // PE ports, [row][col]; a_w[i][j] enters PE (i, j) from the west, v_w[i][j] from the north.
  // (split_var: the north and west edges are combinational from the inputs, the south edge
  // feeds out_valid_o and so in_ready_o; as whole arrays they would look like a loop, and a
  // whole a_w would put every PE's logic in Verilator's input region, evaluated again at
  // every input change and clock edge: 1.8 x slower at N = 8, hdl/README.md.)
  logic [31:0] a_w [N][N+1] /* verilator split_var */;
  logic [31:0] b_w [N+1][N] /* verilator split_var */;
  logic        valid_w [N+1][N] /* verilator split_var */;
  pe_op_e      op_w [N+1][N] /* verilator split_var */;
  logic        flag_w [N+1][N] /* verilator split_var */;
  logic [7:0]  sel_w [N+1][N] /* verilator split_var */;
  logic [3:0]  entry_w [N+1][N] /* verilator split_var */;
  logic [N-1:0][31:0] acc_w [N];  // acc_w[j][i]: PE (i, j)'s accumulator, by column
  logic [N-1:0][31:0] w_w [N];    // w_w[j][i]: PE (i, j)'s shadow weight, widened

  // The input stage (no register: an operation accepted in cycle t executes in PE (0, 0) in
  // cycle t): the operands widened and the north-edge value of every column chosen.
  logic [N-1:0][31:0] in_a_w, in_b_w;

  always_comb begin
    for (int k = 0; k < N; k++) begin
      in_a_w[k] = widen(in_a_i[k], StorageFormat);
      unique case (in_op_i)
        OpMac:                          in_b_w[k] = widen(in_b_i[k], StorageFormat);
        OpAdd, OpMax, OpSubExp, OpLoad: in_b_w[k] = in_x_i[k];
        OpColMax:                       in_b_w[k] = Fp32NegInf;
        default:                        in_b_w[k] = Fp32PosZero;
      endcase
    end
  end

  // west edge: row i's a delayed i more cycles
  for (genvar i = 0; i < N; i++) begin : g_west
    delay_line #(
      .Width(32),
      .Depth(i)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .en_i(en),
      .d_i (in_a_w[i]),
      .q_o (a_w[i][0])
    );
  end

  // north edge: column j's operation, b and weight-chain input delayed j more cycles; an
  // OpWsDot with flag takes its partial sum from in_psum_i[j] when it reaches the column
  // (cycle t + j), not through the skew: the buffer hands each column its sum just in time
  // (the per-PE model's feeder), so a sum the previous K fold left in cycle t' can enter the
  // next fold's column in any cycle after t'.
  for (genvar j = 0; j < N; j++) begin : g_north
    // (two delay lines: Verilator 5.006 emits uncompilable code for a wider-than-64-bit
    // delay-line register read bit by bit in the PEs)
    logic [LoadW+CtrlW-1:0]  skewed;
    logic [31:0]             skewed_b;
    logic [LoadW-1:0]        load;
    logic                    psum_here;
    delay_line #(
      .Width(LoadW + CtrlW),
      .Depth(j)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .en_i(en),
      .d_i ({fire && in_wload_i, fire && in_wlast_i, in_b_i[j], fire, in_op_i, in_flag_i,
             in_sel_i, in_entry_i}),
      .q_o (skewed)
    );
    delay_line #(
      .Width(32),
      .Depth(j)
    ) u_skew_b (
      .clk_i,
      .rst_ni,
      .en_i(en),
      .d_i (in_b_w[j]),
      .q_o (skewed_b)
    );
    assign load          = skewed[LoadW+CtrlW-1 -: LoadW];
    assign valid_w[0][j] = skewed[CtrlW-1];
    assign op_w[0][j]    = pe_op_e'(skewed[CtrlW-2 -: 4]);
    assign flag_w[0][j]  = skewed[12];
    assign sel_w[0][j]   = skewed[11:4];
    assign entry_w[0][j] = skewed[3:0];
    assign psum_here     = op_w[0][j] == OpWsDot && flag_w[0][j];
    assign b_w[0][j]     = psum_here ? in_psum_i[j] : skewed_b;

    // The weight chain: a load shifts the column's chain one row south, the new weight at
    // the top; with wlast (the fold's R-th row, the bottom row's weight loaded first) the
    // shifted chain is copied into the shadow registers, which OpWsDot with sel[7] swaps
    // into the PEs. (A shadow read by a swap and rewritten in one cycle gives the swap the
    // old weight.) Names unique in the file: hdl/synth/sv2yosys.py flattens packed arrays
    // by name.
    logic [N-1:0][15:0] wchain_q, wshadow_q, wchain_d;
    always_comb begin
      wchain_d[0] = load[15:0];
      for (int i = 1; i < N; i++) wchain_d[i] = wchain_q[i-1];
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        wchain_q  <= '0;
        wshadow_q <= '0;
      end else if (en && load[17]) begin
        wchain_q <= wchain_d;
        if (load[16]) wshadow_q <= wchain_d;
      end
    end
    for (genvar i = 0; i < N; i++) begin : g_weight
      assign w_w[j][i] = widen(wshadow_q[i], StorageFormat);
    end
  end

`ifdef CASCADE_PE_MODULE
  for (genvar i = 0; i < N; i++) begin : g_row
    for (genvar j = 0; j < N; j++) begin : g_col
      logic        ready, done_unused;
      `CASCADE_PE_MODULE #(
        .StorageFormat(StorageFormat),
        .Entries      (Entries)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .en_i   (en),
        .row_i  (8'(i)),
        .valid_i(valid_w[i][j]),
        .ready_o(ready),
        .op_i   (op_w[i][j]),
        .flag_i (flag_w[i][j]),
        .sel_i  (sel_w[i][j]),
        .entry_i(entry_w[i][j]),
        .a_i    (a_w[i][j]),
        .b_i    (b_w[i][j]),
        .w_i    (w_w[j][i]),
        .a_o    (a_w[i][j+1]),
        .valid_o(valid_w[i+1][j]),
        .op_o   (op_w[i+1][j]),
        .flag_o (flag_w[i+1][j]),
        .sel_o  (sel_w[i+1][j]),
        .entry_o(entry_w[i+1][j]),
        .b_o    (b_w[i+1][j]),
        .acc_o  (acc_w[j][i]),
        .done_o (done_unused)
      );
      if (i == 0 && j == 0) begin : g_ready
        assign pe00_ready = ready;
        logic unused_pe;
        assign unused_pe = done_unused;
      end else begin : g_unused
        logic unused_pe;
        assign unused_pe = ^{ready, done_unused};
      end
    end
  end
`else
  // the PEs in loops (pe_array_2d.sv): Bands bands of R rows, each a loop over its PEs
  // (indexed i * N + j within the band); a band's north edge is the bottom row of the band
  // above (the tile's north edge for the first)
  localparam int unsigned R = N / Bands;  // Bands divides N (sim/rtl/CMakeLists.txt checks)
  logic band_ready [Bands];
  for (genvar g = 0; g < Bands; g++) begin : g_band
    logic [31:0] west_a [R];
    logic        north_valid [N];
    pe_op_e      north_op [N];
    logic        north_flag [N];
    logic [7:0]  north_sel [N];
    logic [3:0]  north_entry [N];
    logic [31:0] north_b [N];
    logic [31:0] w [R*N], a [R*N], b [R*N], acc [R*N];
    logic        valid [R*N], flag [R*N];
    pe_op_e      op [R*N];
    logic [7:0]  sel [R*N];
    logic [3:0]  entry [R*N];
    for (genvar j = 0; j < N; j++) begin : g_north
      assign north_valid[j] = valid_w[g*R][j];
      assign north_op[j]    = op_w[g*R][j];
      assign north_flag[j]  = flag_w[g*R][j];
      assign north_sel[j]   = sel_w[g*R][j];
      assign north_entry[j] = entry_w[g*R][j];
      assign north_b[j]     = b_w[g*R][j];
    end
    for (genvar i = 0; i < R; i++) begin : g_row
      assign west_a[i] = a_w[g*R+i][0];
      for (genvar j = 0; j < N; j++) begin : g_col
        assign w[i*N+j]                = w_w[j][g*R+i];
        assign a_w[g*R+i][j+1]         = a[i*N+j];
        assign valid_w[g*R+i+1][j]     = valid[i*N+j];
        assign op_w[g*R+i+1][j]        = op[i*N+j];
        assign flag_w[g*R+i+1][j]      = flag[i*N+j];
        assign sel_w[g*R+i+1][j]       = sel[i*N+j];
        assign entry_w[g*R+i+1][j]     = entry[i*N+j];
        assign b_w[g*R+i+1][j]         = b[i*N+j];
        assign acc_w[j][g*R+i]         = acc[i*N+j];
      end
    end
    pe_array_2d #(
      .N            (N),
      .Rows         (R),
      .FirstRow     (g * R),
      .StorageFormat(StorageFormat),
      .Entries      (Entries)
    ) u_pes (
      .clk_i,
      .rst_ni,
      .en_i         (en),
      .west_a_i     (west_a),
      .north_valid_i(north_valid),
      .north_op_i   (north_op),
      .north_flag_i (north_flag),
      .north_sel_i  (north_sel),
      .north_entry_i(north_entry),
      .north_b_i    (north_b),
      .w_i          (w),
      .ready_o      (band_ready[g]),
      .a_o          (a),
      .valid_o      (valid),
      .op_o         (op),
      .flag_o       (flag),
      .sel_o        (sel),
      .entry_o      (entry),
      .b_o          (b),
      .acc_o        (acc)
    );
  end
  // PE (0, 0)'s ready (every PE sees the operations in the same spacing)
  assign pe00_ready = band_ready[0];
  logic unused_ready;
  always_comb begin
    unused_ready = 1'b0;
    for (int g = 1; g < Bands; g++) unused_ready ^= band_ready[g];
  end
`endif

  // south edge: column j's y delayed N - 1 - j more cycles; the operation from column N-1
  for (genvar j = 0; j < N; j++) begin : g_south
    delay_line #(
      .Width(32),
      .Depth(N - 1 - j)
    ) u_deskew (
      .clk_i,
      .rst_ni,
      .en_i(en),
      .d_i (b_w[N][j]),
      .q_o (out_y_o[j])
    );
  end


  // The output-stationary drain (the per-PE model's schedule, sim/systemc/systolic.h): an
  // OpMac with sel[7] set is its fold's last step and sel[6:0] the fold's last row R - 1.
  // Each PE hands its result to a shadow register the cycle after that step; the cycle
  // after PE (R - 1, j)'s last step, column j presents PE (R - 1, j)'s accumulator on
  // drain_y_o[j] and loads rows 0..R-2 from the shadows into a chain that presents one row
  // per cycle after it (R - 2 down to 0). drain_row_o[j] names the row. A column drains for
  // R cycles; the caller starts folds at least R cycles apart.
  //
  // Weight stationary: OpWsDot carries sel[6:0] = R - 1, the fold's last row; the cycle after
  // PE (R - 1, j) computed a result, column j presents it (PE (R - 1, j)'s b_o) on drain_y_o[j]
  // with drain_row_o[j] = R - 1. The caller does not mix the two drains, nor folds of
  // different R, in one column at a time.
  for (genvar j = 0; j < N; j++) begin : g_drain
    logic [N-1:0]       last, at_tap, at_ws, hand_q;
    logic [N-1:0][31:0] shadow_q, stage_q, south;
    logic               load_q, busy_q, ws_q;
    logic [6:0]         tap_q, row_q, ws_row_q;

    for (genvar i = 0; i < N; i++) begin : g_row
      assign last[i]   = valid_w[i][j] && op_w[i][j] == OpMac && sel_w[i][j][7];
      assign at_tap[i] = last[i] && sel_w[i][j][6:0] == 7'(i);
      assign at_ws[i]  = valid_w[i][j] && op_w[i][j] == OpWsDot && sel_w[i][j][6:0] == 7'(i);
      assign south[i]  = b_w[i+1][j];
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        hand_q   <= '0;
        shadow_q <= '0;
        stage_q  <= '0;
        load_q   <= 1'b0;
        busy_q   <= 1'b0;
        tap_q    <= '0;
        row_q    <= '0;
        ws_q     <= 1'b0;
        ws_row_q <= '0;
      end else if (en) begin
        hand_q <= last;
        ws_q   <= |at_ws;
        for (int i = 0; i < N; i++) begin
          if (at_ws[i]) ws_row_q <= 7'(i);
        end
        for (int i = 0; i < N; i++) begin
          if (hand_q[i]) shadow_q[i] <= acc_w[j][i];
        end
        load_q <= 1'b0;
        for (int i = 0; i < N; i++) begin
          if (at_tap[i]) begin
            load_q <= 1'b1;
            tap_q  <= 7'(i);
          end
        end
        for (int i = 1; i < N; i++) begin
          stage_q[i] <= load_q ? shadow_q[i-1] : stage_q[i-1];
        end
        if (load_q) begin
          busy_q <= tap_q != 7'd0;
          row_q  <= tap_q - 7'd1;
        end else if (busy_q) begin
          busy_q <= row_q != 7'd0;
          row_q  <= row_q - 7'd1;
        end
      end
    end

    assign drain_valid_o[j] = load_q || busy_q || ws_q;
    assign drain_row_o[j]   = {1'b0, ws_q ? ws_row_q : load_q ? tap_q : row_q};
    assign drain_y_o[j]     = ws_q   ? south[ws_row_q[$clog2(N+1)-1:0]] :
                              load_q ? acc_w[j][tap_q[$clog2(N+1)-1:0]] :
                                       stage_q[tap_q[$clog2(N+1)-1:0]];
    logic unused_stage0;
    assign unused_stage0 = ^{stage_q[0], shadow_q[N-1]};
  end

  assign out_valid_o = valid_w[N][N-1] && is_column_op(op_w[N][N-1]);
  assign out_op_o    = op_w[N][N-1];
  assign out_sel_o   = sel_w[N][N-1];

  // unread outputs of the east and south edges
  for (genvar i = 0; i < N; i++) begin : g_east_unused
    logic unused;
    assign unused = ^a_w[i][N];
  end
  for (genvar j = 0; j < N; j++) begin : g_south_unused
    logic unused;
    if (j == N - 1) begin : g_last
      assign unused = ^{flag_w[N][j], entry_w[N][j]};
    end else begin : g_other
      assign unused = ^{valid_w[N][j], op_w[N][j], flag_w[N][j], sel_w[N][j], entry_w[N][j]};
    end
  end
endmodule
