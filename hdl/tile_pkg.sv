// Operations of the 2D PE (pe_2d) and the systolic tile (tile_2d). An operation travels
// south through a column with its north operand b (a per-column value, or the partial
// result of a column reduction); MAC and COL_DOT also read the west operand a. x is the
// resident value: with flag, register-file entry `entry` widened (pe_2d.sv), else acc.
package tile_pkg;
  typedef enum logic [3:0] {
    OpNop     = 4'd0,   // nothing (passes through)
    OpMac     = 4'd1,   // acc = round(round(a * b) + acc); flag: start from +0 instead of acc
    OpAdd     = 4'd2,   // acc = round(acc + b); flag: acc = round(acc - b)
    OpMax     = 4'd3,   // acc = max(acc, b), exact (NaN if either is NaN; b on a tie)
    OpExp     = 4'd4,   // acc = hardware exp(x)                         (8 cycles)
    OpSubExp  = 4'd5,   // acc = hardware exp(round(x - b))              (9 cycles)
    OpNarrow  = 4'd6,   // acc = widen(round_storage(acc)): acc stored in the storage format;
                        //   flag: also rf[entry] = round_storage(acc)
    OpLoad    = 4'd7,   // acc = b
    OpColSum  = 4'd8,   // column reduction, top to bottom: y = round(y + x), y from +0
    OpColMax  = 4'd9,   // column reduction: y = max(y, x), y from -inf
    OpColDot  = 4'd10,  // column reduction: y = round(y + round(x * a)), y from +0
    OpReadRow = 4'd11,  // y = acc of the PE whose row is sel (y = +0 if none)
    OpWsDot   = 4'd12   // weight stationary: sel[7]: acc = w (the shadow weight) first;
                        //   y = round(y + round(acc * a)), y from +0 or the partial sum
  } pe_op_e;

  // Operations that leave a value at the south edge (y) through the deskewed output (OpWsDot's
// results leave raw, through the tile's drain).
  function automatic logic is_column_op(input pe_op_e op);
    return op inside {OpColSum, OpColMax, OpColDot, OpReadRow};
  endfunction

  // Cycles an operation occupies a PE (the next one may arrive that many cycles later).
  function automatic int unsigned op_cycles(input pe_op_e op);
    return (op == OpExp) ? 8 : (op == OpSubExp) ? 9 : 1;
  endfunction
endpackage
