//===- ir/Rewrite.h - Replacing values throughout a graph ------------------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::ir {

/// Makes every use of `from` (operands and symbols in every region, and the
/// graph's outputs, loss, metrics, updates and gradients) use `to` instead.
void replaceAllUses(Graph &g, Value *from, Value *to);

/// Counts the uses of `v` as an operand or symbol anywhere in the graph.
int countUses(const Graph &g, const Value *v);

} // namespace gradc::ir
