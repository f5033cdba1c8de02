//===- passes/Autodiff.cpp - Reverse-mode differentiation of a graph ------===//
//
// Algorithm (the micrograd loop, over IR ops):
//  1. Mark the values that depend on what we differentiate for (parameters,
//     f32 inputs): only they get adjoints, so no gradient code is built for
//     values that cannot reach them.
//  2. The loss's adjoint is 1. Walk the forward ops in reverse order; for an
//     op whose results have adjoints, its rule (GradRules.cpp) adds
//     contributions to its operands' adjoints. A recurrence becomes a
//     reversed recurrence (GradRecurrence.cpp).
//  3. The adjoints of the parameters (and inputs) are the gradients,
//     listed in the graph as grad.NAME.
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff.h"
#include "passes/AutodiffImpl.h"

#include "support/Assert.h"

#include <cctype>
#include <functional>

namespace gradc::passes {

using namespace ir;

static bool cutsGradient(OpKind k) {
  return k == OpKind::StopGrad || k == OpKind::ArgMax || isComparison(k) ||
         k == OpKind::Iota || k == OpKind::Constant || k == OpKind::Noise ||
         k == OpKind::State || k == OpKind::Input || k == OpKind::Param;
}

/// Values used inside `r` (at any depth) that are defined outside it.
static void capturedValues(const Region &r, std::set<const Value *> &defined,
                           std::vector<Value *> &out) {
  for (Value *a : r.args)
    defined.insert(a);
  for (auto &op : r.ops) {
    for (Value *v : op->operands)
      if (!defined.count(v) && std::find(out.begin(), out.end(), v) == out.end())
        out.push_back(v);
    if (op->body)
      capturedValues(*op->body, defined, out);
    for (Value *v : op->results)
      defined.insert(v);
  }
}

std::vector<Value *> capturedBy(const Op &rec) {
  std::set<const Value *> defined;
  std::vector<Value *> out;
  capturedValues(*rec.body, defined, out);
  return out;
}

void Differentiator::markNeeds(const Region &r) {
  for (auto &op : r.ops) {
    if (cutsGradient(op->kind) || op->kind == OpKind::Yield)
      continue;
    bool any = false;
    int nOperands = op->kind == OpKind::Remap || op->kind == OpKind::ScatterAdd
                        ? 1 // the others are int indices
                        : static_cast<int>(op->operands.size());
    for (int i = 0; i < nOperands; ++i)
      any = any || needs(op->operands[i]);
    if (op->kind == OpKind::Where)
      any = needs(op->operands[1]) || needs(op->operands[2]);
    if (op->body)
      for (Value *v : capturedBy(*op))
        any = any || needs(v);
    if (any)
      for (Value *v : op->results)
        if (v->type.dtype == DType::F32)
          needs_.insert(v);
  }
}

Value *Differentiator::fitTo(Value *c, const Value *v) {
  if (v->type.rank() == 0 && c->type.rank() > 0) {
    std::vector<int> all;
    for (int i = 0; i < c->type.rank(); ++i)
      all.push_back(i);
    c = B.reduce(OpKind::ReduceSum, c, all);
  }
  GRADC_ASSERT(c->type == v->type, "adjoint of %" + v->name + " has type " + c->type.str() +
                                       ", not " + v->type.str());
  return c;
}

void Differentiator::accumulate(Value *v, Value *c) {
  if (!needs(v))
    return;
  c = fitTo(c, v);
  if (routeToLoop(v, c))
    return;
  auto it = adj_.find(v);
  bool masked = masked_.count(c) > 0;
  if (it == adj_.end()) {
    adj_[v] = c;
  } else {
    masked = masked || masked_.count(it->second);
    it->second = B.binary(OpKind::Add, it->second, c);
  }
  if (masked)
    masked_.insert(adj_[v]);
}

static bool isTempName(const std::string &n) {
  return !n.empty() && std::isdigit(static_cast<unsigned char>(n[0]));
}

void Differentiator::sweep(Region &r) {
  std::vector<Op *> forward;
  for (auto &op : r.ops)
    forward.push_back(op.get());
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    Op &op = **it;
    if (op.kind == OpKind::Yield)
      continue;
    std::vector<Value *> gs;
    bool any = false;
    for (Value *v : op.results) {
      Value *a = adjoint(v);
      gs.push_back(a);
      any = any || a;
      // A finished adjoint reads as the gradient of its value.
      if (a && isTempName(a->name) && !isTempName(v->name))
        B.name(a, "grad." + v->name);
    }
    if (!any)
      continue;
    B.setLoc(op.loc);
    rule(op, gs);
  }
}

int64_t savedBytes(const Graph &g) {
  std::set<const Value *> saved;
  std::function<void(const Region &)> visit = [&](const Region &r) {
    for (auto &op : r.ops) {
      if (op->backward)
        for (Value *v : op->operands)
          if (v->def && !v->def->backward && opClassOf(v->def->kind) != OpClass::Leaf)
            saved.insert(v);
      if (op->body)
        visit(*op->body);
    }
  };
  visit(g.top);
  int64_t bytes = 0;
  for (const Value *v : saved)
    if (v->def->parent == &g.top) // values of a forward body live one step only
      bytes += 4 * v->type.numElements();
  return bytes;
}

void differentiate(Graph &g, const AutodiffOptions &opts) {
  GRADC_ASSERT(g.loss.value, "differentiate() needs a minimized scalar");
  Builder B(g);
  B.setBackward(true);
  Differentiator D(g, B);
  std::vector<Op *> wrt;
  for (auto &op : g.top.ops)
    if (op->kind == OpKind::Param ||
        (opts.inputs && op->kind == OpKind::Input && op->result()->type.dtype == DType::F32)) {
      wrt.push_back(op.get());
      D.seed(op->result());
    }
  D.markNeeds(g.top);
  B.setLoc(g.loss.loc);
  if (D.needs(g.loss.value))
    D.accumulate(g.loss.value, B.constant(1.0));
  D.sweep(g.top);
  for (Op *leaf : wrt) {
    Value *a = D.adjoint(leaf->result());
    B.setLoc(leaf->loc);
    if (!a) // the loss does not depend on it
      a = B.constant(0.0, leaf->result()->type.shape);
    B.name(a, "grad." + leaf->name);
    g.gradients.push_back({"grad." + leaf->name, a, leaf->loc});
  }
}

} // namespace gradc::passes
