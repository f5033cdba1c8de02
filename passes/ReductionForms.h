//===- passes/ReductionForms.h - Sums as contractions, split for threads ---===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

/// For native code: turns every reduce_sum, and every scatter_add whose map
/// places each result axis at its own source axis (the gradient of a
/// broadcast), into the equivalent plain contraction of one factor; then
/// splits each large contraction that sums into a few rows of its result
/// (ir::accumulatesRows, fewer than 16 rows to share among threads) into P
/// partial sums over slices of its outermost summed variable and a sum of
/// the partials. A contraction of one factor with nothing to sum becomes the
/// remap it is. Returns the number of rewrites.
int formReductions(ir::Graph &g);

} // namespace gradc::passes
