// One lane of the online-softmax 1D unit (one query): the running-state update of
// FuseMax's 1-pass cascade and its final division, in fp32, on one multiplier, one adder
// (the exp sequenced over both, as in pe_2d) and one pipelined divider (fp32_div).
//
//   CmdMaxExp   x = m (running max), y = local max:  r0 = m' = max(m, y)  (exact; y on a
//               tie, NaN if either is NaN), r1 = c = hardware exp(round(m - m'))
//                                                                       latency 9 cycles
//   CmdRescale  x = d (or n), y = local sum (or local numerator), z = c (a CmdMaxExp's r1,
//               which the caller keeps, as FuseMax keeps PRM in the register file):
//               r0 = round(y + round(x * c))                            latency 1 cycle
//   CmdDivide   x = n, y = d: r0 = round(n / d), correctly rounded      latency 27 cycles
//
// With NarrowResults = 1, every value the cascade stores (m', c, x * c, the sum, n / d) is
// rounded to the storage format (fp32 first, then StorageFormat), as the functional
// executor stores every Einsum result of softmax-1pass in the storage format; with 0 they
// stay fp32. Inputs are fp32 patterns (storage values widened, or any fp32).
//
// Handshakes: a command is accepted in a cycle with cmd_valid_i && cmd_ready_o; its
// result is on r0_o / r1_o while res_valid_o, until res_ready_i; results come in the
// order of the commands. Latency: from the accepting cycle to the first cycle of
// res_valid_o. A command is accepted in the cycle the previous result is taken, except
// that a CmdDivide after a CmdDivide is accepted in the next cycle (the divider is
// pipelined: divides stream one per cycle), so cmd_ready_o depends on cmd_i. CmdRescale
// streams one per cycle too. r1_o is meaningful after CmdMaxExp only.
module softmax_lane
  import fp32_pkg::*;
  import softmax_pkg::*;
#(
  parameter int unsigned StorageFormat = StorageBf16,
  parameter int unsigned NarrowResults = 1
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        cmd_valid_i,
  output logic        cmd_ready_o,
  input  lane_cmd_e   cmd_i,
  input  logic [31:0] x_i,
  input  logic [31:0] y_i,
  input  logic [31:0] z_i,
  output logic        res_valid_o,
  input  logic        res_ready_i,
  output logic [31:0] r0_o,
  output logic [31:0] r1_o
);
  function automatic logic [31:0] store(input logic [31:0] v);
    return (NarrowResults != 0) ? widen(narrow(v, StorageFormat), StorageFormat) : v;
  endfunction

  logic               fire, seq_start;
  logic [31:0]        m_new;

  // the chain: round(round(mul_a * mul_b * 2^scale) + add_b), the product stored in
  // CmdRescale (narrowed) before it is added
  logic [31:0]        mul_a, mul_b, add_b, mul_r, add_a, add_r;
  logic signed [12:0] mul_scale;
  logic               seq_active, seq_busy, seq_done;
  logic [31:0]        seq_mul_a, seq_mul_b, seq_add_b, seq_r;
  logic signed [12:0] seq_mul_scale;

  logic [31:0]        r0_q, r1_q;
  logic               res_valid_q, div_mode_q;

  // the divider
  logic               div_in_ready, div_out_valid, div_busy;
  logic [31:0]        div_q;

  assign m_new     = store(max_of(x_i, y_i));
  assign fire      = cmd_valid_i && cmd_ready_o;
  assign seq_start = fire && (cmd_i == CmdMaxExp);

  fp32_exp_seq u_exp (
    .clk_i,
    .rst_ni,
    .en_i       (1'b1),
    .start_i    (seq_start),
    .sub_i      (1'b1),
    .x_i        (x_i),
    .z_i        (m_new),
    .active_o   (seq_active),
    .mul_a_o    (seq_mul_a),
    .mul_b_o    (seq_mul_b),
    .mul_scale_o(seq_mul_scale),
    .add_b_o    (seq_add_b),
    .chain_i    (add_r),
    .busy_o     (seq_busy),
    .done_o     (seq_done),
    .result_o   (seq_r)
  );

  always_comb begin
    if (seq_active) begin
      mul_a     = seq_mul_a;
      mul_b     = seq_mul_b;
      mul_scale = seq_mul_scale;
      add_b     = seq_add_b;
    end else begin
      mul_a     = x_i;
      mul_b     = z_i;
      mul_scale = 13'sd0;
      add_b     = y_i;
    end
  end

  fp32_mul u_mul (
    .a_i    (mul_a),
    .b_i    (mul_b),
    .scale_i(mul_scale),
    .r_o    (mul_r)
  );

  assign add_a = seq_active ? mul_r : store(mul_r);

  fp32_add u_add (
    .a_i(add_a),
    .b_i(add_b),
    .r_o(add_r)
  );

  fp32_div u_div (
    .clk_i,
    .rst_ni,
    .in_valid_i (fire && (cmd_i == CmdDivide)),
    .in_ready_o (div_in_ready),
    .a_i        (x_i),
    .b_i        (y_i),
    .out_valid_o(div_out_valid),
    .out_ready_i(res_ready_i && div_mode_q),
    .q_o        (div_q),
    .busy_o     (div_busy)
  );

  assign res_valid_o = div_mode_q ? div_out_valid : res_valid_q;
  // A divide joins the divides in flight (the divider stalls while its result waits), or
  // waits for the previous command's result to be taken; any other command waits for the
  // divides in flight and the previous result.
  assign cmd_ready_o = seq_busy ? 1'b0
                     : cmd_i == CmdDivide ? (div_mode_q ? div_in_ready : !res_valid_q || res_ready_i)
                     : !div_busy && (!res_valid_o || res_ready_i);
  assign r0_o        = div_mode_q ? store(div_q) : r0_q;
  assign r1_o        = r1_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r0_q        <= '0;
      r1_q        <= '0;
      res_valid_q <= 1'b0;
      div_mode_q  <= 1'b0;
    end else begin
      if (res_valid_o && res_ready_i) res_valid_q <= 1'b0;
      if (fire) begin
        div_mode_q <= cmd_i == CmdDivide;
        unique case (cmd_i)
          CmdMaxExp:  r0_q <= m_new;
          CmdRescale: begin
            r0_q        <= store(add_r);
            res_valid_q <= 1'b1;
          end
          default: ;
        endcase
      end
      if (seq_done) begin
        r1_q        <= store(seq_r);
        res_valid_q <= 1'b1;
      end
    end
  end
endmodule
