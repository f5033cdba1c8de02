//===- passes/Simplify.h - Constant conditions and common subexpressions ---===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

struct SimplifyStats {
  int folded = 0; ///< `where` ops with a constant condition (or equal branches) removed
  int merged = 0; ///< ops that recomputed an earlier op's value, removed
  int gathers = 0; ///< scatter_adds that hit each position once, made remaps
};

/// Two clean-ups every graph gets, before autodiff and again after the
/// passes that add ops:
///  - `where(c, a, b)` with a constant condition is the branch it selects
///    (`training` is such a constant), and `where(c, a, a)` is `a`; folded
///    before autodiff, a model's `where(training, ...)` leaves no mask in
///    the backward pass;
///  - with `gathers` (a rewrite for native code, shown by --emit=opt), a
///    scatter_add that places each source element at its own position (the
///    gradient of a transpose or a shift) becomes the equivalent remap, a
///    gather that runs in parallel;
///  - an op that computes what an earlier op in the same region computes
///    (same kind, operands, maps and attributes) is replaced by it. Leaves
///    other than constants and iotas are never merged: two params, inputs or
///    noise draws are different tensors even when they look alike.
/// Uses are redirected; the replaced ops are left for dead-code elimination.
SimplifyStats simplify(ir::Graph &g, bool gathers = false);

} // namespace gradc::passes
