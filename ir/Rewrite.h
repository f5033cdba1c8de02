//===- ir/Rewrite.h - Replacing values throughout a graph ------------------===//
#pragma once

#include "ir/Graph.h"

#include <functional>

namespace gradc::ir {

/// Makes every use of `from` (operands and symbols in every region, and the
/// graph's outputs, loss, metrics, updates and gradients) use `to` instead.
void replaceAllUses(Graph &g, Value *from, Value *to);

/// Calls `f` on each value the graph itself uses, by reference: its
/// outputs, loss, metrics, gradients and state updates' new values.
void forEachGraphUse(Graph &g, const std::function<void(Value *&)> &f);
void forEachGraphUse(const Graph &g, const std::function<void(const Value *)> &f);

/// Counts the uses of `v` as an operand or symbol anywhere in the graph.
int countUses(const Graph &g, const Value *v);

} // namespace gradc::ir
