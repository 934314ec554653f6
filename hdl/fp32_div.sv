// fp32 divider, correctly rounded (nearest, ties to even; subnormals in and out, overflow
// to inf, IEEE special values), fully pipelined: radix-2 restoring division of the
// significands, one quotient bit per pipeline stage. A division accepted in cycle c
// (in_valid_i && in_ready_o) is on q_o with out_valid_o in cycle c + 27, whatever its
// operands, and stays there until out_ready_i; a new division may be accepted in every
// cycle, so divisions stream one per cycle, their results in the order they came.
// Back-pressure stalls the whole pipeline: while a result is offered and not taken
// (out_valid_o && !out_ready_i) no stage moves and in_ready_o is low.
//
// Stage 0 holds the operands as accepted, both significands normalised to [2^23, 2^24)
// (subnormals too), so their ratio lies in (1/2, 2). Stages 1..26 each hold one more
// quotient bit of  q = 2q + (r >= d); r = 2 (r - [r >= d] d),  starting from r = a's
// significand; stage 26 has q = floor(2^25 a_sig / b_sig), of which at least 25 bits are
// significant, and the remainder r, and rounds q with sticky = (r != 0) as the exact
// quotient rounds, in the normal and the subnormal range. Model:
// sim/functional/hardware_divide.h.
//
// Special values: NaN operand, 0/0, inf/inf -> canonical quiet NaN; inf/x and x/0 (x != 0)
// -> inf; 0/x and x/inf -> 0; the sign of a non-NaN result is sign(a) xor sign(b).
//
// busy_o: a division is in stages 0..25 (one that will be offered later than this cycle);
// the 1D lane uses it to keep its results in order.
module fp32_div
  import fp32_pkg::*;
(
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        in_valid_i,
  output logic        in_ready_o,
  input  logic [31:0] a_i,         // dividend
  input  logic [31:0] b_i,         // divisor
  output logic        out_valid_o,
  input  logic        out_ready_i,
  output logic [31:0] q_o,         // round(a / b)
  output logic        busy_o
);
  localparam int unsigned Steps = 26;

  typedef enum logic [1:0] {SpNone, SpNaN, SpInf, SpZero} special_e;

  // One stage's registers; stage s (1..26) holds s quotient bits in quo[s-1:0].
  typedef struct packed {
    logic               valid;
    logic               sign;
    special_e           special;
    logic signed [15:0] exp;
    logic [23:0]        dsr;
    logic [25:0]        rem;
    logic [25:0]        quo;
  } stage_t;

  stage_t             first_q, last;  // stage 0 and stage 26
  logic               en;
  logic [Steps - 1:0] in_flight;

  // operands, normalised
  stage_t             first_d;
  logic [63:0]        na, nb;
  logic [5:0]         lza, lzb;
  special_e           special_d;

  always_comb begin
    na = normalize({sig_of(a_i), 40'd0}, lza);
    nb = normalize({sig_of(b_i), 40'd0}, lzb);
    if (is_nan(a_i) || is_nan(b_i) || (is_inf(a_i) && is_inf(b_i))
        || (is_zero(a_i) && is_zero(b_i)))
      special_d = SpNaN;
    else if (is_inf(a_i) || is_zero(b_i))
      special_d = SpInf;
    else if (is_zero(a_i) || is_inf(b_i))
      special_d = SpZero;
    else
      special_d = SpNone;
    first_d.valid   = in_valid_i;
    first_d.sign    = a_i[31] ^ b_i[31];
    first_d.special = special_d;
    first_d.exp     = (exp_of(a_i) - $signed({10'd0, lza})) - (exp_of(b_i) - $signed({10'd0, lzb}));
    first_d.dsr     = nb[63:40];
    first_d.rem     = {2'b0, na[63:40]};
    first_d.quo     = '0;
  end

  assign en          = !(last.valid && !out_ready_i);
  assign in_ready_o  = en;
  assign out_valid_o = last.valid;
  assign busy_o      = |in_flight;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) first_q <= '0;
    else if (en) first_q <= first_d;
  end

  // one restoring step per stage: g_step[s].q is stage s + 1
  for (genvar s = 0; s < Steps; s++) begin : g_step
    stage_t      d, q;
    logic        ge;
    logic [24:0] diff;  // < the divisor < 2^24
    if (s == 0) begin : g_from
      assign d = first_q;
    end else begin : g_from
      assign d = g_step[s - 1].q;
    end
    assign in_flight[s] = d.valid;
    always_comb begin
      ge   = d.rem >= {2'b0, d.dsr};
      diff = 25'(ge ? d.rem - {2'b0, d.dsr} : d.rem);
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        q <= '0;
      end else if (en) begin
        q     <= d;
        q.rem <= {diff, 1'b0};
        q.quo <= {d.quo[24:0], ge};
      end
    end
  end
  assign last = g_step[Steps - 1].q;

  // rounding: the last stage's quo[25] weighs 2^exp
  logic [63:0] nq;
  logic [5:0]  lzq;
  logic        unused_na, unused_nb, unused_dsr;
  always_comb begin
    nq = normalize({last.quo, 38'd0}, lzq);
    unique case (last.special)
      SpNaN:   q_o = Fp32QNaN;
      SpInf:   q_o = {last.sign, 31'h7F80_0000};
      SpZero:  q_o = {last.sign, 31'd0};
      default: q_o = round_pack(last.sign, last.exp - $signed({10'd0, lzq}), nq, last.rem != 26'd0, 8, 23);
    endcase
  end
  assign unused_na = ^{na[39:0]};
  assign unused_nb = ^{nb[39:0]};
  assign unused_dsr = ^last.dsr;
endmodule
