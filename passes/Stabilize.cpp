//===- passes/Stabilize.cpp - Numerically stable forms of common expressions -===//
//
// Each rewrite matches a `log` op and the op producing its operand, builds
// the stable form right after the log, and redirects the log's uses to it.
// softplus is computed stably by every backend (log1p(exp(-|x|)) + max(x, 0)),
// so -softplus(-x) = log σ(x) holds for any x, where log(σ(x)) gives -inf
// once σ(x) underflows and its gradient 1 - σ(x) loses its precision.
//
//===----------------------------------------------------------------------===//
#include "passes/Stabilize.h"

#include "ir/Builder.h"
#include "ir/Rewrite.h"

namespace gradc::passes {

using namespace ir;

static bool isConstant(const Value *v, double c) {
  return v->def && v->def->kind == OpKind::Constant && v->type.rank() == 0 && v->def->value == c;
}

static int stabilizeRegion(Graph &g, Builder &B, Region &r) {
  int count = 0;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    Op &op = *r.ops[i];
    if (op.body)
      count += stabilizeRegion(g, B, *op.body);
    if (op.kind != OpKind::Log)
      continue;
    Value *x = op.operand(0);
    Op *d = x->def;
    if (!d)
      continue;
    B.setInsertionPoint(&r, i + 1);
    B.setLoc(op.loc);
    Value *stable = nullptr;
    if (d->kind == OpKind::Sigmoid) {
      // log σ(x) = -softplus(-x)
      stable = B.unary(OpKind::Neg,
                       B.unary(OpKind::Softplus, B.unary(OpKind::Neg, d->operand(0))));
    } else if (d->kind == OpKind::Sub && isConstant(d->operand(0), 1) && d->operand(1)->def &&
               d->operand(1)->def->kind == OpKind::Sigmoid) {
      // log(1 - σ(x)) = log σ(-x) = -softplus(x)
      stable = B.unary(OpKind::Neg, B.unary(OpKind::Softplus, d->operand(1)->def->operand(0)));
    } else if (d->kind == OpKind::Softmax) {
      stable = B.normalize(OpKind::LogSoftmax, d->operand(0), d->axes);
    } else if (d->kind == OpKind::ReduceSum && d->operand(0)->def &&
               d->operand(0)->def->kind == OpKind::Exp) {
      stable = B.reduce(OpKind::LogSumExp, d->operand(0)->def->operand(0), d->axes);
    }
    if (!stable)
      continue;
    std::string name = op.result()->name;
    replaceAllUses(g, op.result(), stable);
    B.name(op.result(), name + ".naive");
    B.name(stable, name);
    ++count;
  }
  return count;
}

int stabilize(Graph &g) {
  Builder B(g);
  return stabilizeRegion(g, B, g.top);
}

} // namespace gradc::passes
