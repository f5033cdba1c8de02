//===- codegen/Views.cpp - Remaps read in place instead of copied ----------===//
#include "codegen/Views.h"

#include <functional>
#include <unordered_map>

namespace gradc::codegen {

using ir::OpClass;

namespace {

bool elementwise(const ir::Op &op) {
  OpClass c = op.opClass();
  return c == OpClass::Unary || c == OpClass::Binary || c == OpClass::Ternary;
}

/// A remap a view can stand for: affine positions only (an indirect read can
/// fault, and a fault is reported by the kernel that reads the int tensor).
bool viewable(const ir::Op &op) {
  if (op.kind != ir::OpKind::Remap || op.operands.size() != 1 || op.result()->type.rank() == 0)
    return false;
  for (const ir::AxisIndex &ax : op.maps[0])
    if (ax.isIndirect())
      return false;
  return true;
}

} // namespace

std::unordered_set<const ir::Value *> findViews(const ir::Graph &g) {
  // Candidates, then strike every one with a use that is not an elementwise
  // op's full-shape operand.
  std::unordered_set<const ir::Value *> views;
  std::vector<const ir::Op *> ops;
  std::function<void(const ir::Region &)> collect = [&](const ir::Region &r) {
    for (const auto &op : r.ops) {
      ops.push_back(op.get());
      if (viewable(*op))
        views.insert(op->result());
      if (op->body)
        collect(*op->body);
    }
  };
  collect(g.top);
  for (const ir::Op *op : ops) {
    for (const ir::Value *v : op->operands)
      if (views.count(v) && !(elementwise(*op) && v->type.shape == op->result()->type.shape))
        views.erase(v);
    for (const ir::Value *v : op->symbols)
      views.erase(v);
  }
  for (const auto *list : {&g.outputs, &g.metrics, &g.gradients})
    for (const ir::NamedValue &nv : *list)
      views.erase(nv.value);
  views.erase(g.loss.value);
  for (const ir::StateUpdate &u : g.updates)
    views.erase(u.value);
  return views;
}

} // namespace gradc::codegen
