// pe_2d with a cheaper exp (hdl/README.md, "Bring your own kernel"): the same ports,
// operations, register file and timing as pe_2d except the exp, which is fp32_exp_pwl_seq
// (2^f piecewise linear on 8 segments, the executor's `--exp fast`) instead of
// fp32_exp_seq (degree-5 polynomial, `--exp hardware`): OpExp takes 4 cycles instead of 8,
// OpSubExp 5 instead of 9. Shipped as the second tile variant (`cascade simulate
// --fidelity rtl --rtl-pe fastexp`) and as the worked example of a user's own PE meeting
// pe_2d's contract: here pe_2d itself with FastExp set (a PE of your own would have its own
// datapath behind the same ports).
module pe_2d_fastexp
  import fp32_pkg::*;
  import tile_pkg::*;
#(
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned Entries       = 16
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
  pe_2d #(
    .StorageFormat(StorageFormat),
    .Entries      (Entries),
    .FastExp      (1'b1)
  ) u_pe (
    .clk_i,
    .rst_ni,
    .en_i,
    .row_i,
    .valid_i,
    .ready_o,
    .op_i,
    .flag_i,
    .sel_i,
    .entry_i,
    .a_i,
    .b_i,
    .w_i,
    .a_o,
    .valid_o,
    .op_o,
    .flag_o,
    .sel_o,
    .entry_o,
    .b_o,
    .acc_o,
    .done_o
  );
endmodule
