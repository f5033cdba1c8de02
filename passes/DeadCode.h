//===- passes/DeadCode.h - Removing ops whose results nothing uses ---------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

/// Removes every op whose results are used by no live op, output, loss,
/// metric, update or gradient (a yield keeps its recurrence's body alive).
/// Returns the number of ops removed.
int eliminateDeadCode(ir::Graph &g);

} // namespace gradc::passes
