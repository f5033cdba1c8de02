//===- frontend/LowerRecurrence.cpp - Recurrences to recurrence ops -------===//
//
// A recurrence group becomes one recurrence op (ir/Graph.h): its tensors are
// carried in storage extended by their boundary positions, initialized with
// the boundary values; the body computes one step's slices in dependency
// order, with nested groups as nested recurrence ops, and yields them.
//
//===----------------------------------------------------------------------===//
#include "frontend/LoweringImpl.h"

#include "support/Assert.h"

namespace gradc::lowering {

/// The extended storage of a recurrence tensor with its boundary values in
/// place: each boundary equation's value, given a unit axis where its
/// position is constant, then shifted into place (other positions read out
/// of bounds, hence 0).
ir::Value *Lowerer::boundaryInit(int tensor, const std::vector<int64_t> &extShape,
                                 const std::vector<int64_t> &shift) {
  const Tensor &T = M.tensors[tensor];
  ir::Value *sum = nullptr;
  for (int b : T.boundaryEqs) {
    const Equation &be = M.equations[b];
    ir::Value *v = lowerEquation(be);
    B.setLoc(be.loc);
    std::vector<int64_t> unitShape;
    ir::IndexMap toUnit(v->type.rank());
    int k = 0;
    for (size_t p = 0; p < be.lhs.size(); ++p) {
      if (be.lhs[p].var >= 0) {
        toUnit[k++].pos = ir::Affine::var(static_cast<int>(p));
        unitShape.push_back(be.vars[be.lhs[p].var].size);
      } else {
        unitShape.push_back(1);
      }
    }
    ir::Value *unit = B.remap(v, toUnit, unitShape);
    ir::IndexMap place(extShape.size());
    for (size_t p = 0; p < extShape.size(); ++p) {
      int64_t off = shift[p] + (be.lhs[p].var >= 0 ? 0 : be.lhs[p].constant);
      place[p].pos = ir::Affine{-off, {{static_cast<int>(p), 1}}};
    }
    ir::Value *placed = B.remap(unit, place, extShape);
    sum = sum ? B.binary(ir::OpKind::Add, sum, placed) : placed;
  }
  if (!sum)
    sum = B.constant(0.0, extShape, T.isInt ? ir::DType::I32 : ir::DType::F32);
  return sum;
}

/// Which group tensors the loop must carry (store for every step): those
/// read at another step, read outside the group, or exposed by the model. A
/// tensor read only within its own step (an LSTM's gates) stays a value of
/// the body: backpropagation recomputes it from the carried ones. Groups
/// with nested recurrences keep everything (their boundary values travel in
/// the outer storage).
std::vector<bool> Lowerer::carriedTensors(const RecGroup &g) {
  std::vector<bool> keep(g.tensors.size(), true);
  bool nested = false;
  for (const Unit &u : g.body)
    nested = nested || u.group != nullptr;
  if (!levels.empty() || nested)
    return keep;
  std::set<int> inGroup(g.tensors.begin(), g.tensors.end()), readOutside;
  for (const Equation &e : M.equations)
    if (!inGroup.count(e.tensor))
      forEachRead(*e.rhs, [&](const RExpr &r) { readOutside.insert(r.tensor); });
  if (M.loss)
    readOutside.insert(M.loss->tensor);
  for (auto &mt : M.metrics)
    readOutside.insert(mt.tensor);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor &T = M.tensors[g.tensors[i]];
    int ax = g.axis[i];
    keep[i] = T.extBefore[ax] + T.extAfter[ax] > 0 || readOutside.count(g.tensors[i]) ||
              T.isOutput || !T.boundaryEqs.empty();
  }
  return keep;
}

