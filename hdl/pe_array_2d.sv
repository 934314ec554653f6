// The N x N PEs of tile_2d with pe_2d's logic (pe_2d_pkg, fp32_exp_pkg), all evaluated in
// one loop over the PEs instead of one module instance per PE: the same registers and the
// same next-state functions, so the same cycles and bits as N x N pe_2d instances wired as
// tile_2d wires them (tests/hdl/test_tile_2d: both tiles against one golden model), but
// the Verilated model has the loop body once instead of a copy per PE, which at N = 16
// runs 5 x faster (hdl/README.md, "Measured"). Hardware exp only (pe_2d with FastExp = 0);
// the tile uses this array unless CASCADE_PE_MODULE names a PE module.
//
// A band of Rows rows of the tile (all N with Rows = N; the tile cuts a 16 x 16 array into
// bands that Verilator's threads evaluate side by side), the first of them the tile's row
// FirstRow. PE p = i * N + j sits in the band's row i, column j. Its inputs: a from the
// west neighbour's a_o (row i's west_a_i for j = 0), the operation and b from the north
// neighbour's registers (for i = 0 column j's north_*_i: the tile's north edge or the band
// above), w_i its shadow weight. Its registered outputs are the *_o arrays, indexed by p, as
// pe_2d's a_o .. acc_o.
module pe_array_2d
  import fp32_pkg::*;
  import tile_pkg::*;
  import fp32_exp_pkg::*;
  import pe_2d_pkg::*;
