//===- passes/PackContractions.h - Contractions into GEMM form -------------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

/// Rewrites every large contraction of two factors that is a matrix product
/// in all but layout (a convolution: L[b, x+dx-1, y+dy-1, j]·W[k, j, dx, dy];
/// its gradients; products with transposed or interleaved operands) so that
/// the code generator can send it to the GEMM tier: each factor whose axes
/// are not already [batch, rows or columns, reduction] is first copied into
/// that layout by a remap (for a convolution, the im2col matrix; padding
/// reads as 0 there as before), and a result in another order is computed in
/// that order and remapped back. Contractions below `minFlops` multiply-adds
/// stay as they are. A contraction with an output map that only permutes its
/// variables (a weight gradient) becomes a plain one first, and one of three
/// or more factors is split into products of two. Returns the number of
/// rewrites.
int packContractions(ir::Graph &g, int64_t minFlops = 1 << 16);

} // namespace gradc::passes