void Lowerer::lowerGroup(const RecGroup &g) {
  std::vector<bool> keep = carriedTensors(g);
  std::vector<int> kept; // positions in the group of the carried tensors
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (keep[i])
      kept.push_back(static_cast<int>(i));
  std::vector<ir::Value *> inits;
  std::vector<ir::CarriedInfo> carried;
  std::vector<View> carriedViews;
  B.setLoc(g.loc);
  for (int i : kept) {
    int t = g.tensors[i];
    const Tensor &T = M.tensors[t];
    View cv;
    if (levels.empty()) {
      std::vector<int64_t> ext;
      for (size_t a = 0; a < T.shape.size(); ++a)
        ext.push_back(T.shape[a] + T.extBefore[a] + T.extAfter[a]);
      cv.axisMap.resize(T.shape.size());
      for (size_t a = 0; a < T.shape.size(); ++a)
        cv.axisMap[a] = static_cast<int>(a);
      cv.shift = T.extBefore;
      cv.value = boundaryInit(t, ext, cv.shift);
      B.setLoc(g.loc);
    } else {
      // The slice of the enclosing level's carried tensor at its step.
      Level &P = levels.back();
      const View &pv = P.carried.at(t);
      int pAxis = pv.axisMap[P.axisOf.at(t)];
      ir::IndexMap m(pv.value->type.rank());
      std::vector<int64_t> shape;
      int k = 0;
      for (int a = 0; a < pv.value->type.rank(); ++a) {
        if (a == pAxis) {
          m[a].pos = ir::Affine{pv.shift[P.axisOf.at(t)], {{ir::Affine::symbolVar(0), 1}}};
          continue;
        }
        m[a].pos = ir::Affine::var(k++);
        shape.push_back(pv.value->type.shape[a]);
      }
      cv.value = B.remap(pv.value, m, shape, {}, {P.step});
      cv.shift = pv.shift;
      cv.axisMap = pv.axisMap;
      for (auto &am : cv.axisMap)
        if (am == pAxis)
          am = -1;
        else if (am > pAxis)
          --am;
    }
    int ax = g.axis[i];
    carried.push_back({cv.axisMap[ax], cv.shift[ax]});
    inits.push_back(cv.value);
    carriedViews.push_back(cv);
  }
  ir::Op *rec = B.recurrence(inits, carried, g.steps, g.reverse);
  ir::Region *outer = B.region();
  B.setRegion(rec->body.get());
  Level L;
  L.group = &g;
  L.step = rec->body->args[0];
  for (size_t i = 0; i < g.tensors.size(); ++i)
    L.axisOf[g.tensors[i]] = g.axis[i];
  for (size_t c = 0; c < kept.size(); ++c) {
    int t = g.tensors[kept[c]];
    View cv = carriedViews[c];
    cv.value = rec->body->args[c + 1];
    B.name(cv.value, M.tensors[t].name + ".carried");
    L.carried[t] = cv;
  }
  levels.push_back(std::move(L));
  for (const Unit &u : g.body)
    lowerUnit(u);
  std::vector<ir::Value *> slices;
  std::vector<ir::YieldInfo> yields;
  for (size_t c = 0; c < kept.size(); ++c) {
    slices.push_back(levels.back().local.at(g.tensors[kept[c]]).value);
    yields.push_back({static_cast<int>(c), 0, false});
  }
  B.setLoc(g.loc);
  B.yield(slices, yields);
  levels.pop_back();
  B.setRegion(outer);
  for (size_t c = 0; c < kept.size(); ++c) {
    int t = g.tensors[kept[c]];
    View v = carriedViews[c];
    v.value = rec->results[c];
    B.name(v.value, M.tensors[t].name + ".ext");
    if (levels.empty()) {
      top[t] = v;
      // The tensor itself: its storage without the boundary positions.
      const Tensor &T = M.tensors[t];
      ir::IndexMap m(T.shape.size());
      for (size_t a = 0; a < T.shape.size(); ++a)
        m[a].pos = ir::Affine{T.extBefore[a], {{static_cast<int>(a), 1}}};
      ir::Value *plain = B.remap(v.value, m, T.shape);
      B.name(plain, T.name);
      plainValues[t] = plain;
    } else {
      levels.back().local[t] = v;
    }
  }
}

} // namespace gradc::lowering
