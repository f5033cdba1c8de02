//===- ir/Rewrite.h - Replacing values throughout a graph ------------------===//
#pragma once

#include "ir/Builder.h"
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

/// A builder that inserts before `op` in its region, with its location and
/// direction (forward or backward).
Builder builderBefore(Graph &g, Op &op);

/// Makes every use of op's result use `r`, which takes over its name; the
/// old op is left for dead-code elimination.
void replaceResult(Graph &g, Builder &B, Op &op, Value *r);

/// Every op of `r` and of the bodies nested in it, in program order (a
/// body's ops right after the op that owns it): a snapshot that stays valid
/// while a rewrite inserts ops.
std::vector<Op *> allOps(Region &r);
std::vector<const Op *> allOps(const Region &r);

/// Counts the uses of `v` as an operand or symbol anywhere in the graph.
int countUses(const Graph &g, const Value *v);

} // namespace gradc::ir
