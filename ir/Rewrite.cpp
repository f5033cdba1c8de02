//===- ir/Rewrite.cpp - Replacing values throughout a graph ----------------===//
#include "ir/Rewrite.h"

#include <functional>

namespace gradc::ir {

static void forEachOp(Region &r, const std::function<void(Op &)> &f) {
  for (auto &op : r.ops) {
    f(*op);
    if (op->body)
      forEachOp(*op->body, f);
  }
}

void replaceAllUses(Graph &g, Value *from, Value *to) {
  forEachOp(g.top, [&](Op &op) {
    for (Value *&v : op.operands)
      if (v == from)
        v = to;
    for (Value *&v : op.symbols)
      if (v == from)
        v = to;
  });
  forEachGraphUse(g, [&](Value *&v) {
    if (v == from)
      v = to;
  });
}

void forEachGraphUse(Graph &g, const std::function<void(Value *&)> &f) {
  for (auto *list : {&g.outputs, &g.metrics, &g.gradients})
    for (NamedValue &nv : *list)
      f(nv.value);
  if (g.loss.value)
    f(g.loss.value);
  for (StateUpdate &u : g.updates)
    f(u.value);
}

void forEachGraphUse(const Graph &g, const std::function<void(const Value *)> &f) {
  forEachGraphUse(const_cast<Graph &>(g), [&](Value *&v) { f(v); });
}

int countUses(const Graph &g, const Value *v) {
  int n = 0;
  forEachOp(const_cast<Region &>(g.top), [&](Op &op) {
    for (Value *o : op.operands)
      n += o == v;
    for (Value *o : op.symbols)
      n += o == v;
  });
  return n;
}

Builder builderBefore(Graph &g, Op &op) {
  Region *region = op.parent;
  size_t at = 0;
  while (region->ops[at].get() != &op)
    ++at;
  Builder B(g);
  B.setBackward(op.backward);
  B.setLoc(op.loc);
  B.setInsertionPoint(region, at);
  return B;
}

void replaceResult(Graph &g, Builder &B, Op &op, Value *r) {
  std::string name = op.result()->name;
  g.rename(op.result(), name + ".replaced");
  B.name(r, name);
  replaceAllUses(g, op.result(), r);
}

std::vector<Op *> allOps(Region &r) {
  std::vector<Op *> out;
  forEachOp(r, [&](Op &op) { out.push_back(&op); });
  return out;
}

std::vector<const Op *> allOps(const Region &r) {
  std::vector<const Op *> out;
  forEachOp(const_cast<Region &>(r), [&](Op &op) { out.push_back(&op); });
  return out;
}

} // namespace gradc::ir
