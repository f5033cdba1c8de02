//===- ir/Verifier.h - The IR's invariants, checked -----------------------===//
//
// The verifier runs after every pass in test builds and on every graph the IR
// parser reads. A non-empty answer means a pass (or the parser) has a bug;
// each message names the op it is about, as in
//   %7 = reduce_sum: axis 3 out of range for rank 2
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace gradc::ir {

/// Checks every invariant of the graph: each op's own (see verifyOp), SSA
/// (every operand and symbol defined before its use in the same or an
/// enclosing region, each value defined once, names unique), yields as the
/// last op of every recurrence body and nowhere else, the parent links, and
/// the graph's named values (outputs, loss, metrics, updates, gradients).
/// Returns the problems found; empty means the graph is well formed.
std::vector<std::string> verifyGraph(const Graph &g);

/// Checks one op's own invariants: result and operand counts, element types,
/// shapes, attributes, index maps, symbols (index values of an enclosing
/// recurrence body), a yield against its recurrence, and a recurrence
/// against its body's arguments when it has a body. Does not look at where
/// operands are defined. The messages do not name the op; the IR parser
/// calls this on an op before building it, to report ill-typed text as a
/// user error rather than let the Builder assert.
std::vector<std::string> verifyOp(const Op &op);

} // namespace gradc::ir
