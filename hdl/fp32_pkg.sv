// Helpers of the fp32 datapath: classification, unpacking, normalisation, one rounding
// function for every binary format (IEEE 754 round to nearest, ties to even, gradual
// underflow, overflow to infinity), widening/narrowing between fp32 and the 16-bit storage
// formats, and the executor's max. Every NaN a kernel produces is the canonical quiet NaN.
// Lint waivers, for this package only: a helper library has constants a given kernel does
// not use, and the helpers take whole fp32 patterns of which some read only some bits.
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off UNUSEDSIGNAL */
package fp32_pkg;

  // Storage (operand) formats: parameter StorageFormat of the kernels.
  localparam int unsigned StorageBf16 = 0;
  localparam int unsigned StorageFp16 = 1;

  localparam logic [31:0] Fp32QNaN    = 32'h7FC0_0000;
  localparam logic [31:0] Fp32PosInf  = 32'h7F80_0000;
  localparam logic [31:0] Fp32NegInf  = 32'hFF80_0000;
  localparam logic [31:0] Fp32PosZero = 32'h0000_0000;
  localparam logic [31:0] Fp32NegZero = 32'h8000_0000;
  localparam logic [31:0] Fp32One     = 32'h3F80_0000;

  function automatic logic is_nan(input logic [31:0] x);
    return (x[30:23] == 8'hFF) && (x[22:0] != 23'd0);
  endfunction

  function automatic logic is_inf(input logic [31:0] x);
    return x[30:0] == 31'h7F80_0000;
  endfunction

  function automatic logic is_zero(input logic [31:0] x);
    return x[30:0] == 31'd0;
  endfunction

  // Significand of a finite fp32 with its hidden bit (bit 23; 0 for subnormals and zero).
  function automatic logic [23:0] sig_of(input logic [31:0] x);
    return {x[30:23] != 8'd0, x[22:0]};
  endfunction

  // Exponent of bit 23 of sig_of(x): a finite x is sig_of(x) * 2^(exp_of(x) - 23).
  function automatic logic signed [15:0] exp_of(input logic [31:0] x);
    return (x[30:23] == 8'd0) ? -16'sd126 : $signed({8'd0, x[30:23]}) - 16'sd127;
  endfunction

  // Shifts x left until bit 63 is set (x != 0); lz is the shift. Six conditional shifts.
  function automatic logic [63:0] normalize(input logic [63:0] x, output logic [5:0] lz);
    logic [63:0] y;
    y  = x;
    lz = 6'd0;
    if (y[63:32] == 32'd0) begin y = y << 32; lz[5] = 1'b1; end
    if (y[63:48] == 16'd0) begin y = y << 16; lz[4] = 1'b1; end
    if (y[63:56] == 8'd0)  begin y = y << 8;  lz[3] = 1'b1; end
    if (y[63:60] == 4'd0)  begin y = y << 4;  lz[2] = 1'b1; end
    if (y[63:62] == 2'd0)  begin y = y << 2;  lz[1] = 1'b1; end
    if (y[63] == 1'b0)     begin y = y << 1;  lz[0] = 1'b1; end
    return y;
  endfunction

  // Rounds (-1)^sign * sig * 2^(exp - 63) to the binary format with exp_bits exponent and
  // frac_bits fraction bits: sig[63] = 1, sticky_in says that nonzero bits lie below sig[0].
  // Nearest, ties to even; results below the normal range are subnormals (or zero), results
  // at or above 2^(emax+1) after rounding are infinities. The pattern is returned in the low
  // 1 + exp_bits + frac_bits bits.
  function automatic logic [31:0] round_pack(input logic sign, input logic signed [15:0] exp,
                                             input logic [63:0] sig, input logic sticky_in,
                                             input int exp_bits, input int frac_bits);
    logic signed [15:0] biased;
    logic [63:0] s, kept, field, bits, inf_bits;
    logic        guard, sticky, inc;
    int          shift;
    biased = exp + 16'((1 << (exp_bits - 1)) - 1);
    if (biased >= 16'sd1) begin
      s      = sig;
      sticky = sticky_in;
      field  = 64'(unsigned'(biased)) - 64'd1;
    end else begin
      // subnormal: bit 63 moves to the position of 2^emin, the exponent field is 0
      shift = 1 - int'(biased);
      if (shift >= 64) begin
        s      = 64'd0;
        sticky = sticky_in || (sig != 64'd0);
      end else begin
        s      = sig >> shift;
        sticky = sticky_in || ((sig & ((64'd1 << shift) - 64'd1)) != 64'd0);
      end
      field = 64'd0;
    end
    kept     = s >> (63 - frac_bits);  // hidden bit + fraction
    guard    = s[62-frac_bits];
    sticky   = sticky || ((s & ((64'd1 << (62 - frac_bits)) - 64'd1)) != 64'd0);
    inc      = guard && (sticky || kept[0]);
    // a carry out of the fraction (or into the hidden bit of a subnormal) bumps the field
    bits   = (field << frac_bits) + kept + 64'(inc);
    inf_bits = ((64'd1 << exp_bits) - 64'd1) << frac_bits;
    if (int'(biased) >= (1 << exp_bits) - 1 || bits >= inf_bits) bits = inf_bits;
    return 32'(bits) | (32'(sign) << (exp_bits + frac_bits));
  endfunction

  // round(a * b * 2^scale): one rounding (nearest, ties to even), subnormals in and out,
  // overflow to inf, IEEE special values (inf * 0 and NaN operands give the canonical quiet
  // NaN). The offset is the exp datapath's final ldexp (p * 1.0 * 2^i); elsewhere 0.
  function automatic logic [31:0] mul_round(input logic [31:0] a, input logic [31:0] b,
                                            input logic signed [12:0] scale);
    logic [47:0]        prod;
    logic [63:0]        norm;
    logic [5:0]         lz;
    logic signed [15:0] exp;
    logic               sign;
    logic [31:0]        r;
    sign = a[31] ^ b[31];
    prod = 48'(sig_of(a)) * 48'(sig_of(b));  // exact: prod * 2^(exp_a + exp_b - 46)
    norm = normalize({prod, 16'd0}, lz);
    exp  = exp_of(a) + exp_of(b) + 16'sd1 - $signed({10'd0, lz})
           + $signed({{3{scale[12]}}, scale});
    if (is_nan(a) || is_nan(b) || (is_inf(a) && is_zero(b)) || (is_zero(a) && is_inf(b)))
      r = Fp32QNaN;
    else if (is_inf(a) || is_inf(b))
      r = {sign, 31'h7F80_0000};
    else if (prod == 48'd0)
      r = {sign, 31'd0};
    else
      r = round_pack(sign, exp, norm, 1'b0, 8, 23);
    return r;
  endfunction

  // round(a + b): one rounding (nearest, ties to even), subnormals in and out, overflow to
  // inf, IEEE special values (inf - inf and NaN operands give the canonical quiet NaN). An
  // exact zero sum is +0 unless both operands are -0.
  //
  // The larger magnitude x sits in a 64-bit window with its hidden bit at bit 62 (39 bits
  // below its LSB); the smaller y is shifted right by the exponent difference, the bits that
  // fall out jammed into bit 0. Bits are lost only when the difference exceeds 39, where the
  // sum keeps its leading bit within one place of x's, so the jam stays below the rounding
  // position.
  function automatic logic [31:0] add_round(input logic [31:0] a, input logic [31:0] b);
    logic               swap, sub, jam;
    logic [31:0]        x, y, r;
    logic signed [15:0] diff, exp;
    logic [63:0]        wx, wy, ys, sum, norm;
    logic [5:0]         lz;
    swap = b[30:0] > a[30:0];
    x    = swap ? b : a;
    y    = swap ? a : b;
    diff = exp_of(x) - exp_of(y);
    wx   = {1'b0, sig_of(x), 39'd0};
    wy   = {1'b0, sig_of(y), 39'd0};
    if (diff >= 16'sd64) begin
      ys  = 64'd0;
      jam = sig_of(y) != 24'd0;
    end else begin
      ys  = wy >> diff;
      jam = (wy & ((64'd1 << diff) - 64'd1)) != 64'd0;
    end
    ys[0] = ys[0] | jam;
    sub  = x[31] ^ y[31];
    sum  = sub ? wx - ys : wx + ys;
    norm = normalize(sum, lz);
    exp  = exp_of(x) + 16'sd1 - $signed({10'd0, lz});  // bit 63 of sum is 2^(exp_of(x) + 1)
    if (is_nan(a) || is_nan(b) || (is_inf(a) && is_inf(b) && (a[31] != b[31])))
      r = Fp32QNaN;
    else if (is_inf(a))
      r = a;
    else if (is_inf(b))
      r = b;
    else if (sum == 64'd0)
      r = {x[31] & y[31], 31'd0};
    else
      r = round_pack(x[31], exp, norm, 1'b0, 8, 23);
    return r;
  endfunction

  // Exact widening of a bf16 or fp16 pattern to fp32 (NaN stays NaN).
  function automatic logic [31:0] widen(input logic [15:0] h, input int unsigned fmt);
    logic [63:0] norm;
    logic [5:0]  lz;
    logic [31:0] r;
    if (fmt == StorageBf16) begin
      r = {h, 16'd0};
    end else begin
      norm = normalize({h[9:0], 54'd0}, lz);
      if (h[14:10] == 5'h1F)       r = {h[15], 8'hFF, h[9:0], 13'd0};
      else if (h[14:10] != 5'd0)   r = {h[15], 3'd0, h[14:10], h[9:0], 13'd0} + 32'(112 << 23);
      else if (h[9:0] == 10'd0)    r = {h[15], 31'd0};
      else                         r = {h[15], 8'(8'd112 - 8'(lz)), norm[62:40]};
    end
    return r;
  endfunction

  // fp32 to bf16 or fp16: nearest, ties to even, subnormals, overflow to inf.
  function automatic logic [15:0] narrow(input logic [31:0] x, input int unsigned fmt);
    logic [63:0] norm;
    logic [5:0]  lz;
    logic [31:0] r;
    logic [15:0] out;
    norm = normalize({sig_of(x), 40'd0}, lz);
    if (fmt == StorageBf16) r = round_pack(x[31], exp_of(x) - 16'(lz), norm, 1'b0, 8, 7);
    else                    r = round_pack(x[31], exp_of(x) - 16'(lz), norm, 1'b0, 5, 10);
    if (is_nan(x))       out = (fmt == StorageBf16) ? 16'h7FC0 : 16'h7E00;
    else if (is_inf(x))  out = (fmt == StorageBf16) ? {x[31], 15'h7F80} : {x[31], 15'h7C00};
    else if (is_zero(x)) out = {x[31], 15'd0};
    else                 out = r[15:0];
    return out;
  endfunction

  // IEEE a > b (false if either is NaN; +0 and -0 are equal).
  function automatic logic greater(input logic [31:0] a, input logic [31:0] b);
    logic [31:0] ka, kb;
    ka = a[31] ? ~a : {1'b1, a[30:0]};
    kb = b[31] ? ~b : {1'b1, b[30:0]};
    return !is_nan(a) && !is_nan(b) && !(is_zero(a) && is_zero(b)) && (ka > kb);
  endfunction

  // The executor's max: NaN if either is NaN, else (a > b ? a : b) -- on a tie b.
  function automatic logic [31:0] max_of(input logic [31:0] a, input logic [31:0] b);
    logic [31:0] r;
    if (is_nan(a) || is_nan(b)) r = Fp32QNaN;
    else if (greater(a, b))     r = a;
    else                        r = b;
    return r;
  endfunction

endpackage
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on UNUSEDPARAM */
