// The steps of the hardware exp (fp32_exp_seq.sv says the sequence), as functions of a
// sequencer's registers: the operands a step puts on its host's chain and what the step
// makes of the chain's result. fp32_exp_seq is these functions with registers; the 2D PE
// array (pe_array_2d.sv) calls them per PE in its one loop. Lint waiver, for this package
// only: the normalised magnitude of floor(t) is read in part.
/* verilator lint_off UNUSEDSIGNAL */
package fp32_exp_pkg;
  import fp32_pkg::*;

  typedef enum logic [3:0] {
    StIdle, StSub, StT, StF, StH1, StH2, StH3, StH4, StH5, StScale
  } exp_step_e;

  localparam logic [31:0] Log2e = 32'h3FB8_AA3B;  // round_fp32(log2(e))
  localparam logic [31:0] ExpC0 = 32'h3F7F_FFFF;  // round_fp32 of the executor's kExp2C0..C5
  localparam logic [31:0] ExpC1 = 32'h3F31_727B;
  localparam logic [31:0] ExpC2 = 32'h3E75_EAD4;
  localparam logic [31:0] ExpC3 = 32'h3D64_AA23;
  localparam logic [31:0] ExpC4 = 32'h3C13_4806;
  localparam logic [31:0] ExpC5 = 32'h3AF6_1905;

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
  function automatic void exp_operands(input exp_step_e step, input exp_step_e state,
                                       input logic [31:0] tmp, input logic [31:0] f,
                                       input logic signed [12:0] i,
                                       input logic [31:0] x, input logic [31:0] z,
                                       output logic [31:0] mul_a, output logic [31:0] mul_b,
                                       output logic signed [12:0] mul_scale,
                                       output logic [31:0] add_b);
    logic signed [12:0] floor_t;
    logic [31:0]        neg_floor;
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
      StH1: begin
        mul_a = ExpC5;
        mul_b = f;
        add_b = ExpC4;
      end
      StH2: begin
        mul_b = f;
        add_b = ExpC3;
      end
      StH3: begin
        mul_b = f;
        add_b = ExpC2;
      end
      StH4: begin
        mul_b = f;
        add_b = ExpC1;
      end
      StH5: begin
        mul_b = f;
        add_b = ExpC0;
      end
      StScale: mul_scale = i;
      default: ;
    endcase
  endfunction

  // What step `step` makes of the chain's result: the registers' next value, and in the last
  // step (done) the exp.
  function automatic void exp_next(input exp_step_e step, input logic [31:0] tmp,
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
        d_state = StH1;
      end
      StH1, StH2, StH3, StH4: begin
        d_tmp   = chain;
        d_state = exp_step_e'(step + 4'd1);
      end
      StH5: begin
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
