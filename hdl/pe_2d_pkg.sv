// The operations of the 2D PE (pe_2d.sv says what each does) as functions of its registers
// and inputs: the chain operands of an operation, and what the accepted operation makes of
// the chain's result. pe_2d is these functions with registers, one multiplier, one adder
// and an exp sequencer; the 2D PE array (pe_array_2d.sv) calls them per PE in its one loop,
// so that both are one description of the PE.
package pe_2d_pkg;
  import fp32_pkg::*;
  import tile_pkg::*;

  // The operations that start the exp sequencer.
  function automatic logic starts_exp(input pe_op_e op);
    return op inside {OpExp, OpSubExp};
  endfunction

  // The accepted operation writes the narrowed accumulator into the register file.
  function automatic logic writes_rf(input logic fire, input logic flag, input pe_op_e op);
    return fire && flag && op == OpNarrow;
  endfunction

  // The resident value x an operation reads: register-file word rf_word (the entry the
  // operation names) widened when flag is set, else the accumulator.
  function automatic logic [31:0] resident(input logic flag, input logic [15:0] rf_word,
                                           input logic [31:0] acc,
                                           input int unsigned storage_format);
    return flag ? widen(rf_word, storage_format) : acc;
  endfunction

  // Operations that use the chain round(round(mul_a * mul_b) + add_b) (besides the exp).
  function automatic logic uses_chain(input pe_op_e op);
    return op inside {OpMac, OpAdd, OpColSum, OpColDot, OpWsDot};
  endfunction

  // The chain operands of operation op (no exp running); x is the resident value, acc the
  // accumulator, a / b / w the west, north and shadow-weight inputs; ws_swap: sel[7] (an
  // OpWsDot takes the shadow weight first).
  function automatic void pe_operands(input pe_op_e op, input logic flag, input logic ws_swap,
                                      input logic [31:0] a, input logic [31:0] b,
                                      input logic [31:0] w, input logic [31:0] acc,
                                      input logic [31:0] x, output logic [31:0] mul_a,
                                      output logic [31:0] mul_b, output logic [31:0] add_b);
    mul_a = x;
    mul_b = Fp32One;
    add_b = b;
    unique case (op)
      OpMac: begin
        mul_a = a;
        mul_b = b;
        add_b = flag ? Fp32PosZero : acc;
      end
      OpAdd: begin
        mul_a = acc;
        add_b = {b[31] ^ flag, b[30:0]};
      end
      OpColDot: mul_b = a;
      OpWsDot: begin
        mul_a = ws_swap ? w : acc;
        mul_b = a;
      end
      default: ;  // OpColSum: round(round(x * 1) + y)
    endcase
  endfunction

  // What an operation makes of the chain's result: the accumulator's next value acc_d (written
  // when acc_we) and y, the value passed south (b unless a column operation replaces it).
  // fire: the operation is accepted this cycle; exp_done / exp_r: an exp finishes with exp_r.
  function automatic void pe_results(input logic fire, input pe_op_e op, input logic [7:0] sel,
                                     input logic [7:0] row, input logic [31:0] b,
                                     input logic [31:0] w, input logic [31:0] acc,
                                     input logic [31:0] x, input logic [31:0] chain,
                                     input logic exp_done, input logic [31:0] exp_r,
                                     input int unsigned storage_format,
                                     output logic [31:0] acc_d, output logic acc_we,
                                     output logic [31:0] y);
    acc_d  = chain;
    acc_we = 1'b0;
    y      = b;
    if (fire) begin
      unique case (op)
        OpMac, OpAdd: acc_we = 1'b1;
        OpMax: begin
          acc_d  = max_of(acc, b);
          acc_we = 1'b1;
        end
        OpNarrow: begin
          acc_d  = widen(narrow(acc, storage_format), storage_format);
          acc_we = 1'b1;
        end
        OpLoad: begin
          acc_d  = b;
          acc_we = 1'b1;
        end
        OpColSum, OpColDot: y = chain;
        OpWsDot: begin
          y      = chain;
          acc_d  = w;
          acc_we = sel[7];
        end
        OpColMax:  y = max_of(b, x);
        OpReadRow: y = (sel == row) ? acc : b;
        default: ;  // OpNop; OpExp and OpSubExp finish below
      endcase
    end
    if (exp_done) begin
      acc_d  = exp_r;
      acc_we = 1'b1;
    end
  endfunction
endpackage
