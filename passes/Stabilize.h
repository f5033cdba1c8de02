//===- passes/Stabilize.h - Numerically stable forms of common expressions -===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

/// Rewrites expressions that overflow or lose all precision in their naive
/// form into stable equivalents (their gradients then are stable too):
///   log(sigmoid(x))      -> -softplus(-x)
///   log(1 - sigmoid(x))  -> -softplus(x)
///   log(softmax(x))      -> log_softmax(x)
///   log(sum(exp(x)))     -> logsumexp(x)
/// Returns the number of rewrites. The replaced ops are left for dead-code
/// elimination.
int stabilize(ir::Graph &g);

} // namespace gradc::passes
