// A cheaper exp for the 2D PE (pe_2d_fastexp): the executor's "fast" exp
// (sim/functional/number_format.h, fast_exp_as<FP32>), 2^f piecewise linear on 8 segments
// instead of fp32_exp_seq's degree-5 polynomial, sequenced over the host's one multiplier
// and one adder:
//
//   [S]  s = round(x - z)                    only for exp(x - z) (sub_i)
//   T    t = round(s * log2e)                log2e rounded to fp32
//   F    f = round(t - i), i = floor(t)      i from exponent/shift logic
//   L    p = round(round(b_k * f) + a_k)     k = min(floor(8 f), 7), from f's exponent and
//                                            top two fraction bits; a_k, b_k fp32
//   SC   r = round(p * 2^i)                  the multiplier's exponent offset
//
// Segment k's line is the chord of 2^f on [k/8, (k+1)/8] scaled by 1 / (1 + e_k / 2), e_k
// the chord's largest relative error, so the error alternates +-4.69e-4 (then rounded to
// fp32: max |p(f)/2^f - 1| = 4.692e-4). One step per cycle as in fp32_exp_seq; exp: 4
// cycles, exp(x - z): 5. Special values as fp32_exp_seq: NaN -> NaN, |t| >= 2048 (also
// t = +-inf) -> +inf for t > 0, +0 for t < 0.
//
// The first step runs in the start cycle on x_i / z_i; the result is on result_o in the
// last cycle (done_o), for the host to register. Same ports as fp32_exp_seq.
module fp32_exp_pwl_seq
  import fp32_pkg::*;
  import fp32_exp_pkg::exp_floor;
(
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               en_i,         // clock enable: every register holds while low
  input  logic               start_i,      // begin a sequence (ignored while busy_o)
  input  logic               sub_i,        // compute exp(x - z) instead of exp(x)
  input  logic [31:0]        x_i,          // read in the start cycle only
  input  logic [31:0]        z_i,          // read in the start cycle only
  output logic               active_o,     // the sequence drives the chain this cycle
  output logic [31:0]        mul_a_o,
  output logic [31:0]        mul_b_o,
  output logic signed [12:0] mul_scale_o,
  output logic [31:0]        add_b_o,
  input  logic [31:0]        chain_i,      // the host's chain result for these operands
  output logic               busy_o,       // a sequence runs (cycles after its start cycle)
  output logic               done_o,       // the last cycle: result_o holds the exp
  output logic [31:0]        result_o
);
  localparam logic [31:0] Log2e = 32'h3FB8_AA3B;  // round_fp32(log2(e))
  typedef enum logic [2:0] {
    StIdle, StSub, StT, StF, StLine, StScale
  } step_e;

  step_e              state_q, step, step_next;
  logic [31:0]        tmp_q, tmp_d;      // s, then t, then p
  logic [31:0]        f_q, f_d;
  logic signed [12:0] i_q, i_d;
  logic               nan_q, nan_d, big_q, big_d, neg_q, neg_d;  // specials of t

  // floor(t) for |t| < 2048, and -floor(t) as an fp32 (-0 for floor(t) = 0).
  logic signed [12:0] floor_t;
  logic [31:0]        neg_floor;
  logic [2:0]         seg;               // k = min(floor(8 f), 7) of f_q in [0, 1]
  logic [31:0]        seg_a, seg_b;      // its line p = b_k * f + a_k

  always_comb exp_floor(tmp_q, floor_t, neg_floor);  // fp32_exp_pkg, as the hardware exp

  always_comb begin
    unique case (f_q[30:23])
      8'd124:  seg = 3'd1;                      // [1/8, 1/4)
      8'd125:  seg = {2'b01, f_q[22]};          // [1/4, 1/2)
      8'd126:  seg = {1'b1, f_q[22:21]};        // [1/2, 1)
      default: seg = (f_q[30:23] > 8'd126) ? 3'd7 : 3'd0;  // f = 1 (rounded up); f < 1/8
    endcase
  end

  // the segments' fp32 coefficients (sim/functional/number_format.h, kExpFastA / kExpFastB)
  always_comb begin
    unique case (seg)
      3'd0: begin seg_a = 32'h3F7F_E141; seg_b = 32'h3F39_45DB; end
      3'd1: begin seg_a = 32'h3F7D_C8A8; seg_b = 32'h3F4A_0AA0; end
      3'd2: begin seg_a = 32'h3F79_3655; seg_b = 32'h3F5C_53EC; end
      3'd3: begin seg_a = 32'h3F71_BBF6; seg_b = 32'h3F70_44EA; end
      3'd4: begin seg_a = 32'h3F66_DC72; seg_b = 32'h3F83_01F9; end
      3'd5: begin seg_a = 32'h3F58_0A23; seg_b = 32'h3F8E_DD6B; end
      3'd6: begin seg_a = 32'h3F44_A4DF; seg_b = 32'h3F9B_CB99; end
      default: begin seg_a = 32'h3F2B_F7C5; seg_b = 32'h3FA9_E55F; end
    endcase
  end

  assign busy_o   = state_q != StIdle;
  assign active_o = busy_o || start_i;
  assign step     = busy_o ? state_q : (sub_i ? StSub : StT);

  // operands of this cycle's step (from the registers; from x_i / z_i in the start cycle)
  always_comb begin
    mul_a_o     = tmp_q;
    mul_b_o     = Fp32One;
    mul_scale_o = 13'sd0;
    add_b_o     = Fp32NegZero;
    unique case (step)
      StSub: begin
        mul_a_o = x_i;
        add_b_o = {~z_i[31], z_i[30:0]};
      end
      StT: begin
        mul_a_o = busy_o ? tmp_q : x_i;
        mul_b_o = Log2e;
      end
      StF:  add_b_o = neg_floor;
      StLine: begin
        mul_a_o = seg_b;
        mul_b_o = f_q;
        add_b_o = seg_a;
      end
      StScale: mul_scale_o = i_q;
      default: ;
    endcase
  end

  // the step's result
  always_comb begin
    tmp_d     = tmp_q;
    f_d       = f_q;
    i_d       = i_q;
    nan_d     = nan_q;
    big_d     = big_q;
    neg_d     = neg_q;
    step_next = StIdle;
    done_o    = 1'b0;
    result_o  = chain_i;
    unique case (step)
      StSub: begin
        tmp_d     = chain_i;
        step_next = StT;
      end
      StT: begin
        tmp_d     = chain_i;
        step_next = StF;
      end
      StF: begin
        f_d       = chain_i;
        i_d       = floor_t;
        nan_d     = is_nan(tmp_q);
        big_d     = tmp_q[30:23] >= 8'd138;  // |t| >= 2048
        neg_d     = tmp_q[31];
        step_next = StLine;
      end
      StLine: begin
        tmp_d     = chain_i;
        step_next = StScale;
      end
      StScale: begin
        done_o = 1'b1;
        if (nan_q)      result_o = Fp32QNaN;
        else if (big_q) result_o = neg_q ? Fp32PosZero : Fp32PosInf;
      end
      default: ;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      tmp_q   <= '0;
      f_q     <= '0;
      i_q     <= '0;
      nan_q   <= 1'b0;
      big_q   <= 1'b0;
      neg_q   <= 1'b0;
    end else if (en_i && active_o) begin
      state_q <= step_next;
      tmp_q   <= tmp_d;
      f_q     <= f_d;
      i_q     <= i_d;
      nan_q   <= nan_d;
      big_q   <= big_d;
      neg_q   <= neg_d;
    end
  end
endmodule
