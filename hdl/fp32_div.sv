// fp32 divider, correctly rounded (nearest, ties to even; subnormals in and out, overflow
// to inf, IEEE special values): radix-2 restoring division of the significands, one
// quotient bit per cycle. Fixed latency: a division accepted in cycle 0 (in_valid_i &&
// in_ready_o) is on q_o with out_valid_o in cycle 27, whatever its operands, and stays
// there until out_ready_i. A new division may be accepted in the cycle its predecessor's
// result is taken.
//
// Both significands are first normalised to [2^23, 2^24) (subnormals too), so their
// ratio lies in (1/2, 2). 26 steps of  q = 2q + (r >= d); r = 2 (r - [r >= d] d),
// starting from r = a's significand, give q = floor(2^25 a_sig / b_sig), of which at
// least 25 bits are significant, and the remainder r; q with sticky = (r != 0) rounds
// like the exact quotient, in the normal and the subnormal range. Model:
// sim/functional/hardware_divide.h.
//
// Special values: NaN operand, 0/0, inf/inf -> canonical quiet NaN; inf/x and x/0 (x != 0)
// -> inf; 0/x and x/inf -> 0; the sign of a non-NaN result is sign(a) xor sign(b).
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
  output logic [31:0] q_o          // round(a / b)
);
  localparam int unsigned Steps = 26;

  typedef enum logic [1:0] {SpNone, SpNaN, SpInf, SpZero} special_e;

  logic               busy_q, valid_q, sign_q;
  logic [4:0]         count_q;
  logic [25:0]        rem_q, quo_q;
  logic [23:0]        dsr_q;
  logic signed [15:0] exp_q;
  special_e           special_q, special_d;
  logic               fire;

  // operands, normalised
  logic [63:0]        na, nb;
  logic [5:0]         lza, lzb;
  logic signed [15:0] exp_d;

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

  assign in_ready_o  = !busy_q && (!valid_q || out_ready_i);
  assign fire        = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;

  // one restoring step
  logic        ge;
  logic [24:0] diff;  // < the divisor < 2^24
  assign ge   = rem_q >= {2'b0, dsr_q};
  assign diff = 25'(ge ? rem_q - {2'b0, dsr_q} : rem_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q    <= 1'b0;
      valid_q   <= 1'b0;
      sign_q    <= 1'b0;
      count_q   <= '0;
      rem_q     <= '0;
      quo_q     <= '0;
      dsr_q     <= '0;
      exp_q     <= '0;
      special_q <= SpNone;
    end else if (fire) begin
      busy_q    <= 1'b1;
      valid_q   <= 1'b0;
      sign_q    <= a_i[31] ^ b_i[31];
      count_q   <= 5'(Steps);
      rem_q     <= {2'b0, na[63:40]};
      quo_q     <= '0;
      dsr_q     <= nb[63:40];
      exp_q     <= exp_d;
      special_q <= special_d;
    end else if (busy_q) begin
      rem_q   <= {diff[24:0], 1'b0};
      quo_q   <= {quo_q[24:0], ge};
      count_q <= count_q - 5'd1;
      if (count_q == 5'd1) begin
        busy_q  <= 1'b0;
        valid_q <= 1'b1;
      end
    end else if (out_ready_i) begin
      valid_q <= 1'b0;
    end
  end

  // rounding: quo_q[25] weighs 2^exp_q
  logic [63:0] nq;
  logic [5:0]  lzq;
  logic        unused_na, unused_nb;
  always_comb begin
    nq = normalize({quo_q, 38'd0}, lzq);
    unique case (special_q)
      SpNaN:   q_o = Fp32QNaN;
      SpInf:   q_o = {sign_q, 31'h7F80_0000};
      SpZero:  q_o = {sign_q, 31'd0};
      default: q_o = round_pack(sign_q, exp_q - $signed({10'd0, lzq}), nq, rem_q != 26'd0, 8, 23);
    endcase
  end
  assign unused_na = ^{na[39:0]};
  assign unused_nb = ^{nb[39:0]};
endmodule
