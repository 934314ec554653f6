// The steps of the hardware exp and of the fast exp (fp32_exp_seq.sv and fp32_exp_pwl_seq.sv
// say the sequences: the same but for the polynomial, H1..H5, against one line, L), as
// functions of a sequencer's registers: the operands a step puts on its host's chain and
// what the step makes of the chain's result (`fast` picks the fast exp). fp32_exp_seq is
// these functions with registers; the 2D PE array (pe_array_2d.sv) calls them per PE in
// its one loop. Lint waiver, for this package only: the normalised magnitude of floor(t)
// is read in part.
/* verilator lint_off UNUSEDSIGNAL */
package fp32_exp_pkg;
  import fp32_pkg::*;

  typedef enum logic [3:0] {
    StIdle, StSub, StT, StF, StH1, StH2, StH3, StH4, StH5, StScale,
    StLine  // the fast exp's line, in place of H1..H5
  } exp_step_e;

  localparam logic [31:0] Log2e = 32'h3FB8_AA3B;  // round_fp32(log2(e))
  localparam logic [31:0] ExpC0 = 32'h3F7F_FFFF;  // round_fp32 of the executor's kExp2C0..C5
  localparam logic [31:0] ExpC1 = 32'h3F31_727B;
  localparam logic [31:0] ExpC2 = 32'h3E75_EAD4;
  localparam logic [31:0] ExpC3 = 32'h3D64_AA23;
  localparam logic [31:0] ExpC4 = 32'h3C13_4806;
  localparam logic [31:0] ExpC5 = 32'h3AF6_1905;

  // The fast exp's line p = b_k * f + a_k on segment k = min(floor(8 f), 7) of f in [0, 1]
  // (k from f's exponent and top two fraction bits), fp32 coefficients
  // (sim/functional/number_format.h, kExpFastA / kExpFastB).
  function automatic void exp_line(input logic [31:0] f, output logic [31:0] a,
                                   output logic [31:0] b);
    logic [2:0] seg;
    unique case (f[30:23])
      8'd124:  seg = 3'd1;                  // [1/8, 1/4)
      8'd125:  seg = {2'b01, f[22]};        // [1/4, 1/2)
      8'd126:  seg = {1'b1, f[22:21]};      // [1/2, 1)
      default: seg = (f[30:23] > 8'd126) ? 3'd7 : 3'd0;  // f = 1 (rounded up); f < 1/8
    endcase
    unique case (seg)
      3'd0: begin a = 32'h3F7F_E141; b = 32'h3F39_45DB; end
      3'd1: begin a = 32'h3F7D_C8A8; b = 32'h3F4A_0AA0; end
      3'd2: begin a = 32'h3F79_3655; b = 32'h3F5C_53EC; end
      3'd3: begin a = 32'h3F71_BBF6; b = 32'h3F70_44EA; end
      3'd4: begin a = 32'h3F66_DC72; b = 32'h3F83_01F9; end
      3'd5: begin a = 32'h3F58_0A23; b = 32'h3F8E_DD6B; end
      3'd6: begin a = 32'h3F44_A4DF; b = 32'h3F9B_CB99; end
      default: begin a = 32'h3F2B_F7C5; b = 32'h3FA9_E55F; end
    endcase
  endfunction

  // A sequencer's registers (fp32_exp_seq): the step (state), s then t then p (tmp), f,
  // i = floor(t), and the specials of t (nan, big: |t| >= 2048, neg). Passed one by one:
  // yosys 0.23 reads no struct-typed function arguments.

  // floor(t) for |t| < 2048, and -floor(t) as an fp32 (-0 for floor(t) = 0).
  function automatic void exp_floor(input logic [31:0] t, output logic signed [12:0] floor_t,
                                    output logic [31:0] neg_floor);
    logic [23:0] t_sig;
    logic [10:0] t_trunc;
    logic        t_frac;
    logic [12:0] mag;
    logic [63:0] mag_norm;
    logic [5:0]  mag_lz;
    int          t_shift;
    t_sig   = {1'b1, t[22:0]};
    t_shift = 150 - int'(t[30:23]);  // 13..23 for 1 <= |t| < 2048
    if (t[30:23] < 8'd127) begin
      t_trunc = 11'd0;
      t_frac  = t[30:0] != 31'd0;
    end else begin
      t_trunc = 11'(t_sig >> t_shift);
      t_frac  = (t_sig & ((24'd1 << t_shift) - 24'd1)) != 24'd0;
    end
    floor_t = t[31] ? -$signed({2'b0, t_trunc}) - $signed({12'd0, t_frac})
                    : $signed({2'b0, t_trunc});
    mag       = floor_t[12] ? 13'(-floor_t) : 13'(floor_t);
    mag_norm  = normalize({mag, 51'd0}, mag_lz);
    neg_floor = (mag == 13'd0) ? Fp32NegZero
              : {~floor_t[12], 8'(8'd139 - 8'(mag_lz)), mag_norm[62:40]};
  endfunction

  // The step a sequencer runs this cycle: its state while busy, else the first step.
  function automatic exp_step_e exp_step(input exp_step_e state, input logic sub);
    return (state != StIdle) ? state : (sub ? StSub : StT);
  endfunction

  // The chain operands of step `step` (x, z: the start cycle's inputs).
  function automatic void exp_operands(input exp_step_e step, input logic fast,
                                       input exp_step_e state,
                                       input logic [31:0] tmp, input logic [31:0] f,
                                       input logic signed [12:0] i,
                                       input logic [31:0] x, input logic [31:0] z,
                                       output logic [31:0] mul_a, output logic [31:0] mul_b,
                                       output logic signed [12:0] mul_scale,
                                       output logic [31:0] add_b);
    logic signed [12:0] floor_t;
    logic [31:0]        neg_floor, seg_a, seg_b;
    mul_a     = tmp;
    mul_b     = Fp32One;
    mul_scale = 13'sd0;
    add_b     = Fp32NegZero;
    unique case (step)
      StSub: begin
        mul_a = x;
        add_b = {~z[31], z[30:0]};
      end
      StT: begin
        mul_a = (state != StIdle) ? tmp : x;
        mul_b = Log2e;
      end
      StF: begin
        exp_floor(tmp, floor_t, neg_floor);
        add_b = neg_floor;
      end
      // the polynomial's steps only for the hardware exp, the line only for the fast one
      // (so that a sequencer with a constant `fast` has no logic of the other's)
      StH1: if (!fast) begin
        mul_a = ExpC5;
        mul_b = f;
        add_b = ExpC4;
      end
      StH2: if (!fast) begin
        mul_b = f;
        add_b = ExpC3;
      end
      StH3: if (!fast) begin
        mul_b = f;
        add_b = ExpC2;
      end
      StH4: if (!fast) begin
        mul_b = f;
        add_b = ExpC1;
      end
      StH5: if (!fast) begin
        mul_b = f;
        add_b = ExpC0;
      end
      StLine: if (fast) begin
        exp_line(f, seg_a, seg_b);
        mul_a = seg_b;
        mul_b = f;
        add_b = seg_a;
      end
      StScale: mul_scale = i;
      default: ;
    endcase
  endfunction

  // What step `step` makes of the chain's result: the registers' next value, and in the last
  // step (done) the exp.
  function automatic void exp_next(input exp_step_e step, input logic fast,
                                   input logic [31:0] tmp,
                                   input logic [31:0] f, input logic signed [12:0] i,
                                   input logic nan, input logic big, input logic neg,
                                   input logic [31:0] chain,
                                   output exp_step_e d_state, output logic [31:0] d_tmp,
                                   output logic [31:0] d_f, output logic signed [12:0] d_i,
                                   output logic d_nan, output logic d_big, output logic d_neg,
                                   output logic done, output logic [31:0] result);
    logic signed [12:0] floor_t;
    logic [31:0]        neg_floor;
    d_state = StIdle;
    d_tmp   = tmp;
    d_f     = f;
    d_i     = i;
    d_nan   = nan;
    d_big   = big;
    d_neg   = neg;
    done    = 1'b0;
    result  = chain;
    unique case (step)
      StSub: begin
        d_tmp   = chain;
        d_state = StT;
      end
      StT: begin
        d_tmp   = chain;
        d_state = StF;
      end
      StF: begin
        exp_floor(tmp, floor_t, neg_floor);
        d_f     = chain;
        d_i     = floor_t;
        d_nan   = is_nan(tmp);
        d_big   = tmp[30:23] >= 8'd138;  // |t| >= 2048
        d_neg   = tmp[31];
        d_state = fast ? StLine : StH1;
      end
      StH1, StH2, StH3, StH4: begin
        d_tmp   = chain;
        d_state = exp_step_e'(step + 4'd1);
      end
      StH5, StLine: begin
        d_tmp   = chain;
        d_state = StScale;
      end
      StScale: begin
        done = 1'b1;
        if (nan)      result = Fp32QNaN;
        else if (big) result = neg ? Fp32PosZero : Fp32PosInf;
      end
      default: ;
    endcase
  endfunction
endpackage
/* verilator lint_on UNUSEDSIGNAL */
