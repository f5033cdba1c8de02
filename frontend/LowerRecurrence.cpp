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
    sum = B.constant(0.0, extShape);
  return sum;
}

void Lowerer::lowerGroup(const RecGroup &g) {
  std::vector<ir::Value *> inits;
  std::vector<ir::CarriedInfo> carried;
  std::vector<View> carriedViews;
  B.setLoc(g.loc);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
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
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    L.axisOf[g.tensors[i]] = g.axis[i];
    View cv = carriedViews[i];
    cv.value = rec->body->args[i + 1];
    B.name(cv.value, M.tensors[g.tensors[i]].name + ".carried");
    L.carried[g.tensors[i]] = cv;
  }
  levels.push_back(std::move(L));
  for (const Unit &u : g.body)
    lowerUnit(u);
  std::vector<ir::Value *> slices;
  std::vector<ir::YieldInfo> yields;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    slices.push_back(levels.back().local.at(g.tensors[i]).value);
    yields.push_back({static_cast<int>(i), 0, false});
  }
  B.setLoc(g.loc);
  B.yield(slices, yields);
  levels.pop_back();
  B.setRegion(outer);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    int t = g.tensors[i];
    View v = carriedViews[i];
    v.value = rec->results[i];
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
