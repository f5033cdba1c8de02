//===- passes/GradRecurrence.cpp - Backpropagation through time -----------===//
//
// Algorithm, for a forward recurrence R with carried tensors C_i (their
// final, extended values) and the adjoints g_i of C_i:
//  1. A reversed recurrence BR carries G_i (initially g_i, same axis and
//     offset as C_i) and, for every value V from outside R's body that
//     needs a gradient (W, x, ...), an accumulator A_V carried whole.
//  2. BR's body recomputes R's body for step t from the saved C_i (they
//     hold every step, so reads of earlier steps see what R saw).
//  3. R's yield wrote slice s_j at t + offset + delta: its adjoint is that
//     slice of G_i, after which the position is zeroed (the value written
//     replaced what was there before, which gets no gradient from it).
//  4. The recomputed body is swept in reverse with the ordinary rules.
//     Contributions to the C_i (reads of other steps) accumulate into G_i:
//     as a slice at t + k when the read position is t + k, else whole;
//     contributions to outside values accumulate into their A_V.
//  5. After the loop, G_i is the adjoint of R's initial tensors (its
//     boundary positions: gradients flow into h0), A_V that of V.
// Nested recurrences need nothing special: the inner one sits in the
// recomputed body and is reversed by the same rule during step 4.
//
//===----------------------------------------------------------------------===//
#include "passes/AutodiffImpl.h"

#include "support/Assert.h"

#include <algorithm>

