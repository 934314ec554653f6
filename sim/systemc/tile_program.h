// Which of a 2D array's Einsums per-PE mode runs as a program of tile operations on tiles
// that stay in the PEs' register files (resident_array.h, hdl/tile_2d.sv), recognised by
// their form, whatever the tensors are called. X is a read kept in the register files
// (its home is the register file) that spans both spatial ranks; B spans the column rank
// only; per fold (one stationary tile of rows x cols points, one point per PE):
//   ColumnMax  Y = max(row rank: X)          one ColMax of X's entry        (FuseMax's LM)
//   ColumnSum  Y = X summed over the rows    one ColSum of X's entry        (SLD)
//   ExpOfDifference  Z = exp(X - B)          SubExp of X's entry with B from the north,
//                                            Narrow into Z's entry          (SLN)
//   Exp        Z = exp(X)                    Exp of X's entry, Narrow into Z's entry
// (Z's entry is X's: in place, as FuseMax's SLN replaces BQK)
// where Y spans the column rank only (it leaves at the south edge as a column result)
// and Z both ranks, kept in the register files. The run's folds follow each other back to
// back: nothing is loaded or drained between them, so the tile pipelines them (a fold's
// wave need not leave the array before the next enters). Only runs of one point per PE
// per fold (no stream) without a `where` qualify. Everything else, GEMMs included: None
// (the GEMM-shaped runs go to the per-PE systolic model, the rest to the fold closed forms).
//
// Timing only: the programs carry no operands (zeros) and name the register-file entry
// fold mod entries; the steps, and so the cycles, do not depend on either (exp's hold is
// fixed). Data mode computes these Einsums' values in the datapath (the executor).
// Plain C++ over the cascade IR.
#pragma once

#include <cstdint>
#include <vector>

#include "mappings/mapping/resolve.h"
#include "mappings/problem/problem.h"
#include "sim/systemc/fold_shape.h"
#include "sim/systemc/resident_array.h"

namespace cascade {

enum class TileRole : int8_t { None = -1, ColumnMax, ColumnSum, ExpOfDifference, Exp };
const char* to_string(TileRole role);

// Per Einsum of `problem` (its cascade order), given its fold shapes (fold_shape) and the
// resolved mapping's tensor homes and arrays; None for Einsums on arrays of one row.
std::vector<TileRole> tile_roles(const Problem& problem, const ResolvedMapping& mapping,
                                 const std::vector<FoldShape>& shapes);

// The program of one run of `folds` folds (entries: the PEs' register-file entries, 1 to
// 16). Error for None.
std::vector<TileStep> tile_program(TileRole role, int64_t folds, int entries);

}  // namespace cascade
