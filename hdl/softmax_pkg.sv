// Commands of the online-softmax 1D unit (softmax_lane, softmax_1d).
package softmax_pkg;
  typedef enum logic [1:0] {
    CmdMaxExp  = 2'd0,  // x = m, y = local max: r0 = m' = max(m, y), r1 = c = exp(m - m')
    CmdRescale = 2'd1,  // x = d or n, y = local sum or numerator, z = c: r0 = round(y + round(x * c))
    CmdDivide  = 2'd2   // x = n, y = d: r0 = round(n / d)
  } lane_cmd_e;
endpackage
