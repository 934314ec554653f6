// The online-softmax 1D unit: L lanes (one per query) of softmax_lane running the same
// command in lockstep on per-lane operands (see softmax_lane for the commands, their
// latencies and NarrowResults). The command is taken when every lane is ready, the result
// offered when every lane has it (the lanes' latencies are fixed, so they always agree).
module softmax_1d
  import fp32_pkg::*;
  import softmax_pkg::*;
#(
  parameter int unsigned L = 4,
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned NarrowResults = 1
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               cmd_valid_i,
  output logic               cmd_ready_o,
  input  lane_cmd_e          cmd_i,
  input  logic [L-1:0][31:0] x_i,
  input  logic [L-1:0][31:0] y_i,
  input  logic [L-1:0][31:0] z_i,
  output logic               res_valid_o,
  input  logic               res_ready_i,
  output logic [L-1:0][31:0] r0_o,
  output logic [L-1:0][31:0] r1_o
);
  logic [L-1:0] cmd_ready, res_valid;

  assign cmd_ready_o = &cmd_ready;
  assign res_valid_o = &res_valid;

  for (genvar l = 0; l < L; l++) begin : g_lane
    softmax_lane #(
      .StorageFormat(StorageFormat),
      .NarrowResults(NarrowResults)
    ) u_lane (
      .clk_i,
      .rst_ni,
      .cmd_valid_i(cmd_valid_i && cmd_ready_o),
      .cmd_ready_o(cmd_ready[l]),
      .cmd_i,
      .x_i        (x_i[l]),
      .y_i        (y_i[l]),
      .z_i        (z_i[l]),
      .res_valid_o(res_valid[l]),
      .res_ready_i(res_ready_i && res_valid_o),
      .r0_o       (r0_o[l]),
      .r1_o       (r1_o[l])
    );
  end
endmodule
