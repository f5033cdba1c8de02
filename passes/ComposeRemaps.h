//===- passes/ComposeRemaps.h - One remap instead of a chain of two --------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

/// Rewrites remap(remap(x, m1), m2) as remap(x, m1 ∘ m2) where both maps are
/// affine without step variables and every position m2 reads lies inside
/// the intermediate tensor (so that no zero-padding is lost). The lowering
/// produces such chains for `last[b, j] = h[b, T-1, j]` over a recurrence's
/// extended storage; composed, the read names the one position it needs.
/// Returns the number of remaps rewritten; the intermediates may become dead.
int composeRemaps(ir::Graph &g);

/// The least and greatest value of `a` over loop variables in [0, sizes[v])
/// (no symbols).
std::pair<int64_t, int64_t> affineRange(const ir::Affine &a, const std::vector<int64_t> &sizes);

} // namespace gradc::passes
