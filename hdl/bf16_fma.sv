// bf16 x bf16 + fp32 -> fp32 with a single rounding (round to nearest, ties to even),
// subnormals in and out, IEEE 754 special values: what a PE that multiplies bf16 operands
// and accumulates in fp32 computes per step. Combinational; the product of two bf16
// significands (8 bits each) is exact, so the sum of the exact product and the addend is
// rounded once, as C's fmaf does (the golden model in tests/rtl).
//
// Datapath: both operands become integer significands times powers of two, are aligned in a
// 66-bit window below the larger one's top bit (bits shifted out of the window are jammed
// into its LSB as a sticky bit: that only happens when the operands are > 40 bits apart, so
// the jam never reaches the rounding position), added or subtracted, normalised and rounded
// to an fp32 normal or subnormal.
module bf16_fma (
  input  logic [15:0] a_i,  // bf16
  input  logic [15:0] b_i,  // bf16
  input  logic [31:0] c_i,  // fp32 addend
  output logic [31:0] r_o   // fp32 round(a * b + c)
);
  localparam int unsigned W = 64;  // window below the top bit
  localparam logic [31:0] QNAN = 32'h7FC0_0000;

  // ---- unpack: value = sig * 2^e ------------------------------------------------------
  logic        sa, sb, sc, sp;
  logic [7:0]  ea, eb, ec;
  logic [6:0]  fa, fb;
  logic [22:0] fc;
  logic        a_nan, b_nan, c_nan, a_inf, b_inf, c_inf, a_zero, b_zero, c_zero;
  logic [7:0]  sig_a, sig_b;
  logic [23:0] sig_c;
  logic signed [11:0] exp_a, exp_b, exp_c, exp_p;
  logic [15:0] sig_p;

  always_comb begin
    {sa, ea, fa} = a_i;
    {sb, eb, fb} = b_i;
    {sc, ec, fc} = c_i;
    a_nan  = (ea == 8'hFF) && (fa != 0);
    b_nan  = (eb == 8'hFF) && (fb != 0);
    c_nan  = (ec == 8'hFF) && (fc != 0);
    a_inf  = (ea == 8'hFF) && (fa == 0);
    b_inf  = (eb == 8'hFF) && (fb == 0);
    c_inf  = (ec == 8'hFF) && (fc == 0);
    a_zero = (ea == 0) && (fa == 0);
    b_zero = (eb == 0) && (fb == 0);
    c_zero = (ec == 0) && (fc == 0);
    sig_a  = {ea != 0, fa};
    sig_b  = {eb != 0, fb};
    sig_c  = {ec != 0, fc};
    // bias 127, 7 (23) fraction bits; a subnormal has the exponent of 1
    exp_a  = 12'(signed'({4'b0, (ea == 0) ? 8'd1 : ea})) - 12'sd134;
    exp_b  = 12'(signed'({4'b0, (eb == 0) ? 8'd1 : eb})) - 12'sd134;
    exp_c  = 12'(signed'({4'b0, (ec == 0) ? 8'd1 : ec})) - 12'sd150;
    sp     = sa ^ sb;
    sig_p  = sig_a * sig_b;
    exp_p  = exp_a + exp_b;
  end

  // ---- align in the window ------------------------------------------------------------
  logic signed [11:0] top, base, shift_p, shift_c;
  logic [W+1:0] val_p, val_c;
  logic         jam_p, jam_c;

  // sig << shift, or sig >> -shift with the lost bits jammed into bit 0
  function automatic logic [W+1:0] place(input logic [23:0] sig, input logic signed [11:0] shift,
                                         output logic jam);
    logic [W+1:0] wide;
    wide = (W + 2)'(sig);
    jam  = 1'b0;
    if (shift >= 0) begin
      place = wide << shift;
    end else if (shift <= -24) begin
      jam   = sig != 0;
      place = '0;
    end else begin
      jam   = (wide & (((W + 2)'(1) << (-shift)) - 1)) != 0;
      place = wide >> (-shift);
    end
  endfunction

  always_comb begin
    // exclusive top bit of the larger nonzero operand
    if (sig_c == 0)      top = exp_p + 12'sd16;
    else if (sig_p == 0) top = exp_c + 12'sd24;
    else                 top = (exp_p + 12'sd16 > exp_c + 12'sd24) ? exp_p + 12'sd16 : exp_c + 12'sd24;
    base    = top - 12'(W);
    shift_p = exp_p - base;
    shift_c = exp_c - base;
    val_p   = place({8'b0, sig_p}, shift_p, jam_p);
    val_c   = place(sig_c, shift_c, jam_c);
    val_p[0] = val_p[0] | jam_p;
    val_c[0] = val_c[0] | jam_c;
  end

  // ---- add, normalise, round ----------------------------------------------------------
  logic [W+1:0] mag;
  logic         sign;
  logic signed [11:0] e, sub_lsb;
  int lead, lsb;
  logic [W+1:0] keep, below;
  logic         round_bit, sticky;
  logic [31:0]  general;

  always_comb begin
    if (sp == sc) begin
      mag  = val_p + val_c;
      sign = sp;
    end else if (val_p >= val_c) begin
      mag  = val_p - val_c;
      sign = sp;
    end else begin
      mag  = val_c - val_p;
      sign = sc;
    end
    lead = 0;
    for (int i = 0; i < W + 2; i++)
      if (mag[i]) lead = i;
    e       = 12'(lead) + base;          // exponent of the leading bit
    sub_lsb = -12'sd149 - base;          // where 2^-149 sits in the window
    lsb     = (e >= -12'sd126) ? lead - 23 : int'(sub_lsb);
    round_bit = 1'b0;
    sticky    = 1'b0;
    below = '0;
    if (lsb <= 0) begin
      keep = mag << (-lsb);
    end else begin
      keep      = mag >> lsb;
      round_bit = mag[lsb-1];
      below     = mag & (((W + 2)'(1) << (lsb - 1)) - 1);
      sticky    = below != 0;
    end
    if (round_bit && (sticky || keep[0])) keep = keep + 1;
    if (mag == 0) begin
      general = 32'h0000_0000;           // exact cancellation: +0
    end else if (e >= -12'sd126) begin
      if (keep[24]) begin                // rounding carried into a new bit
        keep = keep >> 1;
        e    = e + 1;
      end
      if (e > 12'sd127) general = {sign, 8'hFF, 23'b0};
      else              general = {sign, 8'(e + 12'sd127), keep[22:0]};
    end else begin
      general = {sign, keep[30:0]};      // subnormal, or the smallest normal after rounding
    end
  end

  // ---- special values -----------------------------------------------------------------
  always_comb begin
    if (a_nan || b_nan || c_nan || ((a_inf || b_inf) && (a_zero || b_zero)))
      r_o = QNAN;
    else if (a_inf || b_inf)
      r_o = (c_inf && sc != sp) ? QNAN : {sp, 8'hFF, 23'b0};
    else if (c_inf)
      r_o = c_i;
    else if (sig_p == 0)
      r_o = c_zero ? {sp & sc, 31'b0} : c_i;   // 0 + c; -0 + -0 = -0, else +0
    else
      r_o = general;
  end
endmodule
