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

  // Stage s's registers are element s of each array; stage s (1..26) holds s quotient bits
  // in quo_q[s][s-1:0].
  logic [Steps:0]             valid_q, sign_q;
  logic [Steps:0][1:0]        special_q;
  logic [Steps:0][15:0]       exp_q;
  logic [Steps:0][23:0]       dsr_q;
  logic [Steps:0][25:0]       rem_q, quo_q;
  logic                       en;

  // operands, normalised
  logic [63:0]        na, nb;
  logic [5:0]         lza, lzb;
  logic signed [15:0] exp_d;
  special_e           special_d;

  always_comb begin
    na    = normalize({sig_of(a_i), 40'd0}, lza);
    nb    = normalize({sig_of(b_i), 40'd0}, lzb);
    exp_d = (exp_of(a_i) - $signed({10'd0, lza})) - (exp_of(b_i) - $signed({10'd0, lzb}));
    if (is_nan(a_i) || is_nan(b_i) || (is_inf(a_i) && is_inf(b_i))
        || (is_zero(a_i) && is_zero(b_i)))
      special_d = SpNaN;
    else if (is_inf(a_i) || is_zero(b_i))
      special_d = SpInf;
    else if (is_zero(a_i) || is_inf(b_i))
      special_d = SpZero;
    else
      special_d = SpNone;
  end

  assign en          = !(valid_q[Steps] && !out_ready_i);
  assign in_ready_o  = en;
  assign out_valid_o = valid_q[Steps];
  assign busy_o      = |valid_q[Steps-1:0];

  // one restoring step per stage, from stage s to stage s + 1
  logic [Steps-1:0]       ge;
  logic [Steps-1:0][24:0] diff;  // < the divisor < 2^24
  always_comb begin
    for (int s = 0; s < Steps; s++) begin
      ge[s]   = rem_q[s] >= {2'b0, dsr_q[s]};
      diff[s] = 25'(ge[s] ? rem_q[s] - {2'b0, dsr_q[s]} : rem_q[s]);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q   <= '0;
      sign_q    <= '0;
      special_q <= '0;
      exp_q     <= '0;
      dsr_q     <= '0;
      rem_q     <= '0;
      quo_q     <= '0;
    end else if (en) begin
      valid_q[0]   <= in_valid_i;
      sign_q[0]    <= a_i[31] ^ b_i[31];
      special_q[0] <= special_d;
      exp_q[0]     <= exp_d;
      dsr_q[0]     <= nb[63:40];
      rem_q[0]     <= {2'b0, na[63:40]};
      quo_q[0]     <= '0;
      for (int s = 0; s < Steps; s++) begin
        valid_q[s + 1]   <= valid_q[s];
        sign_q[s + 1]    <= sign_q[s];
        special_q[s + 1] <= special_q[s];
        exp_q[s + 1]     <= exp_q[s];
        dsr_q[s + 1]     <= dsr_q[s];
        rem_q[s + 1]     <= {diff[s], 1'b0};
        quo_q[s + 1]     <= 26'({quo_q[s], ge[s]});  // the top bit is 0 (s < 26)
      end
    end
  end

  // rounding: the last stage's quo_q[Steps][25] weighs 2^exp_q[Steps]
  logic [63:0] nq;
  logic [5:0]  lzq;
  logic        sign;
  logic        unused_na, unused_nb, unused_dsr;
  assign sign = sign_q[Steps];
  always_comb begin
    nq = normalize({quo_q[Steps], 38'd0}, lzq);
    unique case (special_e'(special_q[Steps]))
      SpNaN:   q_o = Fp32QNaN;
      SpInf:   q_o = {sign, 31'h7F80_0000};
      SpZero:  q_o = {sign, 31'd0};
      default: q_o = round_pack(sign, $signed(exp_q[Steps]) - $signed({10'd0, lzq}), nq,
                                rem_q[Steps] != 26'd0, 8, 23);
    endcase
  end
  assign unused_na  = ^{na[39:0]};
  assign unused_nb  = ^{nb[39:0]};
  assign unused_dsr = ^dsr_q[Steps];
endmodule