namespace gradc::passes {

using namespace ir;

std::vector<Value *> capturedBy(const Op &rec);

namespace {

bool definedIn(const Value *v, const Region *r) {
  return v->def ? v->def->parent == r : v->owner == r;
}

/// Drops symbols no map refers to, renumbering the others.
void pruneSymbols(std::vector<IndexMap *> maps, std::vector<Value *> &symbols) {
  std::vector<int> used(symbols.size(), 0);
  auto visit = [&](Affine &a, bool renumber, const std::vector<int> &to) {
    for (auto &[v, c] : a.terms)
      if (v < 0) {
        if (renumber)
          v = Affine::symbolVar(to[-v - 1]);
        else
          used[-v - 1] = 1;
      }
  };
  std::vector<int> to(symbols.size(), -1);
  for (int pass = 0; pass < 2; ++pass) {
    for (IndexMap *m : maps)
      for (AxisIndex &ax : *m) {
        visit(ax.pos, pass == 1, to);
        for (Affine &a : ax.indirectAt)
          visit(a, pass == 1, to);
      }
    if (pass == 0) {
      std::vector<Value *> kept;
      for (size_t i = 0; i < symbols.size(); ++i)
        if (used[i]) {
          to[i] = static_cast<int>(kept.size());
          kept.push_back(symbols[i]);
        }
      symbols = kept;
    }
  }
}

} // namespace

/// When `c` accumulates into position `step + k` along `axis` (a scatter or
/// a contraction with an output map whose entry there is exactly that),
/// rebuilds it without the axis: the slice at t + k. Returns null otherwise.
static Value *sliceOf(Builder &B, Value *c, int axis, Value *step, int64_t &k) {
  Op *d = c->def;
  if (!d || axis < 0)
    return nullptr;
  IndexMap *target = d->kind == OpKind::ScatterAdd ? &d->maps[0]
                     : (d->kind == OpKind::Contract && !d->outMap.empty()) ? &d->outMap
                                                                            : nullptr;
  if (!target)
    return nullptr;
  const AxisIndex &ax = (*target)[axis];
  if (ax.isIndirect() || ax.pos.terms.size() != 1 || ax.pos.terms[0].second != 1 ||
      ax.pos.terms[0].first >= 0 || d->symbols[-ax.pos.terms[0].first - 1] != step)
    return nullptr;
  k = ax.pos.constant;
  IndexMap out = *target;
  out.erase(out.begin() + axis);
  std::vector<int64_t> shape = c->type.shape;
  shape.erase(shape.begin() + axis);
  std::vector<Value *> symbols = d->symbols;
  if (d->kind == OpKind::ScatterAdd) {
    pruneSymbols({&out}, symbols);
    std::vector<Value *> ind(d->operands.begin() + 1, d->operands.end());
    if (ind.empty() && symbols.empty() && out == identityMap(static_cast<int>(out.size())) &&
        shape == d->operands[0]->type.shape)
      return d->operands[0]; // scattering onto the same positions: the value itself
    return B.scatterAdd(d->operands[0], out, shape, ind, symbols);
  }
  std::vector<IndexMap> maps = d->maps;
  std::vector<IndexMap *> all{&out};
  for (auto &m : maps)
    all.push_back(&m);
  pruneSymbols(all, symbols);
  Value *r = B.contractInto(d->operands, maps, out, shape, d->reductionSizes, symbols);
  return simplifyContract(B, r);
}

bool Differentiator::routeToLoop(Value *v, Value *c) {
  if (loops_.empty())
    return false;
  LoopFrame &F = loops_.back();
  if (definedIn(v, F.body))
    return false;
  auto ci = F.carriedOf.find(v);
  if (ci != F.carriedOf.end()) {
    const CarriedInfo &info = F.carried[ci->second];
    int64_t k = 0;
    if (Value *slice = sliceOf(B, c, info.axis, F.step, k)) {
      F.slices.push_back(slice);
      F.yields.push_back({ci->second, k - info.offset, true, false});
    } else {
      F.slices.push_back(c);
      F.yields.push_back({ci->second, 0, true, true});
    }
    return true;
  }
  auto cc = F.capturedOf.find(v);
  GRADC_ASSERT(cc != F.capturedOf.end(),
               "a backward loop contributes to %" + v->name + ", which it did not capture");
  F.slices.push_back(c);
  F.yields.push_back({cc->second, 0, true, true});
  return true;
}

void Differentiator::recurrenceRule(Op &R, const std::vector<Value *> &gs) {
  for (auto &op : R.body->ops)
    if (op->kind == OpKind::Yield)
      for (auto &y : op->yields)
        GRADC_ASSERT(!y.whole && !y.accumulate,
                     "differentiating a recurrence that accumulates (a backward loop)");
  std::vector<Value *> captured;
  for (Value *v : capturedBy(R))
    if (needs(v) && v->type.dtype == DType::F32)
      captured.push_back(v);
  size_t nc = R.results.size();

  // 1. The reversed recurrence and its carried gradients.
  std::vector<Value *> inits;
  std::vector<CarriedInfo> carried;
  for (size_t i = 0; i < nc; ++i) {
    inits.push_back(gs[i] ? gs[i] : B.constant(0.0, R.results[i]->type.shape));
    carried.push_back(R.carried[i]);
  }
  for (Value *v : captured) {
    inits.push_back(B.constant(0.0, v->type.shape));
    carried.push_back({-1, 0});
  }
  Op *BR = B.recurrence(inits, carried, R.steps, !R.reverse);
  for (size_t i = 0; i < nc; ++i)
    B.name(BR->body->args[i + 1], "grad." + R.results[i]->name + ".carried");
  for (size_t k = 0; k < captured.size(); ++k)
    B.name(BR->body->args[nc + k + 1], "grad." + captured[k]->name + ".sum");
  Region *outer = B.region();
  B.setRegion(BR->body.get());

  LoopFrame F;
  F.body = BR->body.get();
  F.step = BR->body->args[0];
  F.carried = carried;
  for (size_t i = 0; i < nc; ++i)
    F.carriedOf[R.results[i]] = static_cast<int>(i);
  for (size_t k = 0; k < captured.size(); ++k)
    F.capturedOf[captured[k]] = static_cast<int>(nc + k);

  // 2. Recompute the step from the saved carried tensors.
  std::map<const Value *, Value *> vmap;
  vmap[R.body->args[0]] = F.step;
  for (size_t i = 0; i < nc; ++i)
    vmap[R.body->args[i + 1]] = R.results[i];
  Op *fy = nullptr;
  for (auto &op : R.body->ops) {
    if (op->kind == OpKind::Yield) {
      fy = op.get();
      continue;
    }
    B.clone(*op, vmap);
  }
  GRADC_ASSERT(fy, "a recurrence body without a yield");
  markNeeds(*BR->body);
  loops_.push_back(F);

  // 3. The adjoint of each slice written: that slice of G_i, then zeroed.
  for (size_t j = 0; j < fy->operands.size(); ++j) {
    const YieldInfo &yi = fy->yields[j];
    const CarriedInfo &ci = R.carried[yi.carried];
    Value *G = BR->body->args[yi.carried + 1];
    IndexMap map;
    std::vector<int64_t> shape;
    int k = 0;
    for (int a = 0; a < G->type.rank(); ++a) {
      if (a == ci.axis) {
        map.push_back({Affine{ci.offset + yi.delta, {{Affine::symbolVar(0), 1}}}, -1, {}});
      } else {
        map.push_back({Affine::var(k++), -1, {}});
        shape.push_back(G->type.shape[a]);
      }
    }
    Value *s = vmap.at(fy->operands[j]);
    Value *slice = B.remap(G, map, shape, {}, {F.step});
    if (needs(s))
      accumulate(s, slice);
    loops_.back().slices.push_back(B.constant(0.0, shape));
    loops_.back().yields.push_back({yi.carried, yi.delta, false, false});
  }

  // 4. Sweep the recomputed step in reverse.
  sweep(*BR->body);
  LoopFrame done = std::move(loops_.back());
  loops_.pop_back();
  B.setLoc(R.loc);
  B.yield(done.slices, done.yields);
  B.setRegion(outer);

  // 5. Gradients of the initial tensors and of the captured values.
  for (size_t i = 0; i < nc; ++i)
    if (needs(R.operands[i]))
      accumulate(R.operands[i], BR->results[i]);
  for (size_t k = 0; k < captured.size(); ++k)
    accumulate(captured[k], BR->results[nc + k]);
}

} // namespace gradc::passes