#(
  parameter int unsigned N             = 4,
  parameter int unsigned Rows          = N,
  parameter int unsigned FirstRow      = 0,
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned Entries       = 16
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        en_i,               // clock enable: every register holds while low
  input  logic [31:0] west_a_i [Rows],    // a entering row i's PE (i, 0)
  input  logic        north_valid_i [N],  // the operation entering column j's PE (0, j)
  input  pe_op_e      north_op_i [N],
  input  logic        north_flag_i [N],
  input  logic [7:0]  north_sel_i [N],
  input  logic [3:0]  north_entry_i [N],
  input  logic [31:0] north_b_i [N],
  input  logic [31:0] w_i [Rows*N],       // PE p's shadow weight (fp32)
  output logic        ready_o,            // PE (0, 0)'s ready_o
  output logic [31:0] a_o [Rows*N],
  output logic        valid_o [Rows*N],
  output pe_op_e      op_o [Rows*N],
  output logic        flag_o [Rows*N],
  output logic [7:0]  sel_o [Rows*N],
  output logic [3:0]  entry_o [Rows*N],
  output logic [31:0] b_o [Rows*N],
  output logic [31:0] acc_o [Rows*N]
);
  localparam int unsigned P      = Rows * N;
  localparam int unsigned EntryW = (Entries > 1) ? $clog2(Entries) : 1;

  logic [31:0] acc_q [P];
  // The register files and the exp sequencers are read by their own PE only, in its
  // iteration before it writes them, so the loop updates them in place (blocking: the same
  // values as nonblocking, without copying 16 words per PE every cycle).
  logic [15:0]        rf_q [P][Entries];
  exp_step_e          exp_state_q [P];
  logic [31:0]        exp_tmp_q [P], exp_f_q [P];
  logic signed [12:0] exp_i_q [P];
  logic               exp_nan_q [P], exp_big_q [P], exp_neg_q [P];
  logic               ready_q;  // PE (0, 0) idle: read by the tile, so nonblocking

  // The next values of the registers the tile reads, written by pe_cycle for every PE and
  // assigned as whole arrays (Verilator 5.006 rejects a nonblocking assignment to an array
  // element inside a loop).
  logic [31:0] acc_n [P], a_n [P], b_n [P];
  logic        valid_n [P], flag_n [P];
  pe_op_e      op_n [P];
  logic [7:0]  sel_n [P];
  logic [3:0]  entry_n [P];

  // One cycle of PE p = i * N + j: pe_2d's always_comb and always_ff (a function, so that
  // its variables are the generated code's locals).
  /* verilator lint_off BLKSEQ */
  function automatic void pe_cycle(input int unsigned p);
    int unsigned        i, j;
    logic [31:0]        a, b, acc, x, mul_a, mul_b, add_b, chain, exp_r, acc_d, y;
    logic               valid, flag, busy, fire, active, exp_done, acc_we;
    pe_op_e             op;
    logic [7:0]         sel;
    logic [3:0]         entry;
    logic signed [12:0] mul_scale;
    exp_step_e          st;
    i     = p / N;
    j     = p % N;
    a     = (j == 0) ? west_a_i[i] : a_o[p-1];
    valid = (i == 0) ? north_valid_i[j] : valid_o[p-N];
    op    = (i == 0) ? north_op_i[j]    : op_o[p-N];
    flag  = (i == 0) ? north_flag_i[j]  : flag_o[p-N];
    sel   = (i == 0) ? north_sel_i[j]   : sel_o[p-N];
    entry = (i == 0) ? north_entry_i[j] : entry_o[p-N];
    b     = (i == 0) ? north_b_i[j]     : b_o[p-N];
    acc    = acc_q[p];
    busy   = exp_state_q[p] != StIdle;
    fire   = valid && !busy;
    active = busy || (fire && starts_exp(op));
    x      = resident(flag, rf_q[p][entry[EntryW-1:0]], acc, StorageFormat);
    if (active) begin
      st = exp_step(exp_state_q[p], op == OpSubExp);
      exp_operands(st, 1'b0, exp_state_q[p], exp_tmp_q[p], exp_f_q[p], exp_i_q[p], x, b, mul_a,
                   mul_b, mul_scale, add_b);
      chain = add_round(mul_round(mul_a, mul_b, mul_scale), add_b);
      // 1'b0: the hardware exp
      exp_next(st, 1'b0, exp_tmp_q[p], exp_f_q[p], exp_i_q[p], exp_nan_q[p], exp_big_q[p],
               exp_neg_q[p], chain, exp_state_q[p], exp_tmp_q[p], exp_f_q[p], exp_i_q[p],
               exp_nan_q[p], exp_big_q[p], exp_neg_q[p], exp_done, exp_r);
    end else begin
      pe_operands(op, flag, sel[7], a, b, w_i[p], acc, x, mul_a, mul_b, add_b);
      // the chain only where its result is used (the same value as pe_2d's, which
      // computes it every cycle)
      chain    = (fire && uses_chain(op)) ? add_round(mul_round(mul_a, mul_b, 13'sd0), add_b)
                                          : 32'd0;
      exp_done = 1'b0;
      exp_r    = chain;
    end
    pe_results(fire, op, sel, 8'(FirstRow + i), b, w_i[p], acc, x, chain, exp_done, exp_r,
               StorageFormat, acc_d, acc_we, y);
    if (writes_rf(fire, flag, op)) rf_q[p][entry[EntryW-1:0]] = narrow(acc, StorageFormat);
    acc_n[p]   = acc_we ? acc_d : acc;
    a_n[p]     = a;
    b_n[p]     = y;
    valid_n[p] = valid;
    op_n[p]    = op;
    flag_n[p]  = flag;
    sel_n[p]   = sel;
    entry_n[p] = entry;
  endfunction

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '{default: '0};
      rf_q     = '{default: '{default: '0}};
      exp_state_q = '{default: StIdle};
      exp_tmp_q   = '{default: '0};
      exp_f_q     = '{default: '0};
      exp_i_q     = '{default: '0};
      exp_nan_q   = '{default: 1'b0};
      exp_big_q   = '{default: 1'b0};
      exp_neg_q   = '{default: 1'b0};
      ready_q <= 1'b1;
      a_o     <= '{default: '0};
      b_o     <= '{default: '0};
      valid_o <= '{default: 1'b0};
      op_o    <= '{default: OpNop};
      flag_o  <= '{default: 1'b0};
      sel_o   <= '{default: '0};
      entry_o <= '{default: '0};
    end else if (en_i) begin
      for (int unsigned p = 0; p < P; p++) pe_cycle(p);
      acc_q   <= acc_n;
      a_o     <= a_n;
      b_o     <= b_n;
      valid_o <= valid_n;
      op_o    <= op_n;
      flag_o  <= flag_n;
      sel_o   <= sel_n;
      entry_o <= entry_n;
      ready_q <= exp_state_q[0] == StIdle;
    end
  end
  /* verilator lint_on BLKSEQ */

  assign ready_o = ready_q;
  assign acc_o   = acc_q;
endmodule
