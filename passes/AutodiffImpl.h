//===- passes/AutodiffImpl.h - The differentiator's state -----------------===//
//
// Autodiff.cpp drives the reverse sweep (the micrograd loop over ops in
// reverse order), GradRules.cpp holds one rule per op, GradRecurrence.cpp
// turns a recurrence into a reversed recurrence. Nothing outside passes/
// includes this header.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"

#include <map>
#include <set>
#include <vector>

namespace gradc::passes {

/// The backward loop being built for one recurrence: adjoint contributions to
/// values defined outside its body are accumulated through the loop.
struct LoopFrame {
  ir::Region *body = nullptr;          ///< the backward loop's body
  ir::Value *step = nullptr;           ///< its step variable
  std::map<ir::Value *, int> carriedOf; ///< forward result C_i -> carried i
  std::map<ir::Value *, int> capturedOf; ///< outside value -> carried accumulator
  std::vector<ir::CarriedInfo> carried;
  std::vector<ir::Value *> slices;      ///< yield operands, in order
  std::vector<ir::YieldInfo> yields;
  std::set<const ir::Value *> inside;   ///< values defined in the body
};

class Differentiator {
public:
  Differentiator(ir::Graph &g, ir::Builder &b) : g_(g), B(b) {}

  /// Reverse sweep over `r`'s ops (from last to first).
  void sweep(ir::Region &r);
  /// Adds a contribution to v's adjoint (no-op when v needs no gradient).
  void accumulate(ir::Value *v, ir::Value *contribution);
  ir::Value *adjoint(ir::Value *v) const {
    auto it = adj_.find(v);
    return it == adj_.end() ? nullptr : it->second;
  }
  /// Marks the values of `r` that depend on `seeds` (forward propagation).
  void markNeeds(const ir::Region &r);
  bool needs(const ir::Value *v) const { return needs_.count(v) > 0; }
  void seed(const ir::Value *v) { needs_.insert(v); }

  // GradRules.cpp
  void rule(ir::Op &op, const std::vector<ir::Value *> &gs);
  // GradRecurrence.cpp
  void recurrenceRule(ir::Op &op, const std::vector<ir::Value *> &gs);

  /// Sums a rank-0 operand's share of a broadcast contribution.
  ir::Value *fitTo(ir::Value *contribution, const ir::Value *v);
  /// Inside a backward loop, a contribution to a value defined outside its
  /// body goes into the loop's accumulators; returns true when it did.
  bool routeToLoop(ir::Value *v, ir::Value *contribution);

  ir::Graph &g_;
  ir::Builder &B;
  std::map<const ir::Value *, ir::Value *> adj_;
  /// Adjoints that are zero wherever a where() did not select their branch:
  /// rules whose derivative can be infinite there (log at 0, exp of a huge
  /// value) select 0 where the adjoint is 0, so no 0·inf = NaN escapes.
  std::set<const ir::Value *> masked_;
  std::set<const ir::Value *> needs_;
  std::vector<LoopFrame> loops_;
};

/// Rewrites a contraction with an output map into a plain one when the map
/// can be inverted by a change of loop variables (the transposed
/// convolution); returns the (possibly new) result value.
ir::Value *simplifyContract(ir::Builder &b, ir::Value *v);

} // namespace gradc::passes
