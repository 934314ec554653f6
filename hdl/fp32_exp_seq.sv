// The hardware exp of the functional executor (sim/functional/number_format.h,
// hardware_exp_as<FP32>), sequenced over a host's one multiplier and one adder:
//
//   [S]  s = round(x - z)                    only for exp(x - z) (sub_i)
//   T    t = round(s * log2e)                log2e rounded to fp32
//   F    f = round(t - i), i = floor(t)      i from exponent/shift logic
//   H1   p = round(round(c5 * f) + c4)       degree-5 Horner polynomial,
//   H2.. p = round(round(p * f) + c_k)       k = 3, 2, 1, 0 (fp32 coefficients)
//   SC   r = round(p * 2^i)                  the multiplier's exponent offset
//
// One step per cycle, each one pass through the host's chain
// chain = round(round(mul_a * mul_b * 2^mul_scale) + add_b) (a pure multiply adds -0, a
// pure add multiplies by 1.0; both are exact identities). exp: 8 cycles, exp(x - z): 9.
// Special values as the executor: NaN -> NaN, |t| >= 2048 (also t = +-inf) -> +inf for
// t > 0, +0 for t < 0.
//
// The first step runs in the start cycle on x_i / z_i; the result is on result_o in the
// last cycle (done_o), for the host to register.
module fp32_exp_seq
  import fp32_pkg::*;
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
  localparam logic [31:0] C0    = 32'h3F7F_FFFF;  // round_fp32 of the executor's kExp2C0..C5
  localparam logic [31:0] C1    = 32'h3F31_727B;
  localparam logic [31:0] C2    = 32'h3E75_EAD4;
  localparam logic [31:0] C3    = 32'h3D64_AA23;
  localparam logic [31:0] C4    = 32'h3C13_4806;
  localparam logic [31:0] C5    = 32'h3AF6_1905;

  typedef enum logic [3:0] {
    StIdle, StSub, StT, StF, StH1, StH2, StH3, StH4, StH5, StScale
  } step_e;

  step_e              state_q, step, step_next;
  logic [31:0]        tmp_q, tmp_d;      // s, then t, then p
  logic [31:0]        f_q, f_d;
  logic signed [12:0] i_q, i_d;
  logic               nan_q, nan_d, big_q, big_d, neg_q, neg_d;  // specials of t

  // floor(t) for |t| < 2048, and -floor(t) as an fp32 (-0 for floor(t) = 0).
  logic signed [12:0] floor_t;
  logic [31:0]        neg_floor;
  logic [23:0]        t_sig;
  logic [10:0]        t_trunc;
  logic               t_frac;
  logic [12:0]        mag;
  logic [63:0]        mag_norm;
  logic [5:0]         mag_lz;
  int                 t_shift;
  logic               unused_mag_norm;

  always_comb begin
    t_sig   = {1'b1, tmp_q[22:0]};
    t_shift = 150 - int'(tmp_q[30:23]);  // 13..23 for 1 <= |t| < 2048
    if (tmp_q[30:23] < 8'd127) begin
      t_trunc = 11'd0;
      t_frac  = tmp_q[30:0] != 31'd0;
    end else begin
      t_trunc = 11'(t_sig >> t_shift);
      t_frac  = (t_sig & ((24'd1 << t_shift) - 24'd1)) != 24'd0;
    end
    floor_t = tmp_q[31] ? -$signed({2'b0, t_trunc}) - $signed({12'd0, t_frac})
                        : $signed({2'b0, t_trunc});
    mag       = floor_t[12] ? 13'(-floor_t) : 13'(floor_t);
    mag_norm  = normalize({mag, 51'd0}, mag_lz);
    neg_floor = (mag == 13'd0) ? Fp32NegZero
              : {~floor_t[12], 8'(8'd139 - 8'(mag_lz)), mag_norm[62:40]};
  end
  assign unused_mag_norm = ^{mag_norm[63], mag_norm[39:0]};

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
      StH1: begin
        mul_a_o = C5;
        mul_b_o = f_q;
        add_b_o = C4;
      end
      StH2: begin
        mul_b_o = f_q;
        add_b_o = C3;
      end
      StH3: begin
        mul_b_o = f_q;
        add_b_o = C2;
      end
      StH4: begin
        mul_b_o = f_q;
        add_b_o = C1;
      end
      StH5: begin
        mul_b_o = f_q;
        add_b_o = C0;
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
        step_next = StH1;
      end
      StH1, StH2, StH3, StH4: begin
        tmp_d     = chain_i;
        step_next = step_e'(step + 4'd1);
      end
      StH5: begin
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
