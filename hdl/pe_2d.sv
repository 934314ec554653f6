// One PE of the FuseMax 2D array: an fp32 accumulator (the stationary value), one fp32
// multiplier and one fp32 adder chained as r = round(round(x * y) + z) (a rounded multiply
// followed by a rounded add, as the functional executor rounds; not a fused multiply-add),
// an exact max, and the hardware exp sequenced over the same multiplier and adder (with
// FastExp the executor's fast exp, as pe_2d_fastexp: 4 / 5 cycles instead of 8 / 9).
//
// An operation (op_i, with flag_i, sel_i and the north operand b_i) is accepted when
// valid_i && ready_o; ready_o is low only while an exp runs. Latency (cycles from the
// accepting cycle to the cycle acc_o / b_o show the result): 1 for every operation,
// except OpExp 8 and OpSubExp 9. done_o is high in the cycle acc_o shows a new
// accumulator value. Column reductions and OpWsDot leave their result y on b_o one cycle
// after acceptance; every other operation passes b_i to b_o. OpWsDot is the weight-
// stationary MAC on the stationary weight acc, which it first takes from w_i (the tile's
// shadow register) when sel_i[7] is set (the fold's first streamed operand). a_i, the
// operation and its fields pass east/south registered, every cycle (en_i high), whether
// valid or not.
//
// StorageFormat (fp32_pkg::StorageBf16 / StorageFp16) is the format of OpNarrow and of
// the register file: Entries words (at most 16) of the storage format, the arch YAML's
// register_file_entries (rf_2d). With flag_i set, the operations that read the resident
// value x (OpExp, OpSubExp, OpColSum, OpColMax, OpColDot) read it from entry entry_i,
// widened, instead of acc, and OpNarrow also writes the narrowed acc into entry entry_i, so
// that tiles stay in the PEs across Einsums while the next tile accumulates (FuseMax's BQK
// and SLN). entry_i < Entries; it passes south with the operation.
module pe_2d
  import fp32_pkg::*;
  import tile_pkg::*;
  import pe_2d_pkg::*;
#(
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned Entries       = 16,
  parameter bit          FastExp       = 1'b0  // the fast exp (pe_2d_fastexp)
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        en_i,       // clock enable: every register holds while low
  input  logic [7:0]  row_i,      // this PE's row (OpReadRow), a constant
  input  logic        valid_i,
  output logic        ready_o,
  input  pe_op_e      op_i,
  input  logic        flag_i,
  input  logic [7:0]  sel_i,
  input  logic [3:0]  entry_i,    // register-file entry (flag_i: x from it; OpNarrow: to it)
  input  logic [31:0] a_i,        // west operand (fp32)
  input  logic [31:0] b_i,        // north operand (fp32) or partial column result y
  input  logic [31:0] w_i,        // the weight-stationary shadow weight (fp32, OpWsDot)
  output logic [31:0] a_o,        // to the east: a_i, registered
  output logic        valid_o,    // to the south: valid_i, op_i, flag_i, sel_i registered,
  output pe_op_e      op_o,       //   and b_o: y of a column reduction, else b_i
  output logic        flag_o,
  output logic [7:0]  sel_o,
  output logic [3:0]  entry_o,
  output logic [31:0] b_o,
  output logic [31:0] acc_o,
  output logic        done_o
);
  /* verilator no_inline_module */

  logic [31:0]        acc_q, acc_d, y, b_q, a_q;
  logic               acc_we, done_q, valid_q, flag_q;
  pe_op_e             op_q;
  logic [7:0]         sel_q;
  logic [3:0]         entry_q;

  // the register file and the resident value x
  localparam int unsigned EntryW = (Entries > 1) ? $clog2(Entries) : 1;
  logic [Entries-1:0][15:0] rf_q;
  logic [EntryW-1:0]        entry;
  logic [31:0]              x;
  logic                     rf_we;
  assign entry = entry_i[EntryW-1:0];
  assign x     = resident(flag_i, rf_q[entry], acc_q, StorageFormat);
  assign rf_we = writes_rf(fire, flag_i, op_i);
  logic               fire, exp_start;

  // the chain
  logic [31:0]        mul_a, mul_b, add_b, mul_r, chain_r;
  logic signed [12:0] mul_scale;

  // the exp sequencer's view of the chain
  logic               seq_active, seq_busy, seq_done;
  logic [31:0]        seq_mul_a, seq_mul_b, seq_add_b, seq_r;
  logic signed [12:0] seq_mul_scale;

  fp32_mul u_mul (
    .a_i    (mul_a),
    .b_i    (mul_b),
    .scale_i(mul_scale),
    .r_o    (mul_r)
  );

  fp32_add u_add (
    .a_i(mul_r),
    .b_i(add_b),
    .r_o(chain_r)
  );

  assign ready_o   = !seq_busy;
  assign fire      = valid_i && !seq_busy;
  assign exp_start = fire && starts_exp(op_i);

  // the exp sequencer: the hardware exp or, with FastExp, the fast one (fp32_exp_pwl_seq's)
  fp32_exp_seq #(
    .Fast(FastExp)
  ) u_exp (
    .clk_i,
    .rst_ni,
    .en_i,
    .start_i    (exp_start),
    .sub_i      (op_i == OpSubExp),
    .x_i        (x),
    .z_i        (b_i),
    .active_o   (seq_active),
    .mul_a_o    (seq_mul_a),
    .mul_b_o    (seq_mul_b),
    .mul_scale_o(seq_mul_scale),
    .add_b_o    (seq_add_b),
    .chain_i    (chain_r),
    .busy_o     (seq_busy),
    .done_o     (seq_done),
    .result_o   (seq_r)
  );

  // operands of the chain (pe_2d_pkg: the same functions as pe_array_2d's loop)
  always_comb begin
    if (seq_active) begin
      mul_a     = seq_mul_a;
      mul_b     = seq_mul_b;
      mul_scale = seq_mul_scale;
      add_b     = seq_add_b;
    end else begin
      pe_operands(op_i, flag_i, sel_i[7], a_i, b_i, w_i, acc_q, x, mul_a, mul_b, add_b);
      mul_scale = 13'sd0;
    end
  end

  // results
  always_comb begin
    pe_results(fire, op_i, sel_i, row_i, b_i, w_i, acc_q, x, chain_r, seq_done, seq_r,
               StorageFormat, acc_d, acc_we, y);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q   <= '0;
      done_q  <= 1'b0;
      a_q     <= '0;
      b_q     <= '0;
      valid_q <= 1'b0;
      op_q    <= OpNop;
      flag_q  <= 1'b0;
      sel_q   <= '0;
      entry_q <= '0;
      rf_q    <= '0;
    end else if (en_i) begin
      if (rf_we) rf_q[entry] <= narrow(acc_q, StorageFormat);
      if (acc_we) acc_q <= acc_d;
      done_q  <= acc_we;
      a_q     <= a_i;
      b_q     <= y;
      valid_q <= valid_i;
      op_q    <= op_i;
      flag_q  <= flag_i;
      sel_q   <= sel_i;
      entry_q <= entry_i;
    end
  end

  assign acc_o   = acc_q;
  assign done_o  = done_q;
  assign a_o     = a_q;
  assign b_o     = b_q;
  assign valid_o = valid_q;
  assign op_o    = op_q;
  assign flag_o  = flag_q;
  assign sel_o   = sel_q;
  assign entry_o = entry_q;
endmodule
