//===- passes/DeadCode.cpp - Removing ops whose results nothing uses -------===//
//
// Algorithm: mark the roots (graph outputs, loss, metrics, updates,
// gradients); walk ops from last to first in each region, marking an op
// live when one of its results is live, then its operands, symbols and, for
// a recurrence, everything its body uses (the yield is the body's root).
// Leaves stay: they are the graph's interface. Unmarked ops are erased.
//
//===----------------------------------------------------------------------===//
#include "passes/DeadCode.h"

#include <set>

namespace gradc::passes {

using namespace ir;

namespace {

struct Marker {
  std::set<const Value *> live;

  void markRegion(const Region &r) {
    for (auto it = r.ops.rbegin(); it != r.ops.rend(); ++it) {
      const Op &op = **it;
      bool isLive = op.kind == OpKind::Yield || opClassOf(op.kind) == OpClass::Leaf;
      for (Value *v : op.results)
        isLive = isLive || live.count(v);
      if (!isLive)
        continue;
      for (Value *v : op.results)
        live.insert(v);
      for (Value *v : op.operands)
        live.insert(v);
      for (Value *v : op.symbols)
        live.insert(v);
      if (op.body)
        markRegion(*op.body);
    }
  }
};

int sweepRegion(Region &r, const std::set<const Value *> &live) {
  int removed = 0;
  std::vector<std::unique_ptr<Op>> kept;
  for (auto &op : r.ops) {
    bool keep = op->kind == OpKind::Yield || opClassOf(op->kind) == OpClass::Leaf;
    for (Value *v : op->results)
      keep = keep || live.count(v);
    if (!keep) {
      ++removed;
      continue;
    }
    if (op->body)
      removed += sweepRegion(*op->body, live);
    kept.push_back(std::move(op));
  }
  r.ops = std::move(kept);
  return removed;
}

} // namespace

int eliminateDeadCode(Graph &g) {
  Marker m;
  for (auto &o : g.outputs)
    m.live.insert(o.value);
  if (g.loss.value)
    m.live.insert(g.loss.value);
  for (auto &mt : g.metrics)
    m.live.insert(mt.value);
  for (auto &u : g.updates) {
    m.live.insert(u.state);
    m.live.insert(u.value);
  }
  for (auto &gr : g.gradients)
    m.live.insert(gr.value);
  // A body's liveness can depend on values marked later in an enclosing
  // region only through its operands, which are marked with the op; one
  // backward walk per region suffices.
  m.markRegion(g.top);
  return sweepRegion(g.top, m.live);
}

} // namespace gradc::passes
